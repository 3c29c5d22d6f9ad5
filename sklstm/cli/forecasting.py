"""``sklstm forecast``: cross-validate, tune, compare with baselines, refit, forecast.

The pipeline ``SequenceWindower -> LSTMRegressor`` reads a window of the
series and predicts the next ``horizon`` values at once. The regressor's
default ``scaling="window"`` reads each window relative to its last value and
spread and predicts relative to them, so level and trend need no preparation.
A seasonal series may still forecast better as seasonal differences (of logs
when every value is positive: this year's growth over last year's), so with
``difference="auto"`` both preparations are cross-validated and the one with
the lower CV error is kept; predicted differences are turned back into values.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass

import numpy as np

from .tables import InputError, check_column, numeric_column, read_table

DATASETS = {
    "airline": dict(
        loader="load_airline",
        target="passengers",
        time_col="month",
        season=12,
        window=24,
        horizon=12,
    ),
    "sunspots": dict(
        loader="load_sunspots",
        target="sunspots",
        time_col="year",
        season=11,  # the solar cycle, about 11 years but irregular
        window=30,
        horizon=11,
    ),
}

DEFAULT_PARAMS = {}  # the estimator's defaults
TUNED = ["hidden_size", "num_layers", "lr"]

_PERIODS = {"M": 12, "ME": 12, "MS": 12, "Q": 4, "QE": 4, "QS": 4, "W": 52}
_PERIODS.update({"D": 7, "B": 5, "h": 24, "H": 24, "min": 60, "T": 60})


@dataclass
class Series:
    """The values to forecast, in time order, with their time stamps."""

    values: np.ndarray
    times: object  # a pandas Index (datetimes, numbers or labels)
    source: str
    target: str
    season: int  # guessed from the time stamps; 1 when unknown
    covariates: dict | None = None  # name -> values, in the same order


def load_series(
    csv=None, *, target=None, time_col=None, dataset=None, covariates=()
) -> Series:
    """Read the series from a CSV file or a bundled dataset, checking every step
    (and the numeric ``covariates`` columns, kept in the same order)."""
    import pandas as pd

    if csv is None:
        preset = DATASETS[dataset]
        from .. import datasets

        table = getattr(datasets, preset["loader"])(as_frame=True)
        target = target or preset["target"]
        time_col = time_col or preset["time_col"]
        source = f"the bundled {dataset} dataset"
    else:
        if target is None:
            raise InputError(f"Name the column to forecast with --target COL ({csv}).")
        table = read_table(csv)
        source = str(csv)
    column = check_column(table, target, "--target", source)
    values = numeric_column(column, "target", source)
    extra = {
        name: numeric_column(
            check_column(table, name, "covariate", source), "covariate", source
        )
        for name in covariates
    }
    times, season = pd.RangeIndex(len(table)), 1
    if time_col is not None:
        raw = check_column(table, time_col, "--time-col", source)
        if raw.isna().any():
            row = int(np.flatnonzero(raw.isna().to_numpy())[0])
            raise InputError(
                f"The time column {time_col!r} of {source} is empty in row {row} "
                f"({int(raw.isna().sum())} rows in all); expected a time stamp in "
                "every row."
            )
        times = _parse_times(raw, source)
        if times.has_duplicates:
            dup = times[times.duplicated()][0]
            raise InputError(
                f"The time column {time_col!r} of {source} repeats {label(dup)!r}; "
                "expected "
                "one row per time step (aggregate the rows first)."
            )
        order = np.argsort(times.to_numpy(), kind="stable")
        times, values = times[order], values[order]
        extra = {name: v[order] for name, v in extra.items()}
        season = _season(times)
    if csv is None:
        season = DATASETS[dataset]["season"]
    return Series(values, times, source, str(target), season, extra or None)


def load_panel(csv, *, target, id_col, time_col=None, covariates=(), future=False):
    """A table of one series or (``id_col``) many: ``(history, ahead, season)``.

    ``history`` holds the id, target and covariate columns (checked), each
    series' rows in time order, its index the time stamps (or row numbers).
    With ``future``, rows at the end of a series whose target is empty are
    its forecast steps: ``ahead`` holds them (their covariates), else None.
    """
    import pandas as pd

    if target is None:
        raise InputError(f"Name the column to forecast with --target COL ({csv}).")
    table = read_table(csv)
    source = str(csv)
    frame = pd.DataFrame(index=pd.RangeIndex(len(table)))
    if id_col is not None:
        ids = check_column(table, id_col, "--id-col", source)
        if ids.isna().any():
            row = int(np.flatnonzero(ids.isna().to_numpy())[0])
            raise InputError(
                f"The id column {id_col!r} of {source} is empty in row {row}; "
                "expected a series id in every row."
            )
        frame[id_col] = ids.to_numpy()
    column = check_column(table, target, "--target", source)
    empty = column.isna().to_numpy() if future else np.zeros(len(table), bool)
    frame[target] = np.nan
    frame.loc[~empty, target] = numeric_column(column[~empty], "target", source)
    for name in covariates:
        values = check_column(table, name, "a covariate", source)
        frame[name] = numeric_column(values, "covariate", source)
    season, keys = (
        1,
        (pd.factorize(frame[id_col])[0] if id_col else np.zeros(len(frame), int)),
    )
    if time_col is not None:
        times = _parse_times(
            check_column(table, time_col, "--time-col", source), source
        )
        order = np.lexsort((times.to_numpy(), keys))
        frame, times, keys, empty = (
            frame.iloc[order],
            times[order],
            keys[order],
            empty[order],
        )
        frame.index = times
        first = times[keys == keys[0]]
        season = _season(first) if len(first) >= 3 else 1
    # an empty target is a forecast step only after the series' last value
    later = pd.Series(~empty[::-1]).groupby(keys[::-1]).cummax().to_numpy()[::-1]
    gap = empty & later
    if gap.any():
        row = int(np.flatnonzero(gap)[0])
        raise InputError(
            f"The target column {target!r} of {source} is empty in a row followed "
            f"by values of its series ({frame.index[row]!s}); expected empty targets "
            "only after a series' last value (the steps to forecast); fill gaps first."
        )
    if not empty.any():
        return frame, None, season
    return frame[~empty], frame[empty], season


def _parse_times(raw, source):
    import pandas as pd

    if pd.api.types.is_numeric_dtype(raw):
        return pd.Index(raw.to_numpy())
    try:
        return pd.DatetimeIndex(pd.to_datetime(raw, format="mixed"))
    except (ValueError, TypeError) as e:
        raise InputError(
            f"The time column {raw.name!r} of {source} holds values that are "
            f"neither numbers nor dates ({e}); expected e.g. 2024-01-31 or 1990."
        ) from None


def _frequency(times):
    """pandas' inferred frequency as a string such as "MS" or "D", or None."""
    import pandas as pd

    try:
        with pd.option_context("future.infer_freq_returns_offset", True):
            offset = pd.infer_freq(times)
    except pd.errors.OptionError:  # a pandas before the option: a string already
        return pd.infer_freq(times)
    return None if offset is None else getattr(offset, "freqstr", offset)


