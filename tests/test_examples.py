"""Every script in examples/ runs, prints its metric and saves its plot.

Each runs in a fresh process with ``SKLSTM_EXAMPLES_QUICK=1`` (a few epochs on
a smaller sample), so the suite checks that none has rotted, not the accuracy
it reaches at full size (that is in examples/README.md).
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).parent.parent / "examples"
SCRIPTS = sorted(EXAMPLES.glob("[0-9][0-9]_*.py"))

# script: (a line its output must contain, the plot it must save or None)
EXPECTED = {
    "01_stacked_lstm.py": (
        r"test 1921-1987, one step ahead: MSE \d",
        "stacked_lstm_sunspots.png",
    ),
    "02_text_generation.py": (r"held-out perplexity \d+", None),
    "03_forecasting.py": (
        r"airline 1959-1960, one month ahead: MAPE \d",
        "forecast_airline.png",
    ),
    "04_speech_digits.py": (
        r"test accuracy on unheard accents: 0\.\d",
        "speech_digits_confusion.png",
    ),
    "05_bidirectional.py": (
        r"bidirectional: test accuracy 0\.\d",
        "bidirectional_loss.png",
    ),
    "06_attention.py": (r"row sums 1\.000-1\.000", "attention_gunpoint.png"),
    "07_cnn_lstm_video.py": (
        r"direction of motion, test accuracy: [01]\.\d",
        "cnn_lstm_frames.png",
    ),
    "08_pandas_pipeline.py": (
        r"next month: LSTM MAE \d",
        "pandas_pipeline_sunspots.png",
    ),
    "09_hyperparameter_search.py": (r"OptunaSearchCV .*test MSE \d", None),
    "10_evaluation.py": (r"f1_macro\s+[01]\.\d", "evaluation_folds.png"),
    "11_forecasting_toolkit.py": (
        r"panel of \d+ shops, one global model: MASE \d",
        "forecasting_toolkit.png",
    ),
}


def test_every_example_is_listed():
    """Check that a new example cannot slip past the test below."""
    assert [p.name for p in SCRIPTS] == sorted(EXPECTED)
    readme = (EXAMPLES / "README.md").read_text()
    for name in EXPECTED:
        assert name in readme, f"{name} is not in examples/README.md"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_example_runs(script, tmp_path):
    """Check that the example exits cleanly, prints its metric, saves its plot."""
    env = dict(os.environ, SKLSTM_EXAMPLES_QUICK="1", SKLSTM_EXAMPLES_OUT=str(tmp_path))
    env["MPLBACKEND"] = "Agg"
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    pattern, plot = EXPECTED[script.name]
    found = re.search(pattern + ".*", done.stdout)
    assert found, done.stdout
    assert not re.search(r"\bnan\b", found.group(0), re.IGNORECASE), found.group(0)
    if plot is not None:
        assert (tmp_path / plot).stat().st_size > 5000


def test_spoken_digit_features(tmp_path):
    """Check that make_spoken_digits.py's MFCC front end is right on a known signal."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        import make_spoken_digits as digits
    finally:
        sys.path.remove(str(EXAMPLES))
    rate = 16000
    t = np.arange(rate // 2) / rate
    silence = np.zeros(rate // 10)
    tone = np.concatenate([silence, 0.5 * np.sin(2 * np.pi * 440 * t), silence])
    features = digits.mfcc(tone, rate)
    assert features.shape[1] == 13
    # silence trimmed: 0.5 s of tone at a 10 ms hop is about 50 frames, not 70
    assert 45 <= len(features) <= 52
    assert np.isfinite(features).all()
    bank = digits.mel_filters(26, 512, rate)
    assert bank.shape == (26, 257) and (bank.max(axis=1) > 0).all()


FAKE_ESPEAK = """#!{python}
import sys, wave, numpy as np
open({args!r}, "w").write(" ".join(sys.argv[1:]))
t = np.arange(11025) / 22050
samples = (0.5 * np.sin(2 * np.pi * 300 * t) * 32767).astype("<i2")
with wave.open(sys.stdout.buffer, "wb") as f:
    f.setnchannels(1); f.setsampwidth(2); f.setframerate(22050)
    f.writeframes(samples.tobytes())
"""


def test_speak_reads_espeak_ngs_wav(tmp_path, monkeypatch):
    """Check that espeak-ng is called right and the WAV it writes to stdout is read.

    A stand-in espeak-ng on PATH writes a known 0.5 s tone, so this runs where
    espeak-ng is not installed (CI); the real one made data/spoken_digits.npz."""
    sys.path.insert(0, str(EXAMPLES))
    try:
        import make_spoken_digits as digits
    finally:
        sys.path.remove(str(EXAMPLES))
    args = tmp_path / "args.txt"
    fake = tmp_path / "espeak-ng"
    fake.write_text(FAKE_ESPEAK.format(python=sys.executable, args=str(args)))
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert shutil.which("espeak-ng") == str(fake)
    signal, rate = digits.speak("seven", "en-gb+f2", 170, 50)
    assert args.read_text() == "-v en-gb+f2 -s 170 -p 50 --stdout seven"
    assert rate == 22050 and len(signal) == 11025
    assert abs(np.abs(signal).max() - 0.5) < 1e-3  # int16 scaled back to [-1, 1]
    assert 45 <= len(digits.mfcc(signal, rate)) <= 52


def test_shipped_spoken_digits():
    """Check that the committed features hold 10 digits, 7 accents, 13 MFCCs a frame."""
    data = np.load(EXAMPLES / "data" / "spoken_digits.npz")
    assert data["frames"].shape == (data["lengths"].sum(), 13)
    assert np.bincount(data["digit"]).tolist() == [126] * 10
    assert len(set(data["accent"])) == 7
    assert np.isfinite(data["frames"].astype(np.float32)).all()
