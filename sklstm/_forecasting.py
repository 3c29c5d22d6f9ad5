"""Forecasts past the end of a series, direct and recursive: ``forecast``.

The model is any fitted regressor (an ``LSTMRegressor`` or a ``Pipeline``
ending in one) trained on windows that :func:`make_windows` cut with the same
``window``, ``horizon`` and columns; these functions cut the windows it needs
and never change it.
"""

from __future__ import annotations

import numpy as np

from ._make_windows import check_counts, groups, read_table


def forecast(
    model,
    data,
    window,
    *,
    horizon=1,
    target=None,
    future=None,
    static=None,
    series_id=None,
    steps=None,
    future_data=None,
):
    """Forecast the ``steps`` values after the end of a series (or of each series).

    Up to ``horizon`` steps are **direct**: one prediction from the last
    window. More steps are **recursive**: the model's forecast of ``horizon``
    values is appended to the series as if it had been seen, and the next
    window predicts the next ``horizon`` values, until ``steps`` are reached.
    A model trained with ``horizon=1`` forecasts recursively one step at a
    time; the forecasting guide compares the two.

    Parameters
    ----------
    model : fitted regressor
        Trained on ``make_windows(data, window, horizon=horizon, target=target,
        future=future, static=static, series_id=series_id)`` (a 3-D ``y``
        flattened to ``(n_windows, horizon * n_targets)``).
    data : array-like, Series or DataFrame
        The history, in time order, as given to ``make_windows``.
    window, horizon, target, future, static, series_id
        As given to ``make_windows`` for training.
    steps : int, default=None
        Values to forecast after the end; None: ``horizon``. More than
        ``horizon`` (recursive) needs every column that is not a target to be
        a future or static covariate: past covariates are not known beyond
        the end.
    future_data : array-like or DataFrame, default=None
        The future covariates after the end of the history: for each series
        its next rows, ``horizon`` times the number of predictions (the
        window's last ``horizon`` steps hold the values of the steps it
        forecasts). A DataFrame names the ``future`` columns (and the
        ``series_id`` column for several series); an array holds the
        ``future`` columns in that order.

    Returns
    -------
    forecasts : ndarray of shape (steps,) or (steps, n_targets), or DataFrame
        One series: an array. Several (``series_id``): a DataFrame with one
        row per series (in order of first appearance) and one column per step
        (columns ``(target, step)`` for several targets).
    """
    check_counts(window=window, horizon=horizon)
    steps = horizon if steps is None else steps
    check_counts(steps=steps)
    ids, table, layout = read_table(
        data, target=target, future=future, static=static, series_id=series_id
    )
    blocks = -(-steps // horizon)
    if blocks > 1 and layout.past:
        names = [layout.names[j] for j in layout.past]
        raise ValueError(
            f"steps={steps} is beyond horizon={horizon}: the forecast is recursive "
            f"and needs every column in the forecast steps, but {names} are past "
            "covariates (known up to the end only). Pass them as future= or "
            f"static=, or forecast at most {horizon} steps (or train a model "
            "with a longer horizon)."
        )
    series = groups(ids, len(table))
    ahead = _future_values(future_data, layout, series, series_id, blocks * horizon)
    extended = [
        _extend(table[rows], layout, ahead[k], blocks * horizon)
        for k, (_, rows) in enumerate(series)
    ]
    seen = [len(rows) for _, rows in series]
    t = len(layout.targets)
    for b in range(blocks):
        X = np.stack(
            [
                _window_at(ext, n + b * horizon, window, horizon, layout)
                for ext, n in zip(extended, seen, strict=True)
            ]
        )
        predicted = np.asarray(model.predict(X), dtype=np.float64)
        predicted = predicted.reshape(len(X), horizon, t)
        for ext, n, values in zip(extended, seen, predicted, strict=True):
            start = n + b * horizon
            ext[start : start + horizon][:, layout.targets] = values
    out = np.stack(
        [
            ext[n : n + steps][:, layout.targets]
            for ext, n in zip(extended, seen, strict=True)
        ]
    )
    if ids is None:
        return out[0, :, 0] if t == 1 else out[0]
    return _per_series(out, [key for key, _ in series], layout, series_id)


def _extend(rows, layout, ahead, extra):
    """The series with ``extra`` rows after it: targets to fill in, future
    covariates from ``future_data``, static ones carried on."""
    ext = np.full((len(rows) + extra, rows.shape[1]), np.nan)
    ext[: len(rows)] = rows
    if layout.future:
        ext[len(rows) :, layout.future] = ahead
    if layout.static:
        ext[len(rows) :, layout.static] = rows[0, layout.static]
    return ext


def _window_at(ext, end, window, horizon, layout):
    """The window of rows ``end - window … end - 1`` as ``make_windows`` cuts
    it (future covariates ``horizon`` rows later); NaN before the series."""
    out = np.full((window, ext.shape[1]), np.nan)
    first = max(end - window, 0)
    out[window - (end - first) :] = ext[first:end]
    if layout.future:
        lead = ext[first + horizon : end + horizon][:, layout.future]
        out[window - (end - first) :, layout.future] = lead
    return out


def _future_values(future_data, layout, series, series_id, needed):
    """Per series, ``(needed, n_future)`` future covariates after its end."""
    if not layout.future:
        if future_data is not None:
            raise ValueError(
                "future_data was given, but no column is a future covariate; "
                "expected future= naming the columns it holds."
            )
        return [None] * len(series)
    names = [layout.names[j] for j in layout.future]
    if future_data is None:
        raise ValueError(
            f"{names} are future covariates: expected future_data with their "
            f"next {needed} values after the end of each series (the last "
            "window reads them for the steps it forecasts)."
        )
    if hasattr(future_data, "columns"):
        missing = [c for c in names if c not in future_data.columns]
        if series_id is not None and series_id not in future_data.columns:
            missing.append(series_id)
        if missing:
            raise ValueError(
                f"future_data lacks the column(s) {missing}; it has "
                f"{list(future_data.columns)}."
            )
        values = future_data[names].to_numpy(dtype=np.float64)
        keys = future_data[series_id].to_numpy() if series_id is not None else None
    else:
        if series_id is not None:
            raise TypeError(
                "With series_id, future_data must be a DataFrame with the "
                f"{series_id!r} column and {names}; got {type(future_data).__name__}."
            )
        values = np.asarray(future_data, dtype=np.float64).reshape(-1, len(names))
        keys = None
    out = []
    for key, _ in series:
        rows = values if keys is None else values[keys == key]
        if len(rows) < needed:
            where = "" if key is None else f" for series {key!r}"
            raise ValueError(
                f"future_data has {len(rows)} rows{where}; expected at least "
                f"{needed} (the values of {names} in the {needed} steps after "
                "the end)."
            )
        if not np.isfinite(rows[:needed]).all():
            raise ValueError(
                f"future_data holds NaN or infinite values in its first {needed} "
                "rows; future covariates must be known in every forecast step."
            )
        out.append(rows[:needed])
    return out


def _per_series(out, keys, layout, series_id):
    import pandas as pd

    steps = np.arange(1, out.shape[1] + 1)
    index = pd.Index(keys, name=series_id)
    if len(layout.targets) == 1:
        return pd.DataFrame(out[:, :, 0], index=index, columns=steps)
    names = [layout.names[j] for j in layout.targets]
    columns = pd.MultiIndex.from_product([names, steps], names=["target", "step"])
    return pd.DataFrame(
        out.transpose(0, 2, 1).reshape(len(out), -1), index=index, columns=columns
    )
