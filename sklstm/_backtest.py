"""Backtests: forecasts from many origins of a series, scored against the truth
and against the seasonal-naive forecast of the same origins."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from sklearn.base import clone

from ._make_windows import _cut, check_counts, lead, read_table


@dataclass
class Backtest:
    """What :func:`backtest` returns (its fields are its parameters).

    Parameters
    ----------
    forecasts : DataFrame
        One row per model, origin, step and target: ``model`` ("model" or
        "seasonal naive"), ``origin`` (label of the last row seen), ``time``
        (label of the row forecast), ``step``, ``target``, ``forecast``,
        ``actual``, and with ``coverage`` ``lower`` and ``upper``.
    metrics : DataFrame
        One row per model: MAE, RMSE, MAPE (percent; NaN where the series
        is 0), MASE (scaled by the seasonal-naive error before the first
        origin), and with ``coverage`` the interval's empirical coverage,
        mean width and pinball loss (mean over its two ends), over the rows
        that have an interval.
    interval : str or None
        "quantile" (the model's own quantiles), "conformal" or None.
    fits : int
        How many times the model was fitted.
    """

    forecasts: object
    metrics: object
    interval: str | None
    fits: int


def backtest(
    model,
    data,
    window,
    *,
    horizon=1,
    target=None,
    future=None,
    static=None,
    start=None,
    stride=1,
    refit=True,
    coverage=None,
    interval="auto",
    season=1,
):
    """Forecast a series from many origins as if each were today, and score it.

    At every origin ``o`` (``start``, ``start + stride``, …) the model forecasts
    rows ``o … o + horizon - 1`` from the ``window`` rows before them, having
    been fitted on windows whose targets all lie before ``o`` (a clone of
    ``model`` is fitted: ``model`` itself is never changed). With
    ``refit=False`` it is fitted once, before the first origin, and all
    origins are predicted in one batched ``predict``.

    Parameters
    ----------
    model : regressor
        An unfitted (or fitted: it is cloned) ``LSTMRegressor`` or a
        ``Pipeline`` ending in one, taking windows from ``make_windows``.
    data : array-like, Series or DataFrame
        One series (or table) in time order, as for ``make_windows``.
    window, horizon, target, future, static
        As for ``make_windows``.
    start : int, default=None
        First origin: the number of rows seen before it. None: half the
        rows. At least ``window + horizon`` (one training window).
    stride : int, default=1
        Rows between consecutive origins.
    refit : bool or int, default=True
        True: fit before every origin (expanding window); False: once, before
        the first; ``k``: before every ``k``-th origin.
    coverage : float or None, default=None
        With a value in (0, 1), central intervals of that coverage too.
    interval : {"auto", "quantile", "conformal"}, default="auto"
        "quantile": the model's own (``loss="pinball"``); "conformal": the
        forecast plus or minus the finite-sample conformal quantile of the
        absolute errors, step by step, of the earlier origins whose truth is
        known at the origin (NaN until there are enough of them); "auto":
        "quantile" for a model fitted with quantiles, else "conformal". The
        seasonal-naive forecast always gets conformal intervals.
    season : int, default=1
        Seasonal period of the seasonal-naive reference and of MASE's scale.

    Returns
    -------
    result : Backtest
        ``result.forecasts`` (tidy DataFrame) and ``result.metrics``.
    """
    check_counts(window=window, horizon=horizon, stride=stride, season=season)
    refit_every = _refit_every(refit)
    if coverage is not None and not (
        isinstance(coverage, numbers.Real)
        and not isinstance(coverage, bool)
        and 0 < coverage < 1
    ):
        raise ValueError(
            f"coverage must be None or a number strictly between 0 and 1; got "
            f"{coverage!r}."
        )
    if interval not in ("auto", "quantile", "conformal"):
        raise ValueError(
            f"interval must be 'auto', 'quantile' or 'conformal'; got {interval!r}."
        )
    ids, table, layout = read_table(data, target=target, future=future, static=static)
    n = len(table)
    start = n // 2 if start is None else start
    if not isinstance(start, numbers.Integral) or isinstance(start, bool):
        raise ValueError(f"start must be an integer row count; got {start!r}.")
    if start < window + horizon or start > n - horizon:
        raise ValueError(
            f"start={start} must lie between window + horizon = {window + horizon} "
            f"(one training window before it) and the rows minus horizon = "
            f"{n - horizon} (one forecast within the data); data has {n} rows."
        )
    X, Y, _ = _cut(
        lead(table, layout, horizon, ids), window, horizon, 1, layout.targets
    )
    origins = np.arange(start, n - horizon + 1, stride)
    t = len(layout.targets)
    point = np.empty((len(origins), horizon, t))
    bounds = np.full((len(origins), horizon, t, 2), np.nan)
    kind = None if coverage is None else _interval_kind(model, interval)
    fits = 0
    for j0 in range(0, len(origins), refit_every):
        segment = slice(j0, j0 + refit_every)
        o = origins[j0]
        fitted = clone(model).fit(
            X[: o - window - horizon + 1], _flat(Y[: o - window - horizon + 1])
        )
        fits += 1
        Xo = X[origins[segment] - window]
        point[segment] = np.asarray(fitted.predict(Xo)).reshape(len(Xo), horizon, t)
        if kind == "quantile":
            ends = _final(fitted)[1](Xo, coverage)
            bounds[segment] = np.asarray(ends).reshape(len(Xo), horizon, t, 2)
    steps = origins[:, None] + np.arange(horizon)[None, :]  # rows forecast
    actual = table[steps][:, :, layout.targets]
    naive = _seasonal_naive(table[:, layout.targets], origins, horizon, season)
    if kind == "conformal":
        bounds = _conformal(point, actual, origins, horizon, coverage)
    naive_bounds = (
        _conformal(naive, actual, origins, horizon, coverage)
        if coverage is not None
        else None
    )
    scale = _mase_scale(table[:start, layout.targets], season)
    labels = _labels(data, n)
    names = [layout.names[j] for j in layout.targets]
    frames = [
        _tidy(
            "model",
            point,
            bounds if coverage is not None else None,
            actual,
            origins,
            labels,
            names,
        ),
        _tidy("seasonal naive", naive, naive_bounds, actual, origins, labels, names),
    ]
    import pandas as pd

    forecasts = pd.concat(frames, ignore_index=True)
    metrics = pd.DataFrame(
        [
            _scores(
                point, actual, bounds if coverage is not None else None, scale, coverage
            ),
            _scores(naive, actual, naive_bounds, scale, coverage),
        ],
        index=pd.Index(["model", "seasonal naive"], name="model"),
    )
    return Backtest(forecasts, metrics, kind, fits)


def _refit_every(refit):
    if refit is True:
        return 1
    if refit is False:
        return np.iinfo(np.int64).max
    if isinstance(refit, numbers.Integral) and refit >= 1:
        return int(refit)
    raise ValueError(
        f"refit must be True, False or an integer >= 1 (refit every k origins); "
        f"got {refit!r}."
    )


def _flat(Y):
    """``(n, horizon, targets)`` as the 1-D or 2-D ``y`` a regressor takes."""
    if Y.shape[1] == 1 and Y.shape[2] == 1:
        return Y[:, 0, 0]
    return Y.reshape(len(Y), -1)


def _final(model):
    """``(estimator, predict_interval)`` of a model or a Pipeline's last step."""
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline):
        final = model.steps[-1][1]
        if hasattr(final, "predict_interval"):
            return final, lambda X, c: final.predict_interval(
                model[:-1].transform(X), c
            )
        return final, None
    return model, getattr(model, "predict_interval", None)