def _season(times) -> int:
    """Steps per season from the time stamps' frequency: 12 for months, 7 for days."""
    import pandas as pd

    if not isinstance(times, pd.DatetimeIndex) or len(times) < 3:
        return 1
    freq = _frequency(times)
    if freq is None:
        return 1
    base = freq.split("-")[0].lstrip("0123456789")
    return _PERIODS.get(base, 1)


def uneven(times, name) -> str | None:
    """Why no frequency could be read from the dates ``times`` (of the time
    column ``name``), for a note; None when they have one, or are not dates."""
    import pandas as pd

    if not isinstance(times, pd.DatetimeIndex) or len(times) < 3:
        return None
    if _frequency(times) is not None:
        return None
    steps = np.diff(times.to_numpy()).astype("timedelta64[ns]").astype(np.int64)
    usual = np.median(steps)
    long = np.flatnonzero(steps > 1.5 * usual)
    step = pd.Timedelta(int(usual), unit="ns")
    whole_days = step == pd.Timedelta(days=step.days)
    usual_text = f"{step.days} days" if whole_days else str(step)
    if len(long):
        i = int(long[0])
        what = (
            f"{len(long)} step(s) are longer than the usual {usual_text} (the first "
            f"from {label(times[i])} to {label(times[i + 1])}: dates are missing)"
        )
    else:
        what = f"they follow no regular frequency (the usual step is {usual_text})"
    return (
        f"the dates of {name!r} are not evenly spaced: {what}. The LSTM reads the "
        "rows as consecutive steps and the forecast is labelled +1, +2, ...; fill "
        "in the missing dates first (e.g. reindex and interpolate)"
    )


