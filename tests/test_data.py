"""The lean batch path: same batches as the plain reference, in the same order."""

import numpy as np
import pytest
import torch

from sklstm import SequenceWindower
from sklstm._data import BatchIterator, SequenceDataset
from sklstm._sequences import read_array, read_ragged

rng = np.random.default_rng(0)


@pytest.mark.parametrize(
    "X",
    [
        rng.normal(size=(30, 7, 3)),  # dense
        np.lib.stride_tricks.sliding_window_view(rng.normal(size=40), 6)[::2],  # view
        SequenceWindower(5).fit_transform(rng.normal(size=(25, 2))),  # padded view
    ],
    ids=["dense", "window view", "padded windows"],
)
@pytest.mark.parametrize("index", [[3, 0, 7, 7, 1], [9, 4, 12], slice(2, 11)])
def test_batches_equal_the_plain_gather(X, index):
    """Check that a batch of dense data, a window view or padded windows holds what a
    plain gather does: each sample's valid steps first, zeros after, its target."""
    X = X if X.ndim == 3 else X[:, :, None]
    data = SequenceDataset(read_array(X), y=np.arange(len(X)))
    reference = np.nan_to_num(np.array(X, dtype=np.float32))  # (n, steps, c)
    if isinstance(index, list):
        index = torch.tensor(index, dtype=torch.int32)  # as the shuffle draws them
    batch, y = data.take(index)
    chosen = np.arange(len(X))[index]
    lengths = (~np.isnan(X).all(axis=2)).sum(axis=1)
    # a batch of full-length samples takes the one-gather path, unmasked
    assert (batch.lengths is None) == (lengths[chosen] == X.shape[1]).all()
    for row, i in enumerate(chosen):
        n = lengths[i]
        valid = reference[i, X.shape[1] - n :] if n < X.shape[1] else reference[i]
        np.testing.assert_array_equal(batch.x[row, :n].numpy(), valid)
        assert not batch.x[row, n:].any()
    np.testing.assert_array_equal(y.numpy(), chosen)


@pytest.mark.parametrize("index", [[3, 0, 7, 7, 1], [2, 9], slice(2, 11)])
def test_ragged_batches_equal_the_plain_gather(index):
    """Check that batches of a ragged list equal the plain gather, where every sample
    has its own start and length."""
    X = [rng.normal(size=(n, 2)) for n in (4, 7, 2, 7, 5, 1, 6, 3, 7, 2, 5, 4)]
    data = SequenceDataset(read_ragged(X), y=np.arange(12))
    if isinstance(index, list):
        index = torch.tensor(index, dtype=torch.int32)
    batch, y = data.take(index)
    chosen = np.arange(12)[index]
    lengths = np.array([len(X[i]) for i in chosen])
    assert batch.x.shape == (len(chosen), lengths.max(), 2)
    if (lengths == lengths.max()).all():
        assert batch.lengths is None
    else:
        np.testing.assert_array_equal(batch.lengths.numpy(), lengths)
    for row, i in enumerate(chosen):
        n = len(X[i])
        np.testing.assert_array_equal(batch.x[row, :n].numpy(), X[i].astype(np.float32))
        assert not batch.x[row, n:].any()
    np.testing.assert_array_equal(y.numpy(), chosen)


def test_shuffled_order_is_the_seeded_permutation():
    """Check that a shuffled epoch follows the seeded permutation and an unshuffled one
    keeps the samples' order."""
    data = SequenceDataset(read_array(rng.normal(size=(50, 4, 1))), y=np.arange(50))
    g = torch.Generator().manual_seed(3)
    seen = torch.cat([y for _, y in BatchIterator(data, 16, shuffle=True, generator=g)])
    expected = torch.randperm(50, generator=torch.Generator().manual_seed(3))
    assert torch.equal(seen, expected)
    in_order = torch.cat([y for _, y in BatchIterator(data, 16)])
    assert torch.equal(in_order, torch.arange(50))


def test_data_moves_to_the_device_once_and_batches_stay_there(monkeypatch):
    """Check that on the GPU path (run on torch's meta device) every tensor a batch is
    made of is already where the model runs (a CPU one would fail here)."""
    from sklstm._data import place

    windows = np.lib.stride_tricks.sliding_window_view(rng.normal(size=60), 8)
    data = SequenceDataset(read_array(windows[:, :, None]), y=np.arange(53.0))
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (10**9, 10**9))
    moved = place(data, "meta")
    assert moved.device.type == "meta" and moved.windows is not None
    g = torch.Generator().manual_seed(0)
    for batch, y in BatchIterator(moved, 16, shuffle=True, generator=g):
        assert batch.x.device.type == "meta" and y.device.type == "meta"
        assert batch.x.shape[1:] == (8, 1)
    # too big for a quarter of the free memory: stays on the CPU
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (100, 10**9))
    assert place(data, "meta") is data


