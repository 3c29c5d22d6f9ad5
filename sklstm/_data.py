"""Tensors, mini-batches and the validation split handed to skorch.

skorch's default path wraps data in a per-sample ``Dataset`` and collates each
batch sample by sample; here a batch is one gather from pre-built tensors.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import torch

from ._sequences import lookup
from ._shuffle import epoch_order


@dataclass
class Batch:
    """Model inputs of one mini-batch (what skorch calls ``X``)."""

    x: torch.Tensor
    lengths: torch.Tensor | None = None
    weight: torch.Tensor | None = None

    def __len__(self) -> int:
        return self.x.shape[0]


class SequenceDataset(torch.utils.data.Dataset):
    """Sequences (a table, a grid of samples and the samples that differ from
    it), optional targets and weights. A mini-batch is gathered from the table
    when it is taken, so overlapping windows are never materialised all at once,
    and grid samples cost no memory each.

    ``y_scaling`` ``(mean, scale)`` standardises the targets batch by batch, so
    that the user's float64 targets are used as given rather than copied.
    """

    def __init__(self, sequences, y=None, weight=None, y_scaling=None):
        if sequences.table.flags.writeable:
            self.table = torch.from_numpy(sequences.table)
        else:
            with warnings.catch_warnings():
                # a window view is read-only; the table is only ever read from
                warnings.filterwarnings(
                    "ignore", message=".*not writable", category=UserWarning
                )
                self.table = torch.from_numpy(sequences.table)
        self.n, self.steps = sequences.n, sequences.steps
        self.first, self.stride = sequences.first, sequences.stride
        patch = sequences.patch
        self.patch = None
        if patch is not None:
            self.patch = tuple(
                torch.from_numpy(a) for a in (patch.index, patch.starts, patch.lengths)
            )
        # the patch stays on the CPU too (it is small), so that a batch's lengths
        # and longest sample are known without waiting for a GPU
        self.host_patch = self.patch
        if isinstance(y, np.ndarray) and not y.flags.writeable:
            y = y.copy()  # pandas' read-only views: torch wants writable memory
        self.y = None if y is None else torch.as_tensor(y)
        self.y_scaling = None
        if y_scaling is not None:
            self.y_scaling = tuple(torch.as_tensor(a) for a in y_scaling)
        self.weight = None if weight is None else torch.as_tensor(weight)
        self._set_windows()

    @property
    def ragged(self) -> bool:
        """Whether every sample has its own start and length (a list of
        sequences), so that none is on the grid."""
        return self.patch is not None and len(self.patch[0]) == self.n

    def _set_windows(self):
        # grid samples are one strided view of the table: a batch of them is a
        # single gather, as in a hand-written loop
        self.windows = None
        if not self.ragged:
            c = self.table.shape[1]
            self.windows = self.table.as_strided(
                (self.n, self.steps, c), (self.stride * c, c, 1), self.first * c
            )

    def __len__(self) -> int:
        return self.n

    @property
    def device(self) -> torch.device:
        return self.table.device

    def _tensors(self) -> dict:
        return {
            "table": self.table,
            "patch": self.patch,
            "y": self.y,
            "y_scaling": self.y_scaling,
            "weight": self.weight,
        }

    def _copy(self, **tensors) -> SequenceDataset:
        part = SequenceDataset.__new__(SequenceDataset)
        part.__dict__.update(self.__dict__)
        part.__dict__.update(tensors)
        part._set_windows()
        return part

    def to(self, device) -> SequenceDataset:
        """The same dataset with every tensor on ``device``: one transfer, after
        which batches are gathered where the model runs."""
        if torch.device(device) == self.device:
            return self
        moved = {k: _map(v, lambda t: t.to(device)) for k, v in self._tensors().items()}
        return self._copy(**moved)

    def nbytes(self) -> int:
        tensors = []
        for value in self._tensors().values():
            tensors.extend(value if isinstance(value, tuple) else (value,))
        return sum(t.nelement() * t.element_size() for t in tensors if t is not None)

    def __getitem__(self, index):
        return self.take(index)

    def take(self, index, host_index=None) -> tuple[Batch, torch.Tensor | None]:
        """Gather the samples at ``index`` (an index tensor or a slice).

        ``host_index``, the same index on the CPU, lets data on a GPU find the
        batch's padding on the host instead of reading it back from the device.
        """
        if isinstance(index, slice):
            start, stop, _ = index.indices(self.n)
            if self.patch is None and self.y is None and self.weight is None:
                # grid samples, nothing else to gather: one slice of the view,
                # copied (as a gather would) so the network never sees the table
                x = self.windows[start:stop].to(torch.float32, copy=True)
                return Batch(x, None, None), None
            host_index = torch.arange(start, stop)
            index = torch.arange(start, stop, device=self.device)
        weight = None if self.weight is None else self.weight[index]
        y = None if self.y is None else self.y[index]
        if y is not None and self.y_scaling is not None:
            mean, scale = self.y_scaling
            y = ((y - mean) / scale).float()
        if self.patch is None:
            return Batch(self.windows[index].float(), None, weight), y
        if host_index is not None and self.device.type != "cpu":
            starts, lengths = self._bounds(self.host_patch, host_index)
        else:
            starts, lengths = self._bounds(self.patch, index)
        if starts is None:
            return Batch(self.windows[index].float(), None, weight), y
        steps = int(lengths.max())  # steps that are padding in every sample
        padded = bool((lengths < steps).any())
        if starts.device != self.device:  # bounds found on the host: one copy
            starts, lengths = to_device(torch.stack([starts, lengths]), self.device)
        offsets = torch.arange(steps, device=self.device)  # cost time only
        pad = offsets >= lengths[:, None] if padded else None
        if not padded:
            lengths = None
        rows = starts[:, None] + offsets
        if pad is not None:
            rows = rows.masked_fill(pad, 0)
        x = self.table.index_select(0, rows.reshape(-1))
        x = x.view(rows.shape[0], steps, self.table.shape[1]).float()
        if pad is not None:
            x.masked_fill_(pad.unsqueeze(-1), 0.0)
        return Batch(x, lengths, weight), y

    def _bounds(self, patch, index):
        """Start row and length of the samples at ``index`` (on ``patch``'s
        device), or ``(None, None)`` when all are on the grid."""
        if self.ragged:
            return patch[1][index].long(), patch[2][index].long()
        pos, hit = lookup(patch[0], index)
        if not bool(hit.any()):
            return None, None
        starts = self.first + index.long() * self.stride
        lengths = torch.full_like(starts, self.steps)
        starts[hit] = patch[1][pos[hit]].long()
        lengths[hit] = patch[2][pos[hit]].long()
        return starts, lengths

    def split_tail(self, n_tail: int) -> tuple[SequenceDataset, SequenceDataset]:
        """The first ``len - n_tail`` samples and the last ``n_tail``."""
        cut = self.n - n_tail
        return self._range(0, cut), self._range(cut, self.n)

    def _range(self, a: int, b: int) -> SequenceDataset:
        """Samples ``a`` to ``b - 1``."""
        # cut on the host (no mask on the device to wait for); data on a GPU
        # get their part of the padding copied there
        host_patch = _sub_patch(self.host_patch, a, b)
        patch = host_patch
        if self.device.type != "cpu":
            patch = _map(host_patch, lambda t: t.to(self.device))
        return self._copy(
            n=b - a,
            first=self.first + a * self.stride,
            patch=patch,
            host_patch=host_patch,
            y=None if self.y is None else self.y[a:b],
            weight=None if self.weight is None else self.weight[a:b],
        )


def to_device(tensor: torch.Tensor | None, device) -> torch.Tensor | None:
    """``tensor`` on ``device``; None stays None.

    A CPU tensor bound for a GPU travels from pinned memory without blocking.
    torch's blocking copy to a GPU synchronises the stream first (its
    ``memcpy_and_sync``): the host would wait for every step already queued, so
    a copy per batch would keep it from queueing the next batch while the GPU
    runs this one. The stream orders the copy before the kernels that read it,
    and torch's pinned-memory cache keeps the source until the copy is done.
    Where memory cannot be pinned, the tensor is copied the ordinary way.
    """
    if tensor is None:
        return None
    device = torch.device(device)
    if device.type == "cuda" and tensor.device.type == "cpu":
        try:
            pinned = tensor.pin_memory()
        except RuntimeError:
            return tensor.to(device)
        return pinned.to(device, non_blocking=True)
    return tensor.to(device)


def _sub_patch(patch, a: int, b: int):
    """The part of ``patch`` for samples ``a`` to ``b - 1``, renumbered from 0."""
    if patch is None:
        return None
    keep = (patch[0] >= a) & (patch[0] < b)
    return (patch[0][keep] - a, patch[1][keep], patch[2][keep])


def _map(value, fn):
    """``fn`` applied to a tensor, or to each tensor of a tuple; None stays."""
    if value is None:
        return None
    if isinstance(value, tuple):
        return tuple(fn(t) for t in value)
    return fn(value)


class BatchIterator:
    """Mini-batches of a :class:`SequenceDataset`, in order or shuffled.

    Shuffling draws one permutation per epoch from ``generator``, so a seeded
    generator gives the same batches in the same order on every run. Past
    four million samples it is computed batch by batch instead of stored
    (:mod:`sklstm._shuffle`).
    """

    def __init__(self, dataset, batch_size=32, shuffle=False, generator=None):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator

    def __len__(self) -> int:
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self):
        n, device = len(self.dataset), self.dataset.device
        host_order = order = None
        if self.shuffle:
            # computed on the CPU; on a GPU a stored order travels once an epoch,
            # a computed one batch by batch (never waiting for the device)
            host_order = epoch_order(n, self.generator, "cpu")
            if isinstance(host_order, torch.Tensor):
                if _lengths_vary(self.dataset):
                    host_order = by_length(
                        host_order,
                        self.dataset.host_patch[2],
                        self.batch_size,
                        self.generator,
                    )
                order = to_device(host_order, device)
        for start in range(0, n, self.batch_size):
            stop = min(start + self.batch_size, n)
            if host_order is None:
                yield self.dataset.take(slice(start, stop))
                continue
            host = host_order[start:stop]
            index = to_device(host, device) if order is None else order[start:stop]
            yield self.dataset.take(index, host)


BUCKET = 16  # batches whose samples are sorted by length together


def _lengths_vary(dataset) -> bool:
    """Whether the samples differ in length (then batches group by length)."""
    if not getattr(dataset, "ragged", False):
        return False
    lengths = dataset.host_patch[2]
    return bool(lengths.min() != lengths.max())


def by_length(order, lengths, batch_size: int, generator) -> torch.Tensor:
    """A shuffled order regrouped so that each batch holds sequences of similar
    length: every run of BUCKET batches is sorted by length and cut into
    batches, which are then shuffled (a partial batch stays last). A batch is
    padded to its longest sequence, so this spares most of the padding of
    sequences whose lengths vary widely, at the same randomness of content."""
    n = len(order)
    span = batch_size * BUCKET
    keys = lengths[order.long()]
    parts = [
        order[a : a + span][torch.argsort(keys[a : a + span], stable=True)]
        for a in range(0, n, span)
    ]
    grouped = torch.cat(parts)
    full = n // batch_size
    shuffled = torch.randperm(full, generator=generator)
    batches = grouped[: full * batch_size].view(full, batch_size)[shuffled]
    return torch.cat([batches.reshape(-1), grouped[full * batch_size :]])


class TailSplit:
    """skorch ``train_split`` that validates on the last ``fraction`` of samples.

    Samples are in time order after windowing, so the tail is the most recent
    data; skorch's default ``ValidSplit`` would take the oldest fold instead.
    """

    def __init__(self, fraction: float, n_tail: int | None = None):
        self.fraction = fraction
        self.n_tail = n_tail  # a size set by whoever ordered the samples

    def __call__(self, dataset, y=None, **kwargs):
        n = len(dataset)
        n_tail = self.n_tail or math.ceil(self.fraction * n)
        if n_tail < 1 or n - n_tail < 1:
            raise ValueError(
                f"early_stopping needs at least one training and one validation "
                f"sample; validation_fraction={self.fraction} of {n} samples leaves "
                f"{n - n_tail} for training and {n_tail} for validation."
            )
        return dataset.split_tail(n_tail)


def place(dataset: SequenceDataset, device: str) -> SequenceDataset:
    """Move the data to ``device`` once if it takes under a quarter of the free
    device memory; else leave it on the CPU and let each batch travel."""
    if device == "cpu":
        return dataset
    free, _ = torch.cuda.mem_get_info(torch.device(device))
    return dataset.to(device) if dataset.nbytes() < free // 4 else dataset


def normalised_weights(sample_weight: np.ndarray | None) -> np.ndarray | None:
    """Scale weights to mean 1 so that the loss keeps its usual size (by the
    largest first, so that weights near float64's limit do not overflow)."""
    if sample_weight is None:
        return None
    weight = sample_weight / sample_weight.max()
    return (weight / weight.mean()).astype(np.float32)