@dataclass
class Plan:
    """How the series is prepared, windowed, split and scored."""

    window: int
    horizon: int
    season: int
    lag: int  # difference lag: 0 (none), 1 or the season
    log: bool
    folds: int
    test_size: int
    max_epochs: int
    seed: int

    def prepare(self, y):
        """``(z, d)``: the (log) series and its differences at ``lag``."""
        z = np.log(y) if self.log else y.astype(np.float64)
        d = z[self.lag :] - z[: -self.lag] if self.lag else z.copy()
        return z, d

    def invert(self, z_seen, d_hat):
        """Turn predicted differences back into the next ``horizon`` values."""
        z = list(z_seen[-self.lag :]) if self.lag else []
        out = np.empty(len(d_hat))
        for h, step in enumerate(d_hat):
            out[h] = (z[-self.lag] if self.lag else 0.0) + step
            z.append(out[h])
        if not self.log:
            return out
        # a wild prediction comes back inf, which the choice of preparation
        # and the CV scores then show, rather than as a RuntimeWarning
        with np.errstate(over="ignore"):
            return np.exp(out)

    def describe(self) -> str:
        """The preparation in words."""
        if not self.lag:
            return "logs" if self.log else "values as they are"
        return f"{'log, ' if self.log else ''}difference at lag {self.lag}"

    def min_length(self) -> int:
        return (
            self.lag
            + self.horizon
            + self.window
            + self.folds * self.test_size
            + self.horizon
            - 1
        )

    def splitter(self):
        from sklearn.model_selection import TimeSeriesSplit

        # gap: a training target (the next `horizon` values) never reaches
        # into the values a test origin forecasts.
        return TimeSeriesSplit(
            self.folds, test_size=self.test_size, gap=self.horizon - 1
        )


def make_plan(
    series,
    *,
    window,
    horizon,
    season,
    difference,
    log,
    folds,
    test_size,
    max_epochs,
    seed,
) -> Plan:
    """Check the settings against the series and fill in the automatic ones."""
    season = series.season if season is None else season
    if difference == "auto":  # see candidate_plans for the choice by CV
        difference = "none"
    lag = {"none": 0, "first": 1, "seasonal": season}[difference]
    if difference == "seasonal" and season < 2:
        raise InputError(
            "--difference seasonal needs a season of 2 or more steps; the season "
            "is 1 (pass --season S, or a --time-col whose dates show the frequency)."
        )
    positive = bool(np.all(series.values > 0))
    if log == "auto":
        log = positive and lag > 0
    elif log == "yes":
        if not positive:
            raise InputError(
                f"--log yes needs every value of {series.target!r} to be positive; "
                f"the smallest is {series.values.min():g}."
            )
        log = True
    else:
        log = False
    plan = Plan(
        window, horizon, season, lag, log, folds, test_size or horizon, max_epochs, seed
    )
    n = len(series.values)
    if n < plan.min_length():
        diff = f", the difference at lag {lag} uses {lag}" if lag else ""
        raise InputError(
            f"Too few rows: {series.source} has {n} values of {series.target!r}, "
            f"but --window {window}, --horizon {horizon} and --folds {folds} "
            f"(test size {plan.test_size}{diff}) need at least {plan.min_length()}. "
            "Use a shorter window or horizon, or fewer folds."
        )
    return plan


