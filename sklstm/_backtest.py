"""Backtests: forecasts from many origins of a series, scored against the truth
and against the seasonal-naive forecast of the same origins."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from sklearn.base import clone

from ._intervals import check_coverage
from ._make_windows import _cut, check_counts, groups, lead, read_table


@dataclass
class Backtest:
    """What :func:`backtest` returns (its fields are its parameters).

    Parameters
    ----------
    forecasts : DataFrame
        One row per model, (series,) origin, step and target: ``model``
        ("model" or "seasonal naive"), the ``series_id`` column for several
        series, ``origin`` (label of the last row seen), ``time``
        (label of the row forecast), ``step``, ``target``, ``forecast``,
        ``actual``, and with ``coverage`` ``lower`` and ``upper``.
    metrics : DataFrame
        One row per model: MAE, RMSE, MAPE (percent; NaN where the series
        is 0), MASE (scaled by the seasonal-naive error before the first
        origin, each series by its own), and with ``coverage`` the interval's
        empirical coverage, mean width and pinball loss (mean over its two
        ends), over the rows that have an interval; pooled over the series.
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
    series_id=None,
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
    window, horizon, target, future, static, series_id
        As for ``make_windows``. With ``series_id`` one (global) model is
        fitted on the windows of every series before their origins and
        forecasts every series from each of its origins in one ``predict``;
        conformal intervals and MASE's scale come from each series' own
        errors.
    start : int, default=None
        First origin: the number of rows of each series seen before it; a
        negative number counts from the end (``-36``: the last 36 rows hold
        the origins). None: half the rows. At least ``window + horizon`` (one
        training window).
    stride : int, default=1
        Rows between consecutive origins.
    refit : bool or int, default=True
        True: fit before every origin (expanding window); False: once, before
        the first; ``k``: before every ``k``-th origin (with several series,
        the ``j``-th origins of all series share a fit).
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
    coverage = check_coverage(coverage, optional=True)
    if interval not in ("auto", "quantile", "conformal"):
        raise ValueError(
            f"interval must be 'auto', 'quantile' or 'conformal'; got {interval!r}."
        )
    ids, table, layout = read_table(
        data, target=target, future=future, static=static, series_id=series_id
    )
    led = lead(table, layout, horizon, ids)
    labels = _labels(data, len(table))
    parts = []
    for key, rows in groups(ids, len(table)):
        first = _first_origin(start, len(rows), window, horizon, key)
        X, Y, _ = _cut(led[rows], window, horizon, 1, layout.targets)
        origins = np.arange(first, len(rows) - horizon + 1, stride)
        parts.append(
            _Part(key, table[rows][:, layout.targets], labels[rows], X, Y, origins)
        )
    kind = None if coverage is None else _interval_kind(model, interval)
    t = len(layout.targets)
    fits = 0
    for j0 in range(0, max(len(p.origins) for p in parts), refit_every):
        live = [p for p in parts if j0 < len(p.origins)]
        seen = [p.origins[j0] - window - horizon + 1 for p in live]
        X = _join([p.X[:k] for p, k in zip(live, seen, strict=True)])
        Y = _join([p.Y[:k] for p, k in zip(live, seen, strict=True)])
        fitted = clone(model).fit(X, _flat(Y))
        fits += 1
        chosen = [p.origins[j0 : j0 + refit_every] for p in live]
        Xo = _join([p.X[o - window] for p, o in zip(live, chosen, strict=True)])
        point = np.asarray(fitted.predict(Xo)).reshape(len(Xo), horizon, t)
        ends = None
        if kind == "quantile":
            ends = _final(fitted)[1](Xo, coverage)
            ends = np.asarray(ends).reshape(len(Xo), horizon, t, 2)
        at = np.cumsum([0] + [len(o) for o in chosen])
        for k, p in enumerate(live):
            p.point.append(point[at[k] : at[k + 1]])
            if ends is not None:
                p.bounds.append(ends[at[k] : at[k + 1]])
    names = [layout.names[j] for j in layout.targets]
    frames, rows = [], {"model": [], "seasonal naive": []}
    for p in parts:
        for name, point, bounds in p.finish(horizon, season, coverage, kind):
            rows[name].append((point, p.actual, bounds, p.scale))
            frames.append(_tidy(name, point, bounds, p, names, series_id))
    import pandas as pd

    forecasts = pd.concat(frames, ignore_index=True)
    metrics = pd.DataFrame(
        [_scores(rows[name], coverage) for name in rows],
        index=pd.Index(list(rows), name="model"),
    )
    return Backtest(forecasts, metrics, kind, fits)


