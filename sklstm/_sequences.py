"""Input normalisation: from what users pass to samples as segments of a table.

Every public input form (2-D univariate, 3-D multivariate, ragged lists, NaN
padding at either end) becomes :class:`Sequences`: one float32 table of time
steps and, per sample, the row where its valid steps start and how many there
are. A window view (``SequenceWindower``, ``make_windows``,
``sliding_window_view``) is read through its underlying table, so overlapping
windows are never copied; mini-batches are gathered from the table. Bad input
raises a ``ValueError``/``TypeError`` that says what was expected and what came.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided


@dataclass
class Sequences:
    """Samples as segments of one table.

    Sample ``i`` is ``table[starts[i] : starts[i] + lengths[i]]``; its padding is
    gone. ``lengths=None`` means every sample has ``steps`` valid steps.
    """

    table: np.ndarray  # (n_rows, n_channels) float32, C-contiguous, writeable
    starts: np.ndarray  # (n_samples,) int64
    lengths: np.ndarray | None  # (n_samples,) int64
    steps: int  # time steps of the input as given (the longest sample)

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def shape(self) -> tuple[int, int, int]:
        """The ``(n_samples, n_timesteps, n_channels)`` shape of the input."""
        return (len(self.starts), self.steps, self.table.shape[1])

    def select(self, index) -> Sequences:
        """The samples at ``index`` (a boolean mask or integer indices)."""
        lengths = None if self.lengths is None else self.lengths[index]
        return Sequences(self.table, self.starts[index], lengths, self.steps)

    def padded(self) -> tuple[np.ndarray, np.ndarray]:
        """Left-aligned ``(n, steps, c)`` values (zeros after each sample's valid
        steps) and the lengths; materialises every sample, so for small data."""
        lengths = self.lengths
        if lengths is None:
            lengths = np.full(len(self), self.steps, dtype=np.int64)
        offsets = np.arange(self.steps)
        pad = offsets >= lengths[:, None]
        rows = np.where(pad, 0, self.starts[:, None] + offsets)
        values = self.table[rows]
        values[pad] = 0.0
        return values, lengths


def read_array(X: np.ndarray) -> Sequences:
    """Read a numeric 3-D array ``(n_samples, n_timesteps, n_channels)``.

    An array whose samples overlap in memory, as windows of one table do, is
    read through that table, so the windows are not copied.
    """
    n, steps, channels = X.shape
    table, starts = _window_table(X)
    if table is None:
        table = np.ascontiguousarray(X).reshape(n * steps, channels)
        starts = np.arange(n, dtype=np.int64) * steps
    table = np.require(table, dtype=np.float32, requirements=["C", "W"])
    return _locate(table, starts, starts + steps, steps)


def read_ragged(seqs: list[np.ndarray]) -> Sequences:
    """Read ``(t_i, c)`` float arrays of differing lengths, without padding them."""
    sizes = np.array([len(s) for s in seqs], dtype=np.int64)
    ends = np.cumsum(sizes)
    table = np.concatenate(seqs).astype(np.float32)
    return _locate(table, ends - sizes, ends, int(sizes.max()))


def _window_table(X):
    """The table under a window view of it, or ``(None, None)`` if there is none.

    In a view whose consecutive samples start ``k`` rows apart (``k`` at most the
    window, so every row in between belongs to some sample), element ``[i, t]``
    sits at table row ``i * k + t``.
    """
    n, steps, channels = X.shape
    s_sample, s_step, s_channel = X.strides
    if n < 2 or steps < 2 or s_step <= 0 or s_channel < 0 or s_sample <= 0:
        return None, None
    k, rest = divmod(s_sample, s_step)
    if rest or not 1 <= k < steps:  # k == steps: no overlap, nothing to gain
        return None, None
    rows = (n - 1) * k + steps
    table = as_strided(X, (rows, channels), (s_step, s_channel), writeable=False)
    return table, np.arange(n, dtype=np.int64) * k


def _locate(table, starts, ends, steps) -> Sequences:
    """Find the valid steps of every sample ``table[starts[i]:ends[i]]``.

    A step is padding when all its channels are NaN; padding may lead or trail
    the valid steps but not interrupt them, and a sample needs one valid step.
    """
    lengths = ends - starts
    if (lengths == steps).all():
        lengths = None  # every sample fills the input; no masking needed
    finite = np.isfinite(table)
    if finite.all():
        return Sequences(table, starts, lengths, steps)
    nan = np.isnan(table)
    bad = np.flatnonzero((~finite & ~nan).any(axis=1))
    if bad.size:
        i, t = _owner(bad[0], starts, ends)
        raise ValueError(
            f"X contains infinity in sample {i} at time step {t}; expected finite "
            "values (NaN only as padding)."
        )
    del finite
    pad = nan.all(axis=1)
    partial = np.flatnonzero(nan.any(axis=1) & ~pad)
    del nan
    if partial.size:
        i, t = _owner(partial[0], starts, ends)
        raise ValueError(
            f"Sample {i} has NaN in some but not all channels at time step {t}. "
            "A step is padding only when every channel is NaN; impute partial "
            "gaps first (e.g. SimpleImputer before SequenceWindower)."
        )
    # only samples that contain a padding row need a closer look
    padding_before = np.concatenate([[0], np.cumsum(pad, dtype=np.int64)])
    n_pad = padding_before[ends] - padding_before[starts]
    del padding_before
    touched = np.flatnonzero(n_pad)
    if touched.size == 0:
        return Sequences(table, starts, lengths, steps)
    if lengths is None:
        lengths = ends - starts
    valid_rows = np.flatnonzero(~pad)
    s, e = starts[touched], ends[touched]
    count = lengths[touched] - n_pad[touched]
    empty = np.flatnonzero(count == 0)
    if empty.size:
        raise ValueError(
            f"Sample {touched[empty[0]]} has no valid time step (all NaN); expected "
            "at least one step with data."
        )
    first = valid_rows[np.searchsorted(valid_rows, s)]
    last = valid_rows[np.searchsorted(valid_rows, e) - 1]
    gaps = np.flatnonzero(last - first + 1 != count)
    if gaps.size:
        g = gaps[0]
        row = first[g] + np.flatnonzero(pad[first[g] : last[g] + 1])[0]
        raise ValueError(
            f"Sample {touched[g]} has an all-NaN time step {row - s[g]} between "
            "valid steps. NaN steps are read as padding only at the start or the "
            "end of a sequence; fill gaps inside a sequence first."
        )
    starts = starts.copy()
    starts[touched] = first
    lengths[touched] = count
    return Sequences(table, starts, lengths, steps)


def _owner(row, starts, ends):
    """The first sample holding table row ``row``, and the step it is there."""
    i = int(np.flatnonzero((starts <= row) & (row < ends))[0])
    return i, int(row - starts[i])


def read_list(X):
    """Read a list of sequences: equal shapes give one stacked array, differing
    lengths a :class:`Sequences`; anything else comes back unchanged."""
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
    return seqs


def pad_ragged(X):
    """Turn a list of ``(t_i,)`` or ``(t_i, c)`` arrays of differing lengths into a
    NaN-padded ``(n, max t_i, c)`` array; return any other input unchanged."""
    seqs = read_list(X)
    if not isinstance(seqs, list):
        return seqs
    steps = max(s.shape[0] for s in seqs)
    out = np.full((len(seqs), steps, seqs[0].shape[1]), np.nan)
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


def _few(items, k: int = 4) -> str:
    items = list(dict.fromkeys(items))
    more = f" and {len(items) - k} more" if len(items) > k else ""
    return ", ".join(map(str, items[:k])) + more
