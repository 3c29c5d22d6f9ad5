"""Token-id and image-sequence input, read into :class:`Sequences`.

Token ids (``embedding_dim`` set) are non-negative integers with 0 as padding at
either end of a sequence; image sequences ``(n, t, height, width[, channels])``
(``conv_channels`` set) become one flattened row per frame, an all-NaN frame
being padding.
"""

from __future__ import annotations

import numpy as np

from ._sequences import read_array, read_ragged

# float32 holds every integer up to 2**24 exactly: the table's dtype for ids
MAX_TOKEN_ID = 2**24


def read_tokens(X):
    """Read token ids (a 2-D array, a DataFrame or a list of 1-D sequences) into
    Sequences whose table holds the ids as float32, NaN for padding."""
    if isinstance(X, (list, tuple)):
        seqs = [_ids(s, f"Sequence {i}") for i, s in enumerate(X)]
        if not seqs:
            raise ValueError("X is an empty list; expected at least one sequence.")
        longest = max(len(s) for s in seqs)
        grid = np.zeros((len(seqs), longest), dtype=np.int64)
        for i, s in enumerate(seqs):
            grid[i, : len(s)] = s
    else:
        grid = _ids(X, "X", ndim=2)
        seqs = None
    if grid.shape[0] == 0 or grid.shape[1] == 0:
        raise ValueError(
            f"Token input of shape {grid.shape} is empty; expected at least one "
            "sequence with at least one id."
        )
    _check_padding(grid)
    if seqs is None:
        table = grid.astype(np.float32)
        table[grid == 0] = np.nan
        return read_array(table[:, :, None])
    return read_ragged(
        [np.where(s == 0, np.nan, s).astype(np.float32)[:, None] for s in seqs]
    )


def largest_id(sequences) -> int:
    """The largest token id among the valid steps."""
    return int(np.nanmax(sequences.table))


def _ids(X, what: str, ndim: int = 1) -> np.ndarray:
    try:
        arr = np.asarray(X)
        if arr.dtype.kind not in "biuf":
            arr = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"{what} could not be read as token ids; expected non-negative "
            "integers (0 = padding)."
        ) from None
    if arr.ndim != ndim:
        shape = "(n_samples, n_timesteps)" if ndim == 2 else "(n_timesteps,)"
        raise ValueError(
            f"{what} must be {ndim}-D token ids {shape} with embedding_dim set; "
            f"got shape {arr.shape}."
        )
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            raise ValueError(
                f"{what} holds {arr[bad][0]:g}, which is no token id; expected "
                "non-negative integers (0 = padding)."
            )
    if arr.size and (arr.min() < 0 or arr.max() >= MAX_TOKEN_ID):
        value = arr.min() if arr.min() < 0 else arr.max()
        raise ValueError(
            f"{what} holds token id {value:g}; expected ids from 0 (padding) to "
            f"{MAX_TOKEN_ID - 1}."
        )
    return arr.astype(np.int64)


def _check_padding(grid: np.ndarray) -> None:
    """Padding (id 0) may lead or trail a sequence, not sit inside it."""
    used = grid != 0
    has = used.any(axis=1)
    if not has.all():
        raise ValueError(
            f"Sample {np.flatnonzero(~has)[0]} holds only padding (id 0); expected "
            "at least one token id above 0."
        )
    first = used.argmax(axis=1)
    last = grid.shape[1] - 1 - used[:, ::-1].argmax(axis=1)
    gaps = np.flatnonzero(used.sum(axis=1) != last - first + 1)
    if gaps.size:
        i = gaps[0]
        t = first[i] + np.flatnonzero(~used[i, first[i] : last[i] + 1])[0]
        raise ValueError(
            f"Sample {i} has the padding id 0 at time step {t}, between tokens. "
            "0 is padding only at the start or the end of a sequence; give real "
            "tokens ids from 1."
        )


def read_frames(X: np.ndarray):
    """``(n, t, h, w[, c])`` image sequences as Sequences of flattened frames,
    and the frame shape ``(h, w, c)``."""
    if X.ndim == 4:
        X = X[..., None]
    n, t, height, width, depth = X.shape
    if 0 in X.shape:
        raise ValueError(f"Image sequences of shape {X.shape} are empty.")
    flat = np.ascontiguousarray(X).reshape(n, t, height * width * depth)
    return read_array(flat), (height, width, depth)
