"""Calibrated prediction intervals for sklstm regressors through MAPIE's
conformal prediction (issue 26: use the well-kept library, test that sklstm
works inside it)."""

import numpy as np
import pytest

mapie = pytest.importorskip("mapie")
from mapie.regression import SplitConformalRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from sklstm import LSTMRegressor, SequenceWindower, make_windows  # noqa: E402

rng = np.random.default_rng(0)
SERIES = np.sin(np.arange(1500) / 8) + 0.3 * rng.normal(size=1500)


def _coverage(y, intervals):
    return [
        float(np.mean((y >= intervals[:, 0, k]) & (y <= intervals[:, 1, k])))
        for k in range(intervals.shape[2])
    ]


def test_split_conformal_intervals_around_an_lstm_cover_what_they_claim():
    """Check that MAPIE's SplitConformalRegressor fits an LSTMRegressor on 3-D
    windows, calibrates on the next ones and gives 80 % and 95 % intervals
    that cover close to that on the most recent windows of a noisy series."""
    X, y = make_windows(SERIES, 16)
    a, b = int(0.6 * len(X)), int(0.8 * len(X))
    conformal = SplitConformalRegressor(
        LSTMRegressor(16, max_epochs=20, random_state=0),
        confidence_level=[0.8, 0.95],
        prefit=False,
    )
    conformal.fit(X[:a], y[:a]).conformalize(X[a:b], y[a:b])
    point, intervals = conformal.predict_interval(X[b:])
    assert point.shape == (len(X) - b,) and intervals.shape == (len(X) - b, 2, 2)
    assert np.all(intervals[:, 0] <= intervals[:, 1])
    assert np.all(intervals[:, 0, 1] <= intervals[:, 0, 0])  # 95 % is wider
    eighty, ninety_five = _coverage(y[b:], intervals)
    assert 0.7 <= eighty <= 0.9 and 0.9 <= ninety_five <= 0.99


def test_a_prefit_windowing_pipeline_is_conformalized():
    """Check that a fitted Pipeline (SequenceWindower then LSTMRegressor) on a
    time-indexed table is calibrated as it is (prefit) and that its intervals
    hold its own point forecasts."""
    table = SERIES[:-1, None]
    target = SERIES[1:]
    pipe = make_pipeline(SequenceWindower(16), LSTMRegressor(16, max_epochs=10))
    pipe.set_params(lstmregressor__random_state=0).fit(table[:900], target[:900])
    conformal = SplitConformalRegressor(pipe, confidence_level=0.9, prefit=True)
    conformal.conformalize(table[900:1200], target[900:1200])
    point, intervals = conformal.predict_interval(table[1200:])
    np.testing.assert_allclose(point, pipe.predict(table[1200:]), rtol=1e-6)
    assert np.all((intervals[:, 0, 0] <= point) & (point <= intervals[:, 1, 0]))