@pytest.mark.parametrize("ragged", [False, True], ids=["padded windows", "ragged"])
def test_tail_split_gathers_what_the_whole_dataset_does(ragged):
    """Check that the head and tail of a split gather what the whole dataset does for
    the same samples, for padded windows and ragged lists."""
    if ragged:
        X = [rng.normal(size=(n, 2)) for n in rng.integers(1, 9, size=25)]
        sequences = read_ragged(X)
    else:
        sequences = read_array(
            SequenceWindower(5).fit_transform(rng.normal(size=(25, 2)))
        )
    data = SequenceDataset(sequences, y=np.arange(25.0), weight=np.ones(25))
    head, tail = data.split_tail(22)  # windows: the head holds padded and grid ones
    for part, offset in ((head, 0), (tail, 3)):
        index = torch.arange(len(part))
        got, y = part.take(index)
        want, y_want = data.take(index + offset)
        assert torch.equal(got.x, want.x) and torch.equal(y, y_want)
        assert (got.lengths is None) == (want.lengths is None)


@pytest.mark.parametrize("exact_limit", [None, 10], ids=["stored", "computed"])
def test_padded_batches_on_a_device_are_shaped_on_the_host(monkeypatch, exact_limit):
    """Check that variable-length data on a GPU, run on torch's meta device, which
    holds no values (reading one back would fail), take each batch's lengths and
    longest sample from the CPU's copy of the index and the padding, in stored and
    in computed (Feistel) epoch orders, and match the batches on the CPU."""
    from sklstm import _shuffle
    from sklstm._data import place
    from sklstm._sequences import read_ragged

    if exact_limit is not None:
        monkeypatch.setattr(_shuffle, "EXACT_LIMIT", exact_limit)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (10**9, 10**9))
    X = [rng.normal(size=(n, 2)) for n in rng.integers(3, 12, size=40)]
    data = SequenceDataset(read_ragged(X), y=np.arange(40))
    moved = place(data, "meta")
    assert moved.device.type == "meta"

    def batches(dataset):
        g = torch.Generator().manual_seed(1)
        return list(BatchIterator(dataset, 8, shuffle=True, generator=g))

    # the whole data, and the training part of an early-stopping split
    on_cpu = batches(data) + batches(data.split_tail(10)[0])
    on_device = batches(moved) + batches(moved.split_tail(10)[0])
    assert len(on_cpu) == len(on_device) == 5 + 4
    for (want, _), (got, y) in zip(on_cpu, on_device, strict=True):
        assert got.x.device.type == "meta" and y.device.type == "meta"
        assert got.x.shape == want.x.shape  # padded to the batch's longest sample
        assert (got.lengths is None) == (want.lengths is None)
        assert got.lengths is None or got.lengths.device.type == "meta"


def test_length_buckets_read_each_samples_own_length():
    """Check that shuffled batches of a ragged dataset, even after its samples
    were reordered (as the validation split does), group samples by their own
    lengths: the bucketing indexes the lengths by sample, which holds because a
    ragged dataset's patch lists every sample in order."""
    rng = np.random.default_rng(0)
    lengths = rng.integers(2, 60, size=256)
    seqs = [rng.normal(size=(n, 1)) for n in lengths]
    order = rng.permutation(len(seqs))
    sequences = read_ragged(seqs).select(order)
    dataset = SequenceDataset(sequences, np.zeros(len(seqs)))
    assert dataset.ragged
    np.testing.assert_array_equal(dataset.host_patch[0].numpy(), np.arange(256))
    generator = torch.Generator().manual_seed(0)
    iterator = BatchIterator(dataset, batch_size=8, shuffle=True, generator=generator)
    spreads = []
    for batch, _ in iterator:
        got = batch.lengths.numpy()
        assert set(got) <= set(lengths)
        spreads.append(got.max() - got.min())
    # 16 batches of 8 sorted together: neighbours in length, not 2 to 59
    assert np.median(spreads) <= 4
