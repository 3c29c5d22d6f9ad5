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


@dataclass
class Batch:
    """Model inputs of one mini-batch (what skorch calls ``X``)."""

    x: torch.Tensor
    lengths: torch.Tensor | None = None
    weight: torch.Tensor | None = None

    def __len__(self) -> int:
        return self.x.shape[0]


class SequenceDataset(torch.utils.data.Dataset):
    """Sequences (a table plus each sample's start and length), optional targets
    and weights. A mini-batch is gathered from the table when it is taken, so
    overlapping windows are never materialised all at once."""

    def __init__(self, sequences, y=None, weight=None):
        with warnings.catch_warnings():
            # a window view is read-only; the table is only ever read from
            warnings.filterwarnings(
                "ignore", message=".*not writable", category=UserWarning
            )
            self.table = torch.from_numpy(sequences.table)
        self.starts = torch.from_numpy(sequences.starts)
        lengths = sequences.lengths
        # None marks "every sequence is full length", which skips all masking
        self.lengths = None if lengths is None else torch.from_numpy(lengths)
        self.steps = sequences.steps
        # samples that all fill `steps` and start a fixed number of rows apart
        # (any dense array, any window view) are one strided view of the table:
        # a batch is then a single gather, as in a hand-written loop
        self.windows = None
        if self.lengths is None:
            self.windows = _regular_view(self.table, self.starts, self.steps)
        self.y = None if y is None else torch.as_tensor(y)
        self.weight = None if weight is None else torch.as_tensor(weight)

    def __len__(self) -> int:
        return self.starts.shape[0]

    @property
    def device(self) -> torch.device:
        return self.table.device

    def to(self, device) -> SequenceDataset:
        """The same dataset with every tensor on ``device``: one transfer, after
        which batches are gathered where the model runs."""
        if torch.device(device) == self.device:
            return self
        part = SequenceDataset.__new__(SequenceDataset)
        part.table = self.table.to(device)
        part.starts = self.starts.to(device)
        part.lengths = None if self.lengths is None else self.lengths.to(device)
        part.steps = self.steps
        part.windows = None
        if self.windows is not None:  # the same view of the moved table
            w = self.windows
            part.windows = part.table.as_strided(
                w.shape, w.stride(), w.storage_offset()
            )
        part.y = None if self.y is None else self.y.to(device)
        part.weight = None if self.weight is None else self.weight.to(device)
        return part

    def nbytes(self) -> int:
        tensors = (self.table, self.starts, self.lengths, self.y, self.weight)
        return sum(t.nelement() * t.element_size() for t in tensors if t is not None)

    def __getitem__(self, index):
        return self.take(index)

    def take(self, index) -> tuple[Batch, torch.Tensor | None]:
        """Gather the samples at ``index`` (an index tensor or a slice)."""
        weight = None if self.weight is None else self.weight[index]
        y = None if self.y is None else self.y[index]
        if self.windows is not None:
            return Batch(self.windows[index].float(), None, weight), y
        starts = self.starts[index]
        steps, lengths, pad = self.steps, None, None
        offsets = torch.arange(steps, device=starts.device)
        if self.lengths is not None:
            lengths = self.lengths[index].long()
            steps = int(lengths.max())  # steps that are padding in every sample
            offsets = offsets[:steps]  # cost time only
            if bool((lengths == steps).all()):
                lengths = None
            else:
                pad = offsets >= lengths[:, None]
        rows = starts[:, None] + offsets
        if pad is not None:
            rows = rows.masked_fill(pad, 0)
        x = self.table.index_select(0, rows.reshape(-1))
        x = x.view(rows.shape[0], steps, self.table.shape[1]).float()
        if pad is not None:
            x.masked_fill_(pad.unsqueeze(-1), 0.0)
        return Batch(x, lengths, weight), y

    def split_tail(self, n_tail: int) -> tuple[SequenceDataset, SequenceDataset]:
        """The first ``len - n_tail`` samples and the last ``n_tail``."""
        cut = len(self) - n_tail
        return self._slice(slice(0, cut)), self._slice(slice(cut, None))

    def _slice(self, sl: slice) -> SequenceDataset:
        part = SequenceDataset.__new__(SequenceDataset)
        part.table = self.table
        part.starts = self.starts[sl]
        part.lengths = None if self.lengths is None else self.lengths[sl]
        part.steps = self.steps
        part.windows = None if self.windows is None else self.windows[sl]
        part.y = None if self.y is None else self.y[sl]
        part.weight = None if self.weight is None else self.weight[sl]
        return part


def _regular_view(table, starts, steps):
    """``(n, steps, channels)`` strided view of ``table`` if sample ``i`` starts at
    row ``starts[0] + i * k`` for one ``k``; else None."""
    n, channels = starts.shape[0], table.shape[1]
    if n == 0:
        return None
    first = int(starts[0])
    k = int(starts[1] - starts[0]) if n > 1 else steps
    if k < 0 or (n > 1 and not bool((starts.diff() == k).all())):
        return None
    return table.as_strided(
        (n, steps, channels), (k * channels, channels, 1), first * channels
    )


class BatchIterator:
    """Mini-batches of a :class:`SequenceDataset`, in order or shuffled.

    Shuffling draws one permutation per epoch from ``generator``, so a seeded
    generator gives the same batches in the same order on every run.
    """

    def __init__(self, dataset, batch_size=32, shuffle=False, generator=None):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator

    def __len__(self) -> int:
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        order = None
        if self.shuffle:  # int32 halves its memory, same permutation as int64
            order = torch.randperm(n, generator=self.generator, dtype=torch.int32)
            # drawn on the CPU (the seeded generator lives there), moved once
            order = order.to(self.dataset.device)
        for start in range(0, n, self.batch_size):
            stop = min(start + self.batch_size, n)
            index = slice(start, stop) if order is None else order[start:stop]
            yield self.dataset.take(index)


class TailSplit:
    """skorch ``train_split`` that validates on the last ``fraction`` of samples.

    Samples are in time order after windowing, so the tail is the most recent
    data; skorch's default ``ValidSplit`` would take the oldest fold instead.
    """

    def __init__(self, fraction: float):
        self.fraction = fraction

    def __call__(self, dataset, y=None, **kwargs):
        n = len(dataset)
        n_tail = math.ceil(self.fraction * n)
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
    """Scale weights to mean 1 so that the loss keeps its usual size."""
    if sample_weight is None:
        return None
    return (sample_weight / sample_weight.mean()).astype(np.float32)
