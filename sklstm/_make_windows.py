"""Cut series into input windows and the values that follow: make_windows.

A table's columns play one of four parts. **Targets** are predicted and read
as their own past; **past covariates** (every other column) are known up to the
forecast origin; **future covariates** (``future=``: calendars, planned prices,
holidays) are known for the forecast steps too; **static covariates**
(``static=``) hold one value per series. ``read_table`` sorts the columns into
these parts once, for ``make_windows`` and for the forecasting functions.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._memory import check_allocation


@dataclass(frozen=True)
class Layout:
    """The parts a table's columns play (positions after the id column is
    taken out) and the columns' labels."""

    names: list
    targets: list
    future: list
    static: list
    frame: bool  # the data was a DataFrame: columns are named

    @property
    def past(self) -> list:
        """Columns known up to the origin only, targets excluded."""
        known = set(self.targets) | set(self.future) | set(self.static)
        return [j for j in range(len(self.names)) if j not in known]


def check_counts(**counts) -> None:
    for name, value in counts.items():
        if (
            not isinstance(value, numbers.Integral)
            or isinstance(value, bool)
            or value < 1
        ):
            raise ValueError(f"{name} must be an integer >= 1; got {value!r}.")


def read_table(data, *, target=None, future=None, static=None, series_id=None):
    """``(ids, table, layout)``: the series ids per row (None for one series),
    the other columns as float64 ``(n_rows, n_columns)``, and their parts."""
    columns = getattr(data, "columns", None)  # a DataFrame's, not a Series'
    ids = None
    if series_id is not None:
        if columns is None:
            raw = np.asarray(data)
            if raw.ndim != 2:
                raise ValueError(
                    "series_id needs a 2-D table (n_rows, n_columns); got shape "
                    f"{raw.shape}."
                )
            labels = list(range(raw.shape[1]))
        else:
            labels = list(columns)
        if series_id not in labels:
            raise ValueError(
                f"series_id={series_id!r} is not a column; columns are {labels}."
            )
        where = labels.index(series_id)
        if columns is None:
            ids, rest = raw[:, where], np.delete(raw, where, axis=1)
            names = [j for j in labels if j != series_id]
        else:
            ids = data[series_id].to_numpy()
            rest = data.drop(columns=[series_id])
            names = list(rest.columns)
        _check_ids(ids, series_id)
        data, columns = rest, (names if columns is not None else None)
    try:
        table = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"Every column but series_id must be numeric; got {exc}."
        ) from None
    if table.ndim == 1:
        table = table[:, None]
    if table.ndim != 2:
        raise ValueError(
            f"data must be 1-D (n_rows,) or 2-D (n_rows, n_features); got shape "
            f"{table.shape}."
        )
    names = list(columns) if columns is not None else list(range(table.shape[1]))
    future_ = _positions(future, names, "future")
    static_ = _positions(static, names, "static")
    if target is None:
        taken = set(future_) | set(static_)
        targets = [j for j in range(len(names)) if j not in taken]
        if not targets:
            raise ValueError(
                "Every column is a future or static covariate; expected at least "
                "one target column."
            )
    else:
        targets = _positions(target, names, "target")
    for part, positions in (("future", future_), ("static", static_)):
        both = [names[j] for j in positions if j in targets]
        if both:
            raise ValueError(
                f"Column(s) {both} are both a target and a {part} covariate; a "
                "target is what is forecast, so it is not known ahead."
            )
    both = [names[j] for j in future_ if j in static_]
    if both:
        raise ValueError(f"Column(s) {both} are both future and static covariates.")
    layout = Layout(names, targets, future_, static_, columns is not None)
    if static_:
        _check_static(table, ids, layout)
    return ids, table, layout


def _check_ids(ids, series_id):
    import pandas as pd

    missing = pd.isna(ids)
    if missing.any():
        raise ValueError(
            f"series_id column {series_id!r} is missing in row "
            f"{int(np.argmax(missing))} ({int(missing.sum())} rows in all); "
            "expected an id in every row."
        )