def _interval_kind(model, interval):
    """ "quantile" or "conformal", from the (unfitted) model's loss."""
    final, method = _final(model)
    has_quantiles = method is not None and getattr(final, "loss", None) == "pinball"
    if interval == "quantile" and not has_quantiles:
        raise ValueError(
            "interval='quantile' needs an LSTMRegressor fitted with "
            f"loss='pinball' (or a Pipeline ending in one); got "
            f"{type(final).__name__} with loss={getattr(final, 'loss', None)!r}. "
            "Use interval='conformal' for any model."
        )
    if interval == "auto":
        return "quantile" if has_quantiles else "conformal"
    return interval


def _seasonal_naive(values, origins, horizon, season):
    h = np.arange(1, horizon + 1)
    back = season * np.ceil(h / season).astype(int)
    return values[origins[:, None] - 1 + h[None, :] - back[None, :]]


def _conformal(point, actual, origins, horizon, coverage):
    """Per origin and step: forecast ± the conformal quantile of the absolute
    errors of the earlier origins whose truth was known at that origin."""
    errors = np.abs(actual - point)  # (origins, horizon, targets)
    out = np.full(point.shape + (2,), np.nan)
    known_at = origins + horizon  # the last forecast row of an origin is seen then
    for j, o in enumerate(origins):
        done = known_at <= o
        k = int(done.sum())
        level = np.ceil((k + 1) * coverage) / k if k else np.inf
        if level > 1:
            continue  # too few errors yet for this coverage: no finite interval
        q = np.quantile(errors[done], level, axis=0, method="higher")
        out[j, :, :, 0] = point[j] - q
        out[j, :, :, 1] = point[j] + q
    return out


