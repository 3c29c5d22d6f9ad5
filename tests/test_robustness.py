"""Fuzzing of the input normaliser, determinism across processes, the catalogue doc."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sklstm import LSTMClassifier, LSTMRegressor

FAST = dict(hidden_size=3, max_epochs=1, batch_size=64, random_state=0)
DOCS = Path(__file__).parent.parent / "docs" / "errors.md"

# -- fuzzing ------------------------------------------------------------------------

values = st.one_of(
    st.floats(-10, 10, width=32),
    st.floats(-10, 10, width=32),
    st.floats(-10, 10, width=32),
    st.sampled_from([np.nan, np.inf, -np.inf, 3e38, 0.0]),
)


@st.composite
def inputs(draw):
    """Arrays of 1 to 5 dimensions, several dtypes, NaN patterns, ragged lists."""
    kind = draw(st.sampled_from(["array", "nan-steps", "ragged", "ints", "odd-dtype"]))
    n = draw(st.integers(0, 6) | st.integers(2, 6))
    if kind == "ragged":
        channels = draw(st.integers(1, 3))
        X = [
            draw(
                arrays(np.float64, (draw(st.integers(0, 5)), channels), elements=values)
            )
            for _ in range(n)
        ]
        return X, n
    ndim = draw(st.sampled_from([1, 2, 2, 3, 3, 3, 4, 5]))
    smallest = draw(st.sampled_from([0, 1, 1, 1]))  # mostly non-empty dimensions
    sizes = st.lists(st.integers(smallest, 4), min_size=ndim - 1, max_size=ndim - 1)
    shape = (n, *draw(sizes))
    if kind == "ints":
        return draw(arrays(np.int64, shape, elements=st.integers(-3, 3))), n
    if kind == "odd-dtype":
        dtype = draw(st.sampled_from([np.bool_, np.complex64, np.dtype("U2"), object]))
        return np.zeros(shape, dtype=dtype), n
    X = draw(arrays(np.float32, shape, elements=values))
    if kind == "nan-steps" and X.ndim >= 2 and X.size:
        X[:, : draw(st.integers(0, X.shape[1]))] = np.nan  # leading padding, maybe all
    return X, n


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=inputs(), classifier=st.booleans())
def test_any_input_fits_or_gets_a_documented_error(data, classifier):
    """Check that every input either trains and predicts finite numbers or raises
    ValueError/TypeError with a message, never a torch traceback or a NaN."""
    X, n = data
    y = np.arange(n) % 2 if classifier else np.linspace(0, 1, n)
    est = (LSTMClassifier if classifier else LSTMRegressor)(**FAST)
    try:
        est.fit(X, y)
    except (ValueError, TypeError) as error:
        message = str(error)
        event(f"refused: {type(error).__name__}")
        assert len(message) > 20, message
        # raised by sklstm's or scikit-learn's checks, not deep in torch or numpy
        frame = error.__traceback__
        while frame.tb_next is not None:
            frame = frame.tb_next
        origin = frame.tb_frame.f_code.co_filename
        # the package's own folder: a virtual environment may live under .../torch/
        assert not re.search(r"site-packages/(torch|numpy)/", origin), (message, origin)
        return
    event("fitted")
    out = est.predict_proba(X) if classifier else est.predict(X)
    assert len(out) == n and np.isfinite(out).all()


# -- determinism across processes --------------------------------------------------

SCRIPT = """
import hashlib, numpy as np
from sklstm import LSTMRegressor
rng = np.random.default_rng(1)
X = rng.normal(size=(64, 8, 2)); y = X[:, -1, 0] + X[:, 0, 1]
reg = LSTMRegressor(8, dropout=0.0, max_epochs=5, random_state=42).fit(X, y)
print(hashlib.sha256(reg.predict(X).tobytes()).hexdigest())
"""


def test_same_random_state_same_predictions_across_processes():
    """Check that two fresh processes with the same random_state agree bitwise."""
    runs = [
        subprocess.run(
            [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120
        )
        for _ in range(2)
    ]
    for run in runs:
        assert run.returncode == 0, run.stderr
    assert runs[0].stdout == runs[1].stdout and len(runs[0].stdout.strip()) == 64


# -- the catalogue in the docs ------------------------------------------------------


def test_every_catalogued_error_is_documented():
    """Check that docs/errors.md lists each row of the catalogue test."""
    from test_inputs import BAD_FIT

    text = DOCS.read_text()
    for name, *_ in BAD_FIT:
        assert f"| {name} |" in text, f"{name!r} is missing from docs/errors.md"
    rows = re.findall(r"^\| [^|-][^|]* \|", text, flags=re.M)
    assert len(rows) >= len(BAD_FIT) + 8  # and the rows tested elsewhere
