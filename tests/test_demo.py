import subprocess
import sys

import numpy as np

from sklstm import cli
from sklstm.datasets import (
    load_airline,
    load_basic_motions,
    load_gunpoint,
    load_japanese_vowels,
    load_sunspots,
)


def test_demo_beats_seasonal_naive(tmp_path, capsys):
    """Check that the demo cross-validates, beats seasonal naive and plots."""
    assert cli.main(["demo", "--out", str(tmp_path), "--max-epochs", "5"]) == 0
    out = capsys.readouterr().out
    assert "seasonal naive" in out and "mean" in out
    png = tmp_path / "forecast.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from sklstm._demo import run

    result = run(out_dir=tmp_path, max_epochs=300, echo=lambda *a: None)
    assert result["lstm_mape"] < result["naive_mape"]


def test_module_entry_point_help():
    """Check that python -m sklstm --help works."""
    done = subprocess.run(
        [sys.executable, "-m", "sklstm", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0 and "demo" in done.stdout


def test_dataset_loaders():
    """Check shapes and dtypes of the bundled datasets."""
    assert load_airline().shape == (144,)
    assert list(load_airline(as_frame=True).columns) == ["month", "passengers"]
    assert load_sunspots().shape == (309,)
    assert load_sunspots(frequency="monthly").shape == (3126,)
    X, y = load_gunpoint()
    assert X.shape == (50, 150) and X.dtype == np.float64 and set(y) == {"1", "2"}
    X, y = load_gunpoint(split="test")
    assert X.shape == (150, 150)
    X, y = load_japanese_vowels(split="test")
    assert len(X) == 370 == len(y) and X[0].shape[1] == 12
    assert {len(x) for x in X} <= set(range(7, 30))
    X, y = load_basic_motions(split="test")
    assert X.shape == (40, 100, 6) and X.dtype == np.float64
    assert sorted(set(y)) == ["badminton", "running", "standing", "walking"]
    long = load_basic_motions(as_frame=True)
    first = long[long["series_id"] == 3].sort_values("timestep")
    np.testing.assert_array_equal(load_basic_motions()[0][3], first.filter(like="dim_"))