def _mase_scale(seen, season):
    """Per target: mean absolute seasonal-naive error over the rows seen."""
    if len(seen) <= season:
        return np.full(seen.shape[1], np.nan)
    scale = np.nanmean(np.abs(seen[season:] - seen[:-season]), axis=0)
    return np.where(scale > 0, scale, np.nan)


def _scores(point, actual, bounds, scale, coverage):
    error = point - actual
    out = {
        "mae": float(np.mean(np.abs(error))),
        "rmse": float(np.sqrt(np.mean(error**2))),
        "mape": (
            float(100 * np.mean(np.abs(error) / np.abs(actual)))
            if np.all(actual != 0)
            else np.nan
        ),
        "mase": float(np.mean(np.abs(error) / scale)),
    }
    if bounds is None:
        return out
    lower, upper = bounds[..., 0], bounds[..., 1]
    has = np.isfinite(lower) & np.isfinite(upper)
    if not has.any():
        return out | {"coverage": np.nan, "width": np.nan, "pinball": np.nan}
    a, lo, hi = actual[has], lower[has], upper[has]
    alpha = (1 - coverage) / 2
    pinball = (_pinball(a, lo, alpha) + _pinball(a, hi, 1 - alpha)) / 2
    return out | {
        "coverage": float(np.mean((a >= lo) & (a <= hi))),
        "width": float(np.mean(hi - lo)),
        "pinball": float(pinball),
    }


def _pinball(actual, quantile, level):
    diff = actual - quantile
    return np.mean(np.maximum(level * diff, (level - 1) * diff))


def _labels(data, n):
    index = getattr(data, "index", None)
    return np.asarray(index) if index is not None and len(index) == n else np.arange(n)


def _tidy(name, point, bounds, actual, origins, labels, names):
    import pandas as pd

    n_o, horizon, t = point.shape
    o = np.repeat(origins, horizon * t)
    h = np.tile(np.repeat(np.arange(horizon), t), n_o)
    columns = {
        "model": name,
        "origin": labels[o - 1],
        "time": labels[o + h],
        "step": h + 1,
        "target": np.tile(names, n_o * horizon),
        "forecast": point.ravel(),
        "actual": actual.ravel(),
    }
    if bounds is not None:
        columns["lower"] = bounds[..., 0].ravel()
        columns["upper"] = bounds[..., 1].ravel()
    return pd.DataFrame(columns)
