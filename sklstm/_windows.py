"""From a time-indexed table to sequences: SequenceWindower and make_windows."""

from __future__ import annotations

import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from ._memory import check_allocation
from ._transformer import SequenceOutputMixin


class SequenceWindower(
    SequenceOutputMixin, TransformerMixin, BaseEstimator, auto_wrap_output_keys=None
):
    """Turn a time-indexed table into one trailing window per row.

    Row ``i`` of the output holds rows ``i - window + 1 … i`` of the table; steps
    before the start of the table (or of its series) are NaN, which the LSTM
    estimators read as padding. Rows are kept, so ``y`` stays aligned and the
    windower sits in a ``Pipeline`` after ordinary 2-D preprocessing and before
    an estimator, also under ``TimeSeriesSplit``.

    Parameters
    ----------
    window : int, default=10
        Time steps per window.
    series_id : str, int or None, default=None
        Column (name for DataFrames, index for arrays) that tells apart several
        series stacked in one table. Windows never cross from one series into
        another, and the column is not a feature. Rows of one series must be in
        time order; the series may be interleaved.

    Attributes
    ----------
    n_features_in_ : int
        Columns of the table seen in ``fit`` (the id column included).
    feature_names_in_ : ndarray of str
        Column names when the table was a DataFrame.
    n_channels_out_ : int
        Channels per time step of the windows (the id column excluded).

    Notes
    -----
    ``transform`` sees only the rows it is given: the first ``window - 1`` rows
    of a test fold are padded rather than filled from the training fold.

    Without ``series_id`` the windows are a read-only strided view of the
    table (plus ``window - 1`` rows of NaN): windowing costs about the table's
    size whatever the window, and the LSTM estimators read such a view through
    the table under it, gathering each mini-batch as they go, so the windows
    are never copied. ``np.array(windows)`` makes a writeable copy. With
    ``series_id`` the output is an ordinary array of ``n_rows * window *
    n_channels`` values: a window at the start of a series needs NaN where the
    table holds the previous series, which no view of the table can show.

    A window longer than the table is allowed: every window ends at a real row
    (its own), and the steps before the table's first row are padding.

    Examples
    --------
    >>> import numpy as np
    >>> from sklstm import SequenceWindower
    >>> table = np.arange(8.0).reshape(4, 2)
    >>> windows = SequenceWindower(window=3).fit_transform(table)
    >>> windows.shape
    (4, 3, 2)
    >>> windows[1]
    array([[nan, nan],
           [ 0.,  1.],
           [ 2.,  3.]])
    """

    _parameter_constraints: dict = {
        "window": [Interval(numbers.Integral, 1, None, closed="left")],
        "series_id": [str, numbers.Integral, None],
    }

    def __init__(self, window=10, *, series_id=None):
        self.window = window
        self.series_id = series_id

    def fit(self, X, y=None):
        """Check the table and learn its columns.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            The time-indexed table.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted windower.
        """
        self._validate_params()
        ids, values = self._split(X, reset=True)
        self.n_channels_out_ = values.shape[1]
        return self

    def transform(self, X):
        """Window the table.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            The time-indexed table, with the columns seen in ``fit``.

        Returns
        -------
        windows : ndarray of shape (n_rows, window, n_channels)
            Window ``i`` ends at row ``i``; missing history is NaN. ``n_channels``
            is ``n_channels_out_``: the columns without the id column.
        """
        check_is_fitted(self)
        ids, values = self._split(X, reset=False)
        if ids is None:
            return _trailing_windows(values, self.window)
        check_allocation(
            len(values) * self.window * values.shape[1] * 8,
            f"window={self.window} over {len(values)} rows of stacked series",
            "expected a window of at most about the longest series' length.",
        )
        out = np.empty((len(values), self.window, values.shape[1]))
        import pandas as pd  # loaded only for stacked series

        for key in pd.unique(ids):
            rows = np.flatnonzero(ids == key)
            out[rows] = _trailing_windows(values[rows], self.window)
        return out

    def get_feature_names_out(self, input_features=None):
        """Channel names of the windows.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored; the names seen in ``fit`` are used.

        Returns
        -------
        names : ndarray of str
            One name per channel, the id column left out.
        """
        check_is_fitted(self)
        names = getattr(self, "feature_names_in_", None)
        if names is None:
            names = np.array(
                [f"x{i}" for i in range(self.n_features_in_)], dtype=object
            )
        if self.series_id is not None:
            names = np.delete(names, self._id_index)
        return np.asarray(names, dtype=object)

    def _split(self, X, reset):
        """Validate the table; return the series ids (or None) and the values."""
        ndim = getattr(X, "ndim", None)
        if ndim is not None and ndim > 2:
            raise ValueError(
                "SequenceWindower expects a 2-D table (n_rows, n_features); got "
                f"shape {X.shape}. 3-D input is windows already: pass it to the "
                "estimator directly."
            )
        if self.series_id is None:
            values = validate_data(
                self, X, reset=reset, ensure_all_finite="allow-nan", dtype=np.float64
            )
            return None, values
        table = validate_data(
            self, X, reset=reset, ensure_all_finite="allow-nan", dtype=None
        )
        if reset:
            self._id_index = self._find_id_column()
        import pandas as pd  # here: the windower alone does not need pandas

        ids = table[:, self._id_index]
        missing = pd.isna(ids)
        if missing.any():
            raise ValueError(
                f"series_id column {self.series_id!r} is missing in row "
                f"{int(np.argmax(missing))} ({int(missing.sum())} rows in all); "
                "expected an id in every row."
            )
        values = np.delete(table, self._id_index, axis=1)
        try:
            values = values.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"Every column but series_id must be numeric; got {exc}."
            ) from None
        return ids, values

    def _find_id_column(self):
        names = getattr(self, "feature_names_in_", None)
        if isinstance(self.series_id, str):
            if names is None or self.series_id not in list(names):
                raise ValueError(
                    f"series_id={self.series_id!r} is not a column of X; columns "
                    f"are {None if names is None else list(names)}."
                )
            return list(names).index(self.series_id)
        if not 0 <= self.series_id < self.n_features_in_:
            raise ValueError(
                f"series_id={self.series_id} is not a column index of X, which has "
                f"{self.n_features_in_} columns."
            )
        return self.series_id

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = self.series_id is not None
        return tags


PADDING_LIMIT = 64 * 2**20  # bytes of padding a window beyond the table may take


def _trailing_windows(values: np.ndarray, window: int) -> np.ndarray:
    """``(n, window, c)`` view of trailing windows, NaN before the first row."""
    padding = (window - 1) * values.shape[1] * 8
    if window > len(values) and padding > PADDING_LIMIT:
        raise ValueError(
            f"window={window} is longer than the table ({len(values)} rows) and "
            f"its padding alone would take {padding / 2**20:.0f} MiB; expected a "
            "window of at most about the table's length (each window ends at its "
            "own row, so steps before the table are padding)."
        )
    check_allocation(
        (window - 1 + len(values)) * values.shape[1] * 8,
        f"window={window} on a table of {len(values)} rows (the padding before "
        "its first row)",
        "expected a window of at most about the table's length.",
    )
    padded = np.concatenate([np.full((window - 1, values.shape[1]), np.nan), values])
    # sliding_window_view puts the window axis last: (n, c, window)
    return sliding_window_view(padded, window, axis=0).transpose(0, 2, 1)
