"""One entry point for every form of input the estimators read.

A 2-D or 3-D array (or a window view of a table), a list of sequences (equal
lengths stack, differing lengths stay ragged), token ids, or image sequences:
each becomes one :class:`Sequences` (a table of rows plus each sample's start
and length) through the readers of ``_sequences`` and ``_tokens``.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_array

from ._sequences import read_array, read_list, read_ragged, to_3d
from ._tokens import read_frames, read_tokens


def read_sequences(X, *, tokens=False, frames=False):
    """``X`` as ``(Sequences, frame_shape)``; ``frame_shape`` is None unless
    ``frames`` (a convolutional front end) reads 4-D or 5-D image sequences.
    ``tokens``: ``X`` holds integer token ids. Bad input is a ValueError or
    TypeError naming what was expected and what came."""
    if tokens:
        return read_tokens(X), None
    X = read_list(X)
    if isinstance(X, list):
        return read_ragged(X), None
    X = _numeric_array(X)
    for axis, what in ((0, "sample(s)"), (1, "feature(s)")):
        if X.shape[axis] == 0:
            raise ValueError(
                f"Found array with 0 {what} (shape={X.shape}) while a "
                "minimum of 1 is required."
            )
    if X.ndim in (4, 5) and frames:
        return read_frames(X)
    return read_array(to_3d(X)), None


def _numeric_array(X):
    """``X`` as a 2-D or 3-D real ndarray, checked by scikit-learn when needed.

    A numeric ndarray is taken as it is: ``check_array`` would scan (and, for a
    window view, copy) every window, while the table under it is checked once.
    """
    if isinstance(X, np.ndarray) and X.dtype.kind in "biuf" and X.ndim in (2, 3):
        return X
    try:
        return check_array(
            X,
            allow_nd=True,
            ensure_all_finite="allow-nan",
            dtype=[np.float64, np.float32],
        )
    except ValueError as exc:
        if "could not convert" not in str(exc):
            raise
        raise ValueError(
            f"X must hold numbers (float sequences); got a value that is not "
            f"one: {exc}. Encode categories first, e.g. with OneHotEncoder "
            "before SequenceWindower."
        ) from None