def candidate_plans(series, *, difference, log, **settings) -> list:
    """The plans to choose between by cross-validation: with ``difference``
    "auto" and a season of 2 or more, the values as they are and seasonal (log)
    differences (when the series is long enough for them); else the one plan."""
    plan = make_plan(series, difference=difference, log=log, **settings)
    season = series.season if settings["season"] is None else settings["season"]
    if difference != "auto" or season < 2:
        return [plan]
    try:
        seasonal = make_plan(series, difference="seasonal", log=log, **settings)
    except InputError:  # too short for the seasonal lag: values only
        return [plan]
    return [plan, seasonal]


def choose_plan(y, plans, params, *, bar=None):
    """``(plan, folds, cv_mae)``: the plan whose pipeline has the lowest mean
    CV MAE, its folds, and every candidate's mean MAE by its description."""
    best, cv_mae = None, {}
    for plan in plans:
        folds = cross_validate(y, plan, params, bar=bar)
        mae = float(np.mean([f["lstm"]["mae"] for f in folds]))
        cv_mae[plan.describe()] = mae
        if best is None or mae < best[2]:
            best = (plan, folds, mae)
    return best[0], best[1], cv_mae


# -- the model and its evaluation ------------------------------------------------------


def make_pipeline(plan, params):
    """The pipeline the command fits: window, LSTM (which scales each window)."""
    from sklearn.pipeline import Pipeline

    from .._regressor import LSTMRegressor
    from .._windows import SequenceWindower

    lstm = LSTMRegressor(max_epochs=plan.max_epochs, random_state=plan.seed)
    lstm.set_params(**params)
    return Pipeline(
        [
            ("window", SequenceWindower(plan.window)),
            ("lstm", lstm),
        ]
    )


def _design(plan, d):
    """One row per step of ``d``; targets: the next ``horizon`` differences."""
    from numpy.lib.stride_tricks import sliding_window_view

    targets = sliding_window_view(d[1:], plan.horizon)  # row r: d[r+1 … r+horizon]
    return d[:, None], targets


def scores(actual, forecast, scale):
    """MAE, RMSE, MAPE (percent) and MASE of forecasts, over every origin and step."""
    error = forecast - actual
    mae = float(np.mean(np.abs(error)))
    return {
        "mae": mae,
        "rmse": float(np.sqrt(np.mean(error**2))),
        "mape": (
            float(100 * np.mean(np.abs(error) / np.abs(actual)))
            if np.all(actual != 0)
            else None  # undefined where the series is 0
        ),
        "mase": mae / scale if scale > 0 else None,
    }


def baselines(y, origins, plan):
    """Naive (last value) and seasonal-naive forecasts from each origin."""
    h = np.arange(1, plan.horizon + 1)
    naive = np.repeat(y[origins][:, None], plan.horizon, axis=1)
    m = max(plan.season, 1)
    back = m * np.ceil(h / m).astype(int)
    seasonal = y[origins[:, None] + h[None, :] - back[None, :]]
    return naive, seasonal


