"""Calendar covariates from dates: CalendarFeatures."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

# periodic features: (how to read it from a DatetimeIndex, its period)
PERIODIC = {
    "month": (lambda t: t.month - 1, 12),
    "quarter": (lambda t: t.quarter - 1, 4),
    "week": (lambda t: t.isocalendar().week.to_numpy() - 1, 53),
    "day": (lambda t: t.day - 1, 31),
    "weekday": (lambda t: t.day_of_week, 7),
    "dayofyear": (lambda t: t.day_of_year - 1, 366),
    "hour": (lambda t: t.hour, 24),
    "minute": (lambda t: t.minute, 60),
}
PLAIN = {
    "year": lambda t: t.year,
    "weekend": lambda t: t.day_of_week >= 5,
    "month_start": lambda t: t.is_month_start,
    "month_end": lambda t: t.is_month_end,
}
FEATURES = tuple(PERIODIC) + tuple(PLAIN)


class CalendarFeatures(TransformerMixin, BaseEstimator):
    """Calendar columns (month, weekday, holidays, …) from dates.

    Dates are known for every future step, so these columns are the typical
    future covariates (``make_windows(..., future=...)``). The transformer
    takes a DataFrame with a date column (or a ``DatetimeIndex``), drops the
    date column, keeps the other columns and appends the calendar ones; in a
    ``Pipeline`` it sits before ``SequenceWindower``. It learns nothing from
    the data: the same dates always give the same columns.

    Parameters
    ----------
    column : str or None, default=None
        Column that holds the dates (anything ``pandas.to_datetime`` reads).
        None: the DataFrame's index, which must be a ``DatetimeIndex``.
    features : sequence of str, default=("month", "weekday")
        Among "month", "quarter", "week" (ISO), "day", "weekday", "dayofyear",
        "hour", "minute" (periodic), "year", "weekend", "month_start",
        "month_end".
    cyclic : bool, default=True
        Periodic features as a sine and a cosine of their phase (December sits
        next to January), else as integers from 0.
    holidays : pandas holiday calendar, sequence of dates or None, default=None
        Adds a 0/1 "holiday" column: a calendar from
        ``pandas.tseries.holiday`` (e.g. ``USFederalHolidayCalendar()``), or the
        dates themselves.

    Attributes
    ----------
    n_features_in_ : int
        Columns of the DataFrame seen in ``fit``.
    feature_names_in_ : ndarray of str
        Their names.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklstm import CalendarFeatures
    >>> days = pd.DataFrame({"date": pd.date_range("2024-12-30", periods=3)})
    >>> CalendarFeatures("date", features=["weekday"], cyclic=False).fit_transform(days)
    array([[0.],
           [1.],
           [2.]])
    """

    _parameter_constraints: dict = {
        "column": [str, None],
        "features": ["array-like"],
        "cyclic": ["boolean"],
        "holidays": "no_validation",
    }

    def __init__(
        self, column=None, *, features=("month", "weekday"), cyclic=True, holidays=None
    ):
        self.column = column
        self.features = features
        self.cyclic = cyclic
        self.holidays = holidays

    def fit(self, X, y=None):
        """Check the table and the settings.

        Parameters
        ----------
        X : DataFrame
            The table with the date column (or a ``DatetimeIndex``).
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        self._validate_params()
        unknown = [f for f in self.features if f not in FEATURES]
        if unknown or isinstance(self.features, str):
            raise ValueError(
                f"features must be a list of names among {list(FEATURES)}; got "
                f"{self.features!r}."
            )
        self._dates(X)  # checks that there are dates
        self.feature_names_in_ = np.asarray(list(X.columns), dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        return self

    def transform(self, X):
        """Replace the dates by calendar columns.

        Parameters
        ----------
        X : DataFrame
            The columns seen in ``fit``.

        Returns
        -------
        table : ndarray of shape (n_rows, n_columns)
            The other columns, then the calendar ones (see
            ``get_feature_names_out``), as float64.
        """
        check_is_fitted(self)
        dates = self._dates(X)
        if list(X.columns) != list(self.feature_names_in_):
            raise ValueError(
                f"X has columns {list(X.columns)}; expected the columns seen in "
                f"fit, {list(self.feature_names_in_)}."
            )
        others = X.drop(columns=[self.column]) if self.column is not None else X
        parts = [others.to_numpy(dtype=np.float64)]
        for name in self.features:
            if name in PERIODIC:
                read, period = PERIODIC[name]
                value = np.asarray(read(dates), dtype=np.float64)
                if self.cyclic:
                    phase = 2 * np.pi * value / period
                    parts += [np.sin(phase)[:, None], np.cos(phase)[:, None]]
                    continue
            else:
                value = np.asarray(PLAIN[name](dates), dtype=np.float64)
            parts.append(value[:, None])
        if self.holidays is not None:
            parts.append(self._holiday_flags(dates)[:, None])
        return np.hstack(parts)

    def get_feature_names_out(self, input_features=None):
        """Names of the output columns.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored; the names seen in ``fit`` are used.

        Returns
        -------
        names : ndarray of str
            The other columns, then e.g. "month_sin", "month_cos", "holiday".
        """
        check_is_fitted(self)
        names = [c for c in self.feature_names_in_ if c != self.column]
        for name in self.features:
            if name in PERIODIC and self.cyclic:
                names += [f"{name}_sin", f"{name}_cos"]
            else:
                names.append(name)
        if self.holidays is not None:
            names.append("holiday")
        return np.asarray(names, dtype=object)

    def _dates(self, X):
        import pandas as pd

        if not isinstance(X, pd.DataFrame):
            raise TypeError(
                "CalendarFeatures expects a DataFrame with a date column (or a "
                f"DatetimeIndex); got {type(X).__name__}."
            )
        if self.column is None:
            if not isinstance(X.index, pd.DatetimeIndex):
                raise ValueError(
                    "column=None reads the dates from the index, which must be a "
                    f"DatetimeIndex; got {type(X.index).__name__}. Name the date "
                    "column with column=."
                )
            return X.index
        if self.column not in X.columns:
            raise ValueError(
                f"column={self.column!r} is not a column of X; columns are "
                f"{list(X.columns)}."
            )
        try:
            with warnings.catch_warnings():  # pandas' note on guessing formats
                warnings.simplefilter("ignore", UserWarning)
                return pd.DatetimeIndex(pd.to_datetime(X[self.column]))
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"column {self.column!r} must hold dates; pandas.to_datetime "
                f"says: {exc}"
            ) from None

    def _holiday_flags(self, dates):
        import pandas as pd

        days = dates.normalize()
        if hasattr(self.holidays, "holidays"):  # a pandas holiday calendar
            known = self.holidays.holidays(start=days.min(), end=days.max())
        else:
            known = pd.DatetimeIndex(pd.to_datetime(list(self.holidays)))
        return np.asarray(days.isin(known.normalize()), dtype=np.float64)