class _Part:
    """One series of a backtest: its targets, labels, windows and origins, and
    the forecasts gathered for them."""

    def __init__(self, key, values, labels, X, Y, origins):
        self.key, self.values, self.labels = key, values, labels
        self.X, self.Y, self.origins = X, Y, origins
        self.point, self.bounds = [], []

    def finish(self, horizon, season, coverage, kind):
        """``[(name, point, bounds)]`` for the model and seasonal naive; sets
        ``actual`` and ``scale`` (MASE's, from the rows before the first origin)."""
        o = self.origins
        self.actual = self.values[o[:, None] + np.arange(horizon)[None, :]]
        self.scale = _mase_scale(self.values[: o[0]], season)
        point = np.concatenate(self.point)
        naive = _seasonal_naive(self.values, o, horizon, season)
        if coverage is None:
            return [("model", point, None), ("seasonal naive", naive, None)]
        bounds = (
            np.concatenate(self.bounds)
            if kind == "quantile"
            else _conformal(point, self.actual, o, horizon, coverage)
        )
        naive_bounds = _conformal(naive, self.actual, o, horizon, coverage)
        return [("model", point, bounds), ("seasonal naive", naive, naive_bounds)]


def _join(arrays):
    """One array of many, without a copy when there is one (a view stays one)."""
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


def _first_origin(start, n, window, horizon, key):
    where = "" if key is None else f" (series {key!r})"
    if start is None:
        first = n // 2
    elif isinstance(start, numbers.Integral) and not isinstance(start, bool):
        first = int(start) if start >= 0 else n + int(start)
    else:
        raise ValueError(f"start must be an integer row count; got {start!r}.")
    if first < window + horizon or first > n - horizon:
        raise ValueError(
            f"start={start} must lie between window + horizon = {window + horizon} "
            f"(one training window before it) and the rows minus horizon = "
            f"{n - horizon} (one forecast within the data); data has {n} "
            f"rows{where}. A negative start counts from the end."
        )
    return first


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


def _scores(parts, coverage):
    """Metrics over every series' ``(point, actual, bounds, scale)``."""
    point = np.concatenate([p[0].ravel() for p in parts])
    actual = np.concatenate([p[1].ravel() for p in parts])
    scale = np.concatenate([np.broadcast_to(p[3], p[0].shape).ravel() for p in parts])
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
    if coverage is None:
        return out
    lower = np.concatenate([p[2][..., 0].ravel() for p in parts])
    upper = np.concatenate([p[2][..., 1].ravel() for p in parts])
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


def _tidy(name, point, bounds, part, names, series_id):
    import pandas as pd

    n_o, horizon, t = point.shape
    o = np.repeat(part.origins, horizon * t)
    h = np.tile(np.repeat(np.arange(horizon), t), n_o)
    columns = {"model": name}
    if series_id is not None:
        columns[series_id] = part.key
    columns |= {
        "origin": part.labels[o - 1],
        "time": part.labels[o + h],
        "step": h + 1,
        "target": np.tile(names, n_o * horizon),
        "forecast": point.ravel(),
        "actual": part.actual.ravel(),
    }
    if bounds is not None:
        columns["lower"] = bounds[..., 0].ravel()
        columns["upper"] = bounds[..., 1].ravel()
    return pd.DataFrame(columns)
