"""Input normalisation: from what users pass to samples as segments of a table.

Every public input form (2-D univariate, 3-D multivariate, ragged lists, NaN
padding at either end) becomes :class:`Sequences`: one table of time steps and
where each sample's valid steps lie in it. Samples of a dense array or of a
window view (``SequenceWindower``, ``make_windows``, ``sliding_window_view``) sit
on a grid, one every ``stride`` rows, and cost no memory per sample; only samples
with padding, and the samples of a ragged list, carry their own start and length.
Overlapping windows are never copied; mini-batches are gathered from the table.
Bad input raises a ``ValueError``/``TypeError`` that says what was expected and
what came.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided


@dataclass
class Patch:
    """Samples whose start and length are their own, not the grid's."""

    index: np.ndarray  # sorted sample indices, int32 (int64 past 2**31 samples)
    starts: np.ndarray  # their first valid rows, int32 (int64 past 2**31 rows)
    lengths: np.ndarray  # their valid steps, int32
    leads: np.ndarray  # their padding steps before the first valid one, int32


@dataclass
class Sequences:
    """Samples as segments of one table.

    Sample ``i`` starts at row ``first + i * stride`` and has ``steps`` valid
    steps, unless ``patch`` gives it its own start and length (its padding is
    gone). A ragged list is all patch (``stride=0``).
    """

    table: np.ndarray  # (n_rows, n_channels) float32 or float64, C-contiguous
    n: int  # samples
    steps: int  # time steps of the input as given (the longest sample)
    first: int = 0
    stride: int = 0
    patch: Patch | None = None

    def __len__(self) -> int:
        return self.n

    @property
    def shape(self) -> tuple[int, int, int]:
        """The ``(n_samples, n_timesteps, n_channels)`` shape of the input."""
        return (self.n, self.steps, self.table.shape[1])

    def bounds(self, index=None) -> tuple[np.ndarray, np.ndarray]:
        """Starts and lengths (int64) of the samples at ``index`` (default all)."""
        index = np.arange(self.n) if index is None else np.asarray(index)
        starts = self.first + index.astype(np.int64) * self.stride
        lengths = np.full(len(index), self.steps, dtype=np.int64)
        if self.patch is not None:
            pos, hit = lookup(self.patch.index, index)
            starts[hit] = self.patch.starts[pos[hit]]
            lengths[hit] = self.patch.lengths[pos[hit]]
        return starts, lengths

    def leads(self) -> np.ndarray:
        """Each sample's padding steps before its first valid step (int64)."""
        leads = np.zeros(self.n, dtype=np.int64)
        if self.patch is not None:
            leads[self.patch.index] = self.patch.leads
        return leads

    def select(self, index) -> Sequences:
        """The samples at ``index`` (a boolean mask or integer indices)."""
        starts, lengths = self.bounds(np.arange(self.n)[index])
        return _listed(self.table, starts, lengths, self.steps)


def lookup(index, wanted):
    """Positions of ``wanted`` in the sorted ``index`` and whether they are there
    (numpy or torch arrays alike)."""
    if len(index) == 0:
        return wanted * 0, wanted < wanted
    if isinstance(index, np.ndarray):
        pos = np.minimum(np.searchsorted(index, wanted), len(index) - 1)
    else:  # torch, imported by whoever made the tensors
        import torch

        pos = torch.searchsorted(index, wanted.to(index.dtype))
        pos = pos.clamp_(max=len(index) - 1)
    return pos, index[pos] == wanted


def _listed(table, starts, lengths, steps) -> Sequences:
    """Sequences with every sample's start and length given."""
    n = len(starts)
    patch = Patch(
        np.arange(n, dtype=_index_dtype(n)),
        starts.astype(_index_dtype(len(table))),
        lengths.astype(np.int32),
        np.zeros(n, dtype=np.int32),
    )
    return Sequences(table, n, steps, patch=patch)


def read_array(X: np.ndarray) -> Sequences:
    """Read a numeric 3-D array ``(n_samples, n_timesteps, n_channels)``.

    An array whose samples overlap in memory, as windows of one table do, is
    read through that table, so the windows are not copied.
    """
    n, steps, channels = X.shape
    if channels == 0:
        raise ValueError(
            f"X has 0 channels (shape {X.shape}); expected (n_samples, n_timesteps, "
            "n_channels) with at least one channel."
        )
    table, stride = _window_table(X)
    if table is None:
        table, stride = np.ascontiguousarray(X).reshape(n * steps, channels), steps
    if table.dtype not in (np.float32, np.float64):
        table = table.astype(np.float32)
    table = np.ascontiguousarray(table)  # a float table as given is not copied
    return _locate(Sequences(table, n, steps, 0, stride))


