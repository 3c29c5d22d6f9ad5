"""Input normalisation: from what users pass to left-aligned arrays plus lengths.

Every public input form (2-D univariate, 3-D multivariate, ragged lists, NaN
padding at either end) becomes ``values (n, steps, channels)`` with each sample's
valid steps first, zeros after them, and ``lengths (n,)``. Bad input raises a
``ValueError``/``TypeError`` that says what was expected and what came.
"""

from __future__ import annotations

import numbers

import numpy as np


def pad_ragged(X):
    """Turn a list of ``(t_i,)`` or ``(t_i, c)`` arrays of differing lengths into a
    NaN-padded ``(n, max t_i, c)`` array; return any other input unchanged."""
    if not isinstance(X, (list, tuple)) or len(X) == 0:
        return X
    if isinstance(X[0], numbers.Number) or isinstance(X[0], (str, bytes)):
        return X
    seqs = []
    for i, seq in enumerate(X):
        try:
            arr = np.asarray(seq, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"Sequence {i} could not be read as numbers ({exc}); expected a "
                "numeric array of shape (n_timesteps,) or (n_timesteps, n_channels)."
            ) from None
        seqs.append(arr)
    shapes = {s.shape for s in seqs}
    if len(shapes) == 1:
        return np.stack(seqs)
    ndims = {s.ndim for s in seqs}
    if not ndims <= {1, 2} or len(ndims) > 1:
        raise ValueError(
            "Variable-length sequences must all be 1-D (n_timesteps,) or all 2-D "
            f"(n_timesteps, n_channels); got shapes {_few(s.shape for s in seqs)}."
        )
    seqs = [s[:, None] if s.ndim == 1 else s for s in seqs]
    channels = {s.shape[1] for s in seqs}
    if len(channels) > 1:
        raise ValueError(
            "Variable-length sequences must share one channel count; got "
            f"channel counts {sorted(channels)}."
        )
    for i, s in enumerate(seqs):
        if s.shape[0] == 0:
            raise ValueError(f"Sequence {i} is empty; each needs at least one step.")
    steps = max(s.shape[0] for s in seqs)
    out = np.full((len(seqs), steps, channels.pop()), np.nan)
    for i, s in enumerate(seqs):
        out[i, : s.shape[0]] = s
    return out


def to_3d(X: np.ndarray, conv: bool = False) -> np.ndarray:
    """Give 2-D univariate input its channel axis; refuse ranks we cannot read."""
    if X.ndim == 2:
        return X[:, :, None]
    if X.ndim == 3:
        return X
    if X.ndim in (4, 5) and not conv:
        raise ValueError(
            f"Got {X.ndim}-D input of shape {X.shape}: image sequences "
            "(n_samples, n_timesteps, height, width[, channels]) need a "
            "convolutional front end (conv_channels). Expected 2-D "
            "(n_samples, n_timesteps) or 3-D (n_samples, n_timesteps, n_channels)."
        )
    raise ValueError(
        f"Expected 2-D (n_samples, n_timesteps) or 3-D (n_samples, n_timesteps, "
        f"n_channels) input; got {X.ndim}-D input of shape {X.shape}."
    )


def left_align(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Find padding and move each sample's valid steps to the front.

    A time step is padding when all its channels are NaN; padding may lead or
    trail the valid steps but not interrupt them. Returns float32 ``values`` with
    zeros where padding was and int64 ``lengths``.
    """
    nan = np.isnan(X)
    if not nan.any():
        values = np.ascontiguousarray(X, dtype=np.float32)
        if not values.flags.writeable:  # torch tensors cannot wrap read-only memory
            values = values.copy()
        return values, np.full(X.shape[0], X.shape[1], dtype=np.int64)
    pad = nan.all(axis=2)
    partial = nan.any(axis=2) & ~pad
    if partial.any():
        i, t = np.argwhere(partial)[0]
        raise ValueError(
            f"Sample {i} has NaN in some but not all channels at time step {t}. "
            "A step is padding only when every channel is NaN; impute partial "
            "gaps first (e.g. SimpleImputer before SequenceWindower)."
        )
    valid = ~pad
    lengths = valid.sum(axis=1)
    empty = np.flatnonzero(lengths == 0)
    if empty.size:
        raise ValueError(
            f"Sample {empty[0]} has no valid time step (all NaN); expected at least "
            "one step with data."
        )
    first = valid.argmax(axis=1)
    last = X.shape[1] - 1 - valid[:, ::-1].argmax(axis=1)
    gaps = np.flatnonzero(last - first + 1 != lengths)
    if gaps.size:
        i = gaps[0]
        t = first[i] + np.flatnonzero(pad[i, first[i] : last[i] + 1])[0]
        raise ValueError(
            f"Sample {i} has an all-NaN time step {t} between valid steps. NaN "
            "steps are read as padding only at the start or the end of a sequence; "
            "fill gaps inside a sequence first."
        )
    steps = np.arange(X.shape[1])
    source = np.minimum(steps[None, :] + first[:, None], X.shape[1] - 1)
    values = np.take_along_axis(X, source[:, :, None], axis=1)
    values[steps[None, :] >= lengths[:, None]] = 0.0
    return values.astype(np.float32, copy=False), lengths.astype(np.int64)


def _few(items, k: int = 4) -> str:
    items = list(dict.fromkeys(items))
    more = f" and {len(items) - k} more" if len(items) > k else ""
    return ", ".join(map(str, items[:k])) + more