def _positions(spec, names, part):
    if spec is None:
        return []
    wanted = [spec] if not isinstance(spec, (list, tuple)) else list(spec)
    out = []
    for name in wanted:
        if name in names and not isinstance(name, bool):
            out.append(names.index(name))
        else:
            raise ValueError(f"{part} {name!r} is not a column; columns are {names}.")
    return out


def groups(ids, n_rows):
    """``[(key, rows)]``: each series' rows in table order, series in order of
    first appearance; one group of every row without ids."""
    if ids is None:
        return [(None, np.arange(n_rows))]
    import pandas as pd

    codes, keys = pd.factorize(ids)
    order = np.argsort(codes, kind="stable")
    bounds = np.cumsum(np.bincount(codes, minlength=len(keys)))[:-1]
    return list(zip(keys, np.split(order, bounds), strict=True))


def _check_static(table, ids, layout):
    for key, rows in groups(ids, len(table)):
        block = table[rows][:, layout.static]
        same = np.all(block == block[:1], axis=0)
        for j in np.flatnonzero(~same):
            column = layout.static[j]
            changed = block[:, j][block[:, j] != block[0, j]][0]
            where = "" if key is None else f" within series {key!r}"
            raise ValueError(
                f"static covariate {layout.names[column]!r} changes{where} "
                f"({block[0, j]:g}, then {changed:g}); expected one value per "
                "series (a value that changes over time is a past or future "
                "covariate)."
            )


def lead(table, layout, horizon, ids):
    """A copy of ``table`` whose future covariates are moved ``horizon`` rows
    earlier within each series (NaN where they run out), so that a window's
    last ``horizon`` steps carry the values of the steps it forecasts; the
    table itself when there are none."""
    if not layout.future:
        return table
    out = table.copy()
    f = layout.future
    for _, rows in groups(ids, len(table)):
        keep = max(len(rows) - horizon, 0)  # a series shorter than horizon: none
        out[rows[:keep][:, None], f] = table[rows[horizon:][:, None], f]
        out[rows[keep:][:, None], f] = np.nan
    return out