def read_ragged(seqs: list[np.ndarray]) -> Sequences:
    """Read ``(t_i, c)`` float arrays of differing lengths, without padding them."""
    sizes = np.array([len(s) for s in seqs], dtype=np.int64)
    table = np.concatenate(seqs)
    if table.dtype.kind == "f":  # before the cast would turn 1e300 into inf
        _check_float32_range(table)
    table = table.astype(np.float32)
    starts = np.cumsum(sizes) - sizes
    return _locate(_listed(table, starts, sizes, int(sizes.max())))


def _index_dtype(count: int):
    """Indices in 4 bytes where they fit: half the memory."""
    return np.int32 if count < 2**31 else np.int64


def _window_table(X):
    """The table under a window view of it and the rows between consecutive
    samples, or ``(None, None)`` if there is none.

    In a view whose consecutive samples start ``k`` rows apart (``k`` below the
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
    return as_strided(X, (rows, channels), (s_step, s_channel), writeable=False), k


def _holders(seqs: Sequences, rows):
    """For each of the sorted table ``rows``, the samples ``[lo, hi)`` that hold it."""
    rows = rows.astype(np.int64)
    if seqs.stride == 0:  # listed samples, one after another, not overlapping
        hi = np.searchsorted(seqs.patch.starts, rows, side="right")
        return hi - 1, hi
    k, rel = seqs.stride, rows - seqs.first
    lo = -((seqs.steps - 1 - rel) // k)  # ceil((rel - steps + 1) / k)
    return np.clip(lo, 0, seqs.n), np.clip(rel // k + 1, 0, seqs.n)


def _union(lo, hi):
    """The sorted indices in the union of ranges ``[lo, hi)`` whose ends never
    decrease: memory follows the result, not the overlaps."""
    keep = hi > lo
    lo, hi = lo[keep], hi[keep]
    if lo.size == 0:
        return lo
    new = np.r_[True, lo[1:] > hi[:-1]]  # a range that starts a merged run
    run_lo = lo[new]
    run_hi = np.maximum.reduceat(hi, np.flatnonzero(new))
    sizes = run_hi - run_lo
    offsets = np.repeat(np.cumsum(sizes) - sizes, sizes)
    return np.arange(sizes.sum()) - offsets + np.repeat(run_lo, sizes)


def _locate(seqs: Sequences) -> Sequences:
    """Find the valid steps of every sample.

    A step is padding when all its channels are NaN; padding may lead or trail
    the valid steps but not interrupt them, and a sample needs one valid step.
    Only samples that hold a padding row are looked at closely, so the work and
    memory follow the padding, not the data.
    """
    table = seqs.table
    _check_float32_range(table)
    finite = np.isfinite(table)
    if finite.all():
        return seqs
    nan = np.isnan(table)
    _refuse_rows(
        (~finite & ~nan).any(axis=1),
        seqs,
        "X contains infinity in sample {i} at time step {t}; expected finite "
        "values (NaN only as padding).",
    )
    del finite
    pad = nan.all(axis=1)
    _refuse_rows(
        nan.any(axis=1) & ~pad,
        seqs,
        "Sample {i} has NaN in some but not all channels at time step {t}. A step "
        "is padding only when every channel is NaN; impute partial gaps first "
        "(e.g. SimpleImputer before SequenceWindower).",
    )
    del nan
    pad_rows = np.flatnonzero(pad)
    del pad
    touched = _union(*_holders(seqs, pad_rows))
    if touched.size == 0:
        return seqs
    s, size = seqs.bounds(touched)
    e = s + size
    count = size - (np.searchsorted(pad_rows, e) - np.searchsorted(pad_rows, s))
    empty = np.flatnonzero(count == 0)
    if empty.size:
        raise ValueError(
            f"Sample {touched[empty[0]]} has no valid time step (all NaN); expected "
            "at least one step with data."
        )
    # runs of consecutive padding rows: a sample starting (ending) inside one
    # has its first (last) valid row just after (before) it
    breaks = np.flatnonzero(np.diff(pad_rows) != 1) + 1
    run_first = pad_rows[np.r_[0, breaks]]
    run_last = pad_rows[np.r_[breaks - 1, len(pad_rows) - 1]]
    first = _skip_runs(s, run_first, run_last, forward=True)
    last = _skip_runs(e - 1, run_first, run_last, forward=False)
    gaps = np.flatnonzero(last - first + 1 != count)
    if gaps.size:
        g = gaps[0]
        inside = pad_rows[(pad_rows > first[g]) & (pad_rows < last[g])]
        raise ValueError(
            f"Sample {touched[g]} has an all-NaN time step {inside[0] - s[g]} "
            "between valid steps. NaN steps are read as padding only at the start "
            "or the end of a sequence; fill gaps inside a sequence first."
        )
    starts, lengths, leads = first, count, first - s
    if seqs.patch is not None:
        # listed: every sample is in the patch already, at its own index
        old = seqs.patch
        starts, lengths, leads = old.starts.copy(), old.lengths.copy(), old.leads.copy()
        starts[touched], lengths[touched], leads[touched] = first, count, first - s
        touched = old.index
    patch = Patch(
        touched.astype(_index_dtype(seqs.n)),
        starts.astype(_index_dtype(len(table))),
        lengths.astype(np.int32),
        leads.astype(np.int32),
    )
    return Sequences(table, seqs.n, seqs.steps, seqs.first, seqs.stride, patch)


def _check_float32_range(table):
    """The network computes in float32; larger finite values would become inf."""
    if table.dtype == np.float32 or table.size == 0:
        return
    flat = table.reshape(-1)
    biggest = max(abs(np.fmax.reduce(flat)), abs(np.fmin.reduce(flat)))
    limit = np.finfo(np.float32).max
    if np.isfinite(biggest) and biggest > limit:
        raise ValueError(
            f"X holds a value of magnitude {biggest:.3g}, beyond float32's range "
            f"({limit:.3g}) in which the network computes; scale the inputs first, "
            "e.g. StandardScaler before SequenceWindower."
        )


def _skip_runs(rows, run_first, run_last, forward):
    """Move each row that is padding past its run of padding rows."""
    run = np.searchsorted(run_first, rows, side="right") - 1
    inside = (run >= 0) & (rows <= run_last[np.maximum(run, 0)])
    moved = run_last[run] + 1 if forward else run_first[run] - 1
    return np.where(inside, moved, rows)


def _refuse_rows(bad, seqs, message):
    """Raise ``message`` for the first table row flagged in ``bad``, naming the
    first sample that holds it (``{i}``) and its time step there (``{t}``)."""
    if not bad.any():
        return
    row = np.array([np.argmax(bad)])
    lo, _ = _holders(seqs, row)
    start, _ = seqs.bounds(lo)
    raise ValueError(message.format(i=int(lo[0]), t=int(row[0] - start[0])))


def read_list(X):
    """Read a list of sequences: equal shapes give one stacked array, differing
    lengths a :class:`Sequences`; anything else comes back unchanged."""
    if not isinstance(X, (list, tuple)):
        return X
    if len(X) == 0:
        raise ValueError(
            "X is an empty list; expected at least one sequence (an array of "
            "shape (n_timesteps,) or (n_timesteps, n_channels))."
        )
    if all(isinstance(x, numbers.Number) for x in X):
        raise ValueError(
            f"X is a flat list of {len(X)} numbers; expected a list of sequences "
            "(arrays of shape (n_timesteps,) or (n_timesteps, n_channels)) or a "
            "2-D array (n_samples, n_timesteps). For one series, cut windows "
            "first with make_windows or SequenceWindower."
        )
    if isinstance(X[0], (str, bytes)):
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
    if channels == {0}:
        raise ValueError(
            f"X has 0 channels (shapes {_few(s.shape for s in seqs)}); expected "
            "sequences of shape (n_timesteps, n_channels) with at least one channel."
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


def to_3d(X: np.ndarray) -> np.ndarray:
    """Give 2-D univariate input its channel axis; refuse ranks we cannot read
    (image sequences are read by ``_tokens.read_frames`` before this)."""
    if X.ndim == 2:
        return X[:, :, None]
    if X.ndim == 3:
        return X
    if X.ndim in (4, 5):
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
