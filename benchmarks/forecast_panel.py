"""The forecasting panel: public series that packages ship, a hold-out protocol,
and the seasonal-naive and Holt-Winters references.

Each series is split into a training part and the last ``horizon`` values; a
model sees the training part only and forecasts the whole hold-out from its
end (one origin, ``horizon`` steps). Errors are reported as MASE: mean absolute
error over the seasonal-naive error inside the training part (lag ``season``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Series:
    name: str
    values: np.ndarray
    season: int  # seasonal period (1: none)
    horizon: int  # values held out and forecast
    window: int  # input steps the LSTM reads

    @property
    def train(self) -> np.ndarray:
        return self.values[: -self.horizon]

    @property
    def test(self) -> np.ndarray:
        return self.values[-self.horizon :]


def _statsmodels():
    try:
        import statsmodels.api as sm
    except ImportError as e:  # a benchmark-only dependency
        raise SystemExit(
            "the forecasting panel needs statsmodels (pip install statsmodels)"
        ) from e
    return sm


def panel(smoke: bool = False) -> list[Series]:
    """Airline and yearly sunspots (bundled) and four statsmodels series."""
    from sklstm.datasets import load_airline, load_sunspots

    sm = _statsmodels()
    co2 = sm.datasets.co2.load_pandas().data["co2"]
    co2 = co2.resample("MS").mean().interpolate().to_numpy()  # weekly -> monthly
    elnino = sm.datasets.elnino.load_pandas().data.drop(columns="YEAR")
    macro = sm.datasets.macrodata.load_pandas().data
    nile = sm.datasets.nile.load_pandas().data["volume"].to_numpy(float)
    out = [
        Series("airline", load_airline(), 12, 24, 36),
        Series("sunspots", load_sunspots(), 11, 11, 33),
        Series("co2", co2, 12, 24, 36),
        Series("elnino", elnino.to_numpy(float).ravel(), 12, 24, 36),
        Series("realgdp", macro["realgdp"].to_numpy(float), 4, 8, 12),
        Series("nile", nile, 1, 10, 20),
    ]
    if smoke:
        out = out[:2]
    return out


def mase(forecast, series: Series, end: int) -> float:
    """MASE of a forecast from ``end`` (the values before it seen)."""
    m, seen = series.season, series.values[:end]
    scale = np.mean(np.abs(seen[m:] - seen[:-m]))
    actual = series.values[end : end + series.horizon]
    return float(np.mean(np.abs(np.asarray(forecast) - actual)) / scale)


def seasonal_naive(series: Series, train) -> np.ndarray:
    last = train[-series.season :]
    return np.resize(last, series.horizon)  # the last season, repeated


def holt_winters(series: Series, train) -> np.ndarray:
    """statsmodels' ExponentialSmoothing as a user would write it: damped
    additive trend, seasonal (multiplicative for a positive series) where the
    series has a season."""
    import warnings

    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    _statsmodels()
    y = train
    seasonal = None
    if series.season > 1:
        seasonal = "mul" if np.all(y > 0) else "add"
    model = ExponentialSmoothing(
        y,
        trend="add",
        damped_trend=True,
        seasonal=seasonal,
        seasonal_periods=series.season if seasonal else None,
        initialization_method="estimated",
    )
    with warnings.catch_warnings():  # convergence notes of the optimiser
        warnings.simplefilter("ignore")
        return model.fit().forecast(series.horizon)


# LSTMRegressor parameters of each forecasting recipe ("default": none), and
# how the recipe meets the series: make_windows, SequenceWindower, or the
# ``sklstm forecast`` job's preparation (logs, differences) and pipeline
RECIPES = {
    "default": ("windows", {}),
    "windower": ("windower", {}),
    # the job: the preparation chosen by CV (values, or seasonal log differences)
    "job": ("job", {}),
    "job_values": ("job", {"difference": "none", "log": "no"}),
    "job_seasonal": ("job", {"difference": "seasonal", "log": "auto"}),
    # the first round's defaults: no input scaling, 100 epochs, no schedule
    "first_round": (
        "windows",
        {
            "scaling": None,
            "max_epochs": 100,
            "lr_schedule": None,
            "n_iter_no_change": 10,
        },
    ),
    "global": ("windows", {"scaling": "channel"}),
    "fcn": ("windows", {"fcn_channels": (32, 64, 32)}),
}


def forecast(recipe: str, series: Series, train, seed: int, smoke: bool = False):
    """The recipe's ``series.horizon`` forecasts after the end of ``train``."""
    from sklstm import LSTMRegressor, SequenceWindower, make_windows

    how, params = RECIPES[recipe]
    params = dict(params, random_state=seed)
    if smoke:
        params["max_epochs"] = 2
    h, w = series.horizon, series.window
    if how == "windows":
        X, y = make_windows(train, w, horizon=h)
        model = LSTMRegressor(**params).fit(X, y)
        return model.predict(train[None, -w:, None])[0]
    if how == "windower":
        from numpy.lib.stride_tricks import sliding_window_view
        from sklearn.pipeline import make_pipeline

        table = train[:, None]
        ahead = sliding_window_view(train[1:], h)  # row r: the h values after r
        pipe = make_pipeline(SequenceWindower(w), LSTMRegressor(**params))
        pipe.fit(table[: len(ahead)], ahead)
        return pipe.predict(table)[-1]
    from sklstm.cli.tables import InputError

    try:
        return _job_forecast(series, train, seed, smoke, **params)
    except InputError:  # too short for the job's window, horizon and lag
        return np.full(h, np.nan)


def _job_forecast(series, train, seed, smoke, difference="auto", log="auto", **_):
    """What ``sklstm forecast`` does without a search: with ``difference``
    "auto", choose the preparation by its CV inside ``train`` (3 folds, fewer
    and shorter when ``train`` is too short for them), refit on ``train``,
    forecast."""
    import pandas as pd

    from sklstm.cli import forecasting as fc
    from sklstm.cli.tables import InputError

    data = fc.Series(train, pd.RangeIndex(len(train)), series.name, "y", series.season)
    settings = dict(
        window=series.window,
        horizon=series.horizon,
        season=series.season,
        difference=difference if series.season > 1 else "auto",
        log=log,
        max_epochs=2 if smoke else "auto",
        seed=seed,
    )
    # the job's 3 folds of `horizon` origins, or fewer where `train` is short
    h = series.horizon
    for folds, test_size in ((3, h), (2, h), (2, max(h // 2, 1))):
        try:
            plans = fc.candidate_plans(
                data, folds=folds, test_size=test_size, **settings
            )
            break
        except InputError:
            if test_size != h and folds == 2:
                raise
    params = dict(fc.DEFAULT_PARAMS)
    plan = fc.choose_plan(train, plans, params)[0] if len(plans) > 1 else plans[0]
    _, future = fc.refit_and_forecast(train, plan, params)
    return future