def make_windows(
    data,
    window,
    *,
    horizon=1,
    target=None,
    step=1,
    future=None,
    static=None,
    series_id=None,
    return_origins=False,
):
    """Cut a series or table into input windows and the values that follow.

    The seed article's windowing loop in one call: window ``k`` holds rows
    ``k*step … k*step + window - 1`` and its target the next ``horizon`` values
    of the ``target`` column(s).

    Parameters
    ----------
    data : array-like of shape (n_rows,) or (n_rows, n_features), Series or DataFrame
        The series or table, in time order (each series' rows in time order
        when ``series_id`` is given).
    window : int
        Time steps per input window.
    horizon : int, default=1
        Values to predict after each window: 1 gives a 1-D ``y``, more a 2-D
        ``(n_windows, horizon)`` ``y`` for direct multi-step forecasting.
    target : str, int, list or None, default=None
        Column(s) to predict (names for a DataFrame, indices for an array).
        None: every column that is not a future or static covariate. Every
        other column not named below is a past covariate: known up to the
        end of the window only.
    step : int, default=1
        Rows between the starts of consecutive windows.
    future : str, int, list or None, default=None
        Future covariates: columns known for the forecast steps too
        (calendar, planned prices, holidays). In the windows they are moved
        ``horizon`` rows earlier, so step ``i`` of a window holds their value
        ``horizon`` rows later, and the last ``horizon`` steps hold the values
        of the steps the window forecasts. A window needs them up to its last
        forecast step, so they never reach past the targets.
    static : str, int, list or None, default=None
        Static covariates: columns with one value per series (checked), such
        as a store's size or a one-hot code of the series' identity. In the
        windows they are channels like the others; :func:`forecast` carries
        them into the forecast steps.
    series_id : str, int or None, default=None
        Column that tells apart several series stacked in one (long) table.
        Windows never cross from one series into another, and the column is
        not a feature. Every series needs ``window + horizon`` rows.
    return_origins : bool, default=False
        Also return the position in ``data`` of each window's last row.

    Returns
    -------
    X : ndarray of shape (n_windows, window, n_features)
        Input windows. For one series without future covariates a read-only
        view of ``data`` (as float64), so overlapping windows take no extra
        memory, and the estimators train on it without copying it;
        ``np.array(X)`` gives a writeable copy.
    y : ndarray of shape (n_windows,) or (n_windows, horizon) or \
(n_windows, horizon, n_targets)
        Targets: a read-only view of ``data`` too when the target columns are
        adjacent (one target always is) and there is one series, else a copy.
    origins : ndarray of shape (n_windows,)
        Only with ``return_origins=True``: row of ``data`` where each window
        ends (its forecasts are for the next ``horizon`` rows of its series).

    Examples
    --------
    >>> import numpy as np
    >>> from sklstm import make_windows
    >>> X, y = make_windows(np.arange(6.0), window=3)
    >>> X[:, :, 0]
    array([[0., 1., 2.],
           [1., 2., 3.],
           [2., 3., 4.]])
    >>> y
    array([3., 4., 5.])
    """
    check_counts(window=window, horizon=horizon, step=step)
    ids, table, layout = read_table(
        data, target=target, future=future, static=static, series_id=series_id
    )
    table = lead(table, layout, horizon, ids)
    if ids is None:
        X, y, ends = _cut(table, window, horizon, step, layout.targets)
    else:
        X, y, ends = _cut_series(table, ids, window, horizon, step, layout.targets)
    if y.shape[2] == 1:
        y = y[:, :, 0]
    if horizon == 1:
        y = y[:, 0]
    return (X, y, ends) if return_origins else (X, y)


def _cut(table, window, horizon, step, targets):
    """Windows, targets ``(n, horizon, n_targets)`` and the windows' last rows."""
    n_windows = (len(table) - window - horizon) // step + 1
    if n_windows < 1:
        raise ValueError(
            f"data has {len(table)} rows; window={window} plus horizon={horizon} "
            f"needs at least {window + horizon}."
        )
    # slicing, not fancy indexing, keeps X a view of the table: no copies
    X = sliding_window_view(table, window, axis=0)[: n_windows * step : step]
    X = X.transpose(0, 2, 1)
    first = targets[0]
    if targets == list(range(first, first + len(targets))):  # a view, not a copy
        targets = slice(first, first + len(targets))
    ahead = sliding_window_view(table[window:, targets], horizon, axis=0)
    y = ahead[: n_windows * step : step].transpose(0, 2, 1)
    return X, y, np.arange(n_windows) * step + window - 1


def _cut_series(table, ids, window, horizon, step, targets):
    parts, short = [], []
    for key, rows in groups(ids, len(table)):
        if len(rows) < window + horizon:
            short.append((key, len(rows)))
            continue
        parts.append((rows, _cut(table[rows], window, horizon, step, targets)))
    if short:
        listed = ", ".join(f"{k!r} ({n} rows)" for k, n in short[:5])
        more = f" and {len(short) - 5} more" if len(short) > 5 else ""
        raise ValueError(
            f"{len(short)} series are shorter than window={window} plus "
            f"horizon={horizon} rows: {listed}{more}; expected at least "
            f"{window + horizon} rows in every series (drop or pad the short ones)."
        )
    n_windows = sum(len(p[1][0]) for p in parts)
    check_allocation(
        n_windows * window * table.shape[1] * 8,
        f"{n_windows} windows of {window} steps over stacked series",
        "expected a window of at most about the longest series' length.",
    )
    X = np.concatenate([w for _, (w, _, _) in parts])
    y = np.concatenate([t for _, (_, t, _) in parts])
    ends = np.concatenate([rows[e] for rows, (_, _, e) in parts])
    return X, y, ends