def cross_validate(y, plan, params, *, report=None, bar=None):
    """Rolling-origin CV: fit on each training span, forecast from each test origin.

    ``report(fold, running_mae)`` is called after every fold (for pruning).
    Returns one dict per fold.
    """
    z, d = plan.prepare(y)
    D, Y = _design(plan, d)
    folds = []
    for k, (train, test) in enumerate(plan.splitter().split(Y)):
        pipe = make_pipeline(plan, params).fit(D[: train[-1] + 1], Y[train])
        start = test[0] - plan.window + 1
        d_hat = pipe.predict(D[start : test[-1] + 1])[plan.window - 1 :]
        origins = test + plan.lag  # index in y of the last value seen
        forecast = np.stack(
            [plan.invert(z[: t + 1], p) for t, p in zip(origins, d_hat, strict=True)]
        )
        steps = origins[:, None] + np.arange(1, plan.horizon + 1)[None, :]
        actual = y[steps]
        naive, seasonal = baselines(y, origins, plan)
        seen = y[: train[-1] + plan.lag + plan.horizon + 1]  # all training touched
        m = max(plan.season, 1)
        scale = float(np.mean(np.abs(seen[m:] - seen[:-m])))
        folds.append(
            {
                "train_end": int(train[-1] + plan.lag + plan.horizon),
                "origins": origins,
                "forecast": forecast,
                "naive_forecast": naive,
                "seasonal_forecast": seasonal,
                "lstm": scores(actual, forecast, scale),
                "naive": scores(actual, naive, scale),
                "seasonal_naive": scores(actual, seasonal, scale),
            }
        )
        if bar is not None:
            bar.update()
        if report is not None:
            report(k, float(np.mean([f["lstm"]["mae"] for f in folds])))
    return folds


def mean_scores(folds, model):
    out = {}
    for name in ("mae", "rmse", "mape", "mase"):
        values = [f[model][name] for f in folds]
        out[name] = None if None in values else float(np.mean(values))
    return out


def refit_and_forecast(y, plan, params, *, verbose=0):
    """Fit on the whole series; forecast the ``horizon`` values after its end."""
    z, d = plan.prepare(y)
    D, Y = _design(plan, d)
    pipe = make_pipeline(plan, params).set_params(lstm__verbose=verbose)
    pipe.fit(D[: len(Y)], Y).set_params(lstm__verbose=0)
    d_hat = pipe.predict(D[len(D) - plan.window :])[-1]
    return pipe, plan.invert(z, d_hat)


def error_quantiles(y, folds, levels):
    """Per step ahead, the ``levels`` quantiles of the LSTM's cross-validated
    errors (truth minus forecast) over every CV origin: ``(horizon, levels)``.

    Split-conformal order statistics: with ``k`` errors, level ``q`` at or above
    0.5 is the ``ceil((k + 1) q)``-th smallest, below 0.5 the ``floor((k + 1)
    q)``-th (clipped to the smallest and largest error when ``k`` is too small
    for the level). Added to the forecast, they give its quantiles.
    """
    errors = np.concatenate(
        [
            y[f["origins"][:, None] + np.arange(1, f["forecast"].shape[1] + 1)]
            - f["forecast"]
            for f in folds
        ]
    )
    ordered = np.sort(errors, axis=0)
    k = len(ordered)
    rank = [
        math.ceil((k + 1) * q) if q >= 0.5 else math.floor((k + 1) * q) for q in levels
    ]
    rank = np.clip(rank, 1, k) - 1
    return ordered[rank].T


def future_times(times, horizon):
    """Time stamps of the next ``horizon`` steps, as strings."""
    import pandas as pd

    if isinstance(times, pd.DatetimeIndex):
        freq = _frequency(times) if len(times) >= 3 else None
        if freq is not None:
            stamps = pd.date_range(times[-1], periods=horizon + 1, freq=freq)[1:]
            return [label(t) for t in stamps]
    elif pd.api.types.is_integer_dtype(times) and len(times) >= 2:
        step = int(times[-1] - times[-2])
        return [str(int(times[-1]) + step * h) for h in range(1, horizon + 1)]
    return [f"+{h}" for h in range(1, horizon + 1)]


def label(t) -> str:
    """A time stamp as text: dates without a midnight time, numbers as they are."""
    if hasattr(t, "strftime"):
        midnight = (t.hour, t.minute, t.second) == (0, 0, 0)
        return t.strftime("%Y-%m-%d") if midnight else str(t)
    return str(t.item() if hasattr(t, "item") else t)


def study_name(series, plan) -> str:
    """A name that changes with the data and every setting a trial depends on."""
    h = hashlib.sha256(series.values.tobytes())
    h.update(json.dumps(asdict(plan), sort_keys=True).encode())
    return f"sklstm-forecast-{series.target}-{h.hexdigest()[:10]}"
