"""Small real datasets shipped with sklstm.

Every file is a plain CSV copied from a published source (see each loader's
docstring); nothing was rounded, resampled or re-split.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

__all__ = [
    "load_airline",
    "load_basic_motions",
    "load_gunpoint",
    "load_japanese_vowels",
    "load_sunspots",
]


def _read(name: str, **kwargs) -> pd.DataFrame:
    with resources.files(__package__).joinpath("data", name).open("rb") as f:
        return pd.read_csv(f, **kwargs)


def _check_split(split: str) -> str:
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}.")
    return split.upper()


def load_airline(*, as_frame=False):
    """Monthly international airline passengers, 1949-01 to 1960-12.

    The classic Box & Jenkins "Series G" (thousands of passengers per month,
    144 months), as shipped in aeon 1.6.0 (``datasets/data/Airline``, BSD-3-Clause
    package; the series itself carries no licence). Reference: Box, Jenkins and
    Reinsel (1976), *Time Series Analysis, Forecasting and Control*.

    Parameters
    ----------
    as_frame : bool, default=False
        Return a DataFrame with columns ``month`` (``YYYY-MM``) and
        ``passengers`` instead of a float array.

    Returns
    -------
    data : ndarray of shape (144,) or DataFrame of shape (144, 2)
        Passengers per month, in time order.

    Examples
    --------
    >>> from sklstm.datasets import load_airline
    >>> load_airline()[:3]
    array([112., 118., 132.])
    """
    df = _read("airline_passengers.csv")
    return df if as_frame else df["passengers"].to_numpy(dtype=np.float64)


def load_sunspots(*, frequency="yearly", as_frame=False):
    """Sunspot numbers from NOAA's National Geophysical Data Center (public domain).

    As shipped in statsmodels 0.15.0: yearly means 1700–2008 (309 values) or
    monthly means 1749-01 to 2009-06 (3,126 values; 2009 values preliminary).

    Parameters
    ----------
    frequency : {"yearly", "monthly"}, default="yearly"
        Which series.
    as_frame : bool, default=False
        Return a DataFrame with the time column (``year`` or ``month``) and
        ``sunspots`` instead of a float array.

    Returns
    -------
    data : ndarray of shape (n,) or DataFrame of shape (n, 2)
        Sunspot numbers, in time order.
    """
    if frequency not in ("yearly", "monthly"):
        raise ValueError(f"frequency must be 'yearly' or 'monthly'; got {frequency!r}.")
    df = _read(f"sunspots_{frequency}.csv")
    return df if as_frame else df["sunspots"].to_numpy(dtype=np.float64)


def load_gunpoint(*, split="train", as_frame=False):
    """GunPoint: classify a hand's motion as drawing a gun or pointing.

    UCR archive dataset (Ratanamahatana & Keogh; Dau et al., "The UCR Time Series
    Archive", 2018), official split, as shipped in aeon 1.6.0 (BSD-3-Clause
    package; cite the archive). Univariate, 150 steps; 50 training and 150 test
    series; labels ``"1"`` (gun draw) and ``"2"`` (point).

    Parameters
    ----------
    split : {"train", "test"}, default="train"
        Which official split.
    as_frame : bool, default=False
        Return ``X`` as a DataFrame (columns ``t0 … t149``) and ``y`` as a Series.

    Returns
    -------
    X : ndarray of shape (n_series, 150) or DataFrame
        The series.
    y : ndarray of shape (n_series,) of str, or Series
        Labels.
    """
    df = _read(f"GunPoint_{_check_split(split)}.csv", dtype={"label": str})
    X, y = df.drop(columns="label"), df["label"]
    return (X, y) if as_frame else (X.to_numpy(np.float64), y.to_numpy())


def load_japanese_vowels(*, split="train", as_frame=False):
    """JapaneseVowels: tell 9 speakers apart from variable-length recordings.

    UEA multivariate archive version (Bagnall et al. 2018) of the UCI dataset of
    Kudo, Toyama and Shimbo (1999), official split, as shipped in aeon 1.6.0.
    12 LPC cepstrum channels; lengths 7–29 frames, not padded; 270 training and
    370 test series; labels ``"1"`` … ``"9"``.

    Parameters
    ----------
    split : {"train", "test"}, default="train"
        Which official split.
    as_frame : bool, default=False
        Return the long table (``series_id, timestep, dim_0 … dim_11, label``)
        instead of ``(X, y)``.

    Returns
    -------
    X : list of ndarray of shape (n_timesteps_i, 12)
        One array per recording.
    y : ndarray of shape (n_series,) of str
        Speaker labels.
    """
    df = _read(f"JapaneseVowels_{_check_split(split)}.csv", dtype={"label": str})
    if as_frame:
        return df
    dims = [c for c in df.columns if c.startswith("dim_")]
    groups = df.sort_values(["series_id", "timestep"]).groupby("series_id")
    X = [g[dims].to_numpy(np.float64) for _, g in groups]
    y = groups["label"].first().to_numpy()
    return X, y


def load_basic_motions(*, split="train", as_frame=False):
    """BasicMotions: tell four activities apart from a smartwatch's motion sensors.

    UEA multivariate archive dataset (Bagnall et al., "The UEA multivariate time
    series classification archive, 2018", arXiv:1811.00075), official split, as
    shipped in aeon 1.6.0 (BSD-3-Clause package; cite the archive). Six channels
    (3-D accelerometer and 3-D gyroscope), 100 steps at 10 Hz; 40 training and
    40 test series, 10 per class; labels ``"badminton"``, ``"running"``,
    ``"standing"`` and ``"walking"``.

    Parameters
    ----------
    split : {"train", "test"}, default="train"
        Which official split.
    as_frame : bool, default=False
        Return the long table (``series_id, timestep, dim_0 … dim_5, label``)
        instead of ``(X, y)``.

    Returns
    -------
    X : ndarray of shape (n_series, 100, 6)
        The recordings.
    y : ndarray of shape (n_series,) of str
        Activity labels.
    """
    df = _read(f"BasicMotions_{_check_split(split)}.csv", dtype={"label": str})
    if as_frame:
        return df
    dims = [c for c in df.columns if c.startswith("dim_")]
    df = df.sort_values(["series_id", "timestep"])
    n = df["series_id"].nunique()
    X = df[dims].to_numpy(np.float64).reshape(n, -1, len(dims))
    y = df.groupby("series_id")["label"].first().to_numpy()
    return X, y
