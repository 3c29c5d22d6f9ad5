"""The stored-nothing shuffle of long data: a seeded bijection, batch by batch."""

import numpy as np
import pytest
import torch

from sklstm._data import BatchIterator, SequenceDataset
from sklstm._sequences import read_array
from sklstm._shuffle import EXACT_LIMIT, FeistelPermutation, epoch_order


@pytest.mark.parametrize("n", [1, 2, 3, 17, 1000, 4097, 65536, 100_003])
def test_every_position_once(n):
    """Check that the Feistel permutation gives every position once, as int32."""
    order = FeistelPermutation(n, torch.Generator().manual_seed(0))
    pieces = [order[start : start + 999] for start in range(0, n, 999)]
    seen = torch.cat(pieces)
    assert seen.dtype == torch.int32
    assert torch.equal(torch.sort(seen).values, torch.arange(n, dtype=torch.int32))


def test_seeded_reproducible_and_shuffled():
    """Check that the permutation repeats for a seed, changes with it, and leaves no
    trace of the input order."""

    def draw(seed):
        return FeistelPermutation(10_000, torch.Generator().manual_seed(seed))[:]

    assert torch.equal(draw(1), draw(1))
    assert not torch.equal(draw(1), draw(2))
    order = draw(1).numpy()
    # no trace of the input order: neighbours land far apart, the correlation of
    # position and value is near zero, and each tenth of the epoch draws from
    # every tenth of the data
    assert abs(np.corrcoef(np.arange(10_000), order)[0, 1]) < 0.05
    assert np.median(np.abs(np.diff(order))) > 1000
    counts = np.histogram2d(np.arange(10_000), order, bins=10)[0]
    assert counts.min() > 60 and counts.max() < 140  # 100 each if uniform


def test_epoch_order_switches_past_the_limit():
    """Check that the epoch order is torch's seeded randperm up to the limit and a
    Feistel permutation past it."""
    g = torch.Generator().manual_seed(3)
    exact = epoch_order(50, g)
    assert torch.equal(
        exact, torch.randperm(50, generator=torch.Generator().manual_seed(3))
    )
    assert isinstance(epoch_order(50, g, exact_limit=10), FeistelPermutation)
    assert EXACT_LIMIT >= 1 << 20  # small data keep torch's own permutation


def test_batch_iterator_over_long_data_visits_each_sample_once(monkeypatch):
    """Check that batches over data past the limit visit each sample once, in the seeded
    Feistel order, each window still matching its target."""
    monkeypatch.setattr("sklstm._shuffle.EXACT_LIMIT", 10)
    windows = np.lib.stride_tricks.sliding_window_view(np.arange(260.0), 5)
    data = SequenceDataset(read_array(windows[:, :, None]), y=np.arange(256.0))
    g = torch.Generator().manual_seed(0)
    batches = list(BatchIterator(data, 32, shuffle=True, generator=g))
    seen = torch.cat([y for _, y in batches])
    # the stored-nothing order, not randperm's: the same seed gives this order
    expected = FeistelPermutation(256, torch.Generator().manual_seed(0))[:]
    assert torch.equal(seen, expected.double())
    assert sorted(seen.tolist()) == list(range(256))
    assert seen.tolist() != list(range(256))
    for batch, y in batches:  # each window still matches its target
        np.testing.assert_array_equal(batch.x[:, 0, 0].numpy(), y.numpy())
