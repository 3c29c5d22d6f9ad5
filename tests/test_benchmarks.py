"""The benchmarks run in a smoke mode (tiny sizes) so that they never rot."""

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parent.parent / "benchmarks"


def _run(script, *args):
    out = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_windows_benchmark_smoke():
    """Check that the windows benchmark runs at tiny sizes and reports memory rises."""
    out = _run("windows.py", "--rows", "3000", "--window", "10", "--epochs", "2")
    assert "2 epochs" in out
    assert "SequenceWindower: peak rise" in out
    assert out.count("beyond bare torch") == 2
    assert "inside sklstm's heap pad" in out and out.count("beyond it in the pad") == 2


def test_variable_length_benchmark_smoke():
    """Check that the variable-length benchmark runs and prints two median ratios."""
    out = _run(
        "variable_length.py", "--samples", "40", "--epochs", "1", "--repeats", "2"
    )
    assert out.count("ratio") == 2
    assert out.count("median of 2 pairs") == 2


def test_vs_torch_benchmark_smoke():
    """Check that the bare-torch comparison runs the chosen cases in both its tables."""
    out = _run("vs_torch.py", "--smoke", "--repeats", "1", "--only", "1", "5")
    assert "1 forecasting" in out and "5 variable length" in out
    assert out.count("5 variable length") == 2  # the fit table and the one-sample one


def test_gpu_benchmark_smoke():
    """Check that the GPU benchmark runs at tiny sizes on the CPU, copying nothing."""
    out = _run(
        "gpu.py", "--device", "cpu", "--smoke", "--repeats", "1", "--epochs", "1"
    )
    assert "sklstm float32, no graphs" in out and "sklstm / bare loop, float32" in out
    assert "host-to-device copies: 0" in out  # nothing travels on the CPU
    assert "LSTM calls (any kernel): 4" in out  # 1,024 windows in batches of 256


def test_startup_benchmark_smoke():
    """Check that the start-up benchmark runs and prints the sklstm / bare ratio."""
    out = _run("startup.py", "--repeats", "1", "--epochs", "1")
    assert "sklstm / bare" in out


def test_search_benchmark_smoke():
    """Check that the parallel search benchmark finds the same best parameters."""
    out = _run("search.py", "--epochs", "1", "--repeats", "1")
    assert "n_jobs=2 warm" in out and "same best parameters: True" in out


def test_accuracy_benchmark_smoke():
    """Check that every mode of the accuracy benchmark runs end to end on tiny data
    (bundled datasets only: a clone without the development panel beside it
    passes too)."""
    common = ("--smoke", "--n-jobs", "1")
    out = _run(
        "accuracy.py", "test", "--datasets", "BasicMotions", "--seeds", "2", *common
    )
    assert "| BasicMotions | " in out and "1-NN DTW" in out and "vote" in out
    out = _run(
        "accuracy.py", "cv", "--datasets", "GunPoint", "--recipes", "default",
        "plain_lstm", "--folds", "2", *common,
    )  # fmt: skip
    assert "mean rank" in out and "plain_lstm" in out
    out = _run(
        "accuracy.py", "forecast", "--seeds", "1", "--recipes", "default", *common
    )
    assert "seasonal naive" in out and "Holt-Winters" in out and "MASE" in out
    out = _run("accuracy.py", "budget", "--seeds", "1", "--recipes", "default", *common)
    assert "fit seconds" in out and "| 20 x 5-10 |" in out


def test_keras_benchmark_skips_cleanly_or_runs():
    """Check that the Keras benchmark either runs or says that it was skipped."""
    out = _run("vs_keras.py", "--smoke", "--only", "1")
    assert "skipped" in out or "1 forecasting" in out


def test_seed_parity_benchmark_smoke():
    """Check that the seed-parity smoke run covers the sine and text tasks."""
    out = _run("seed_parity.py", "--smoke", "--only", "sine", "text")
    assert "sine" in out and "text" in out and "perplexity" in out


def test_heap_benchmark_smoke():
    """Check that the heap benchmark runs in smoke mode or says that it was skipped."""
    out = _run("heap.py", "--smoke")
    assert "skipped" in out or "4 64 10 1" in out


def test_heap_benchmark_pad_sizes_smoke():
    """Check that the heap benchmark given two pad sizes prints one cell per pad."""
    out = _run("heap.py", "--smoke", "--pads", "0", "64")
    if "skipped" not in out:
        row = next(line for line in out.splitlines() if line.startswith("4 64 10 1"))
        assert row.count(" / ") == 2  # one cell per pad


def test_readme_demo_block_is_the_scripts():
    """Check that the README's demo figures sit in the block that
    benchmarks/readme_demo.py writes (regenerated from the current code, with machine
    and date), and that the script's parsing and rewriting do what they say."""
    import importlib.util
    import re

    spec = importlib.util.spec_from_file_location(
        "readme_demo", BENCH / "readme_demo.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    readme = script.README.read_text()
    found = re.search(
        re.escape(script.BEGIN) + "(.*?)" + re.escape(script.END), readme, re.S
    )
    assert found, "README.md lost its demo block"
    assert re.search(
        r"Measured by `benchmarks/readme_demo.py` on \d{4}-\d\d-\d\d: "
        r"[\d.]+ minutes on .+cores",
        found.group(1),
    )
    stdout = "intro\nPreparation: x.\n  MAE\nLSTM 1\nnaive 2\nseasonal naive 3\nWrote"
    lines = script.table_lines(stdout)
    assert lines[0] == "Preparation: x." and lines[-1] == "seasonal naive 3"
    new = script.block(lines, 150.0, "a CPU, 2 cores", "2026-01-02")
    assert "2.5 minutes on a CPU, 2 cores" in new
    rewritten = script.rewrite(f"a\n{script.BEGIN}\nold\n{script.END}\nb", new)
    assert rewritten == f"a\n{new}\nb"


def test_conformal_benchmark_smoke():
    """Check that the conformal coverage benchmark runs on a tiny budget and
    reports coverage for the conformal and quantile LSTMs beside the seasonal-naive
    and ETS references."""
    out = _run("conformal.py", "--smoke", "--seeds", "1")
    pooled = out.split("all test points, coverage 80 % / 95 %:")[1]
    for method in ("conformal", "quantile", "naive", "ets"):
        assert f"{method} 0." in pooled or f"{method} 1." in pooled


def test_forecasting_benchmark_smoke():
    """Check that the forecasting benchmark runs on a tiny budget and reports
    MASE and interval scores for the LSTMs, seasonal naive and ETS, and the
    panel's global and local models."""
    out = _run("forecasting.py", "--smoke")
    for method in ("lstm quantile", "lstm conformal", "seasonal naive", "ETS"):
        assert f"\n{method} " in out
    for method in ("global LSTM", "local LSTM", "ETS per series", "naive (last value)"):
        assert f"\n{method} " in out
    assert "fertility panel: 12 series" in out


def test_latency_benchmark_smoke():
    """Check that the serving-latency benchmark runs sklstm, the bare module,
    onnxruntime and the streaming predictor side by side."""
    import pytest

    pytest.importorskip("onnxruntime")
    out = _run("latency.py", "--smoke")
    assert "sk/bare" in out and len(out.strip().splitlines()) == 6
