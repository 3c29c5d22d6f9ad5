"""The epoch's shuffled order, without storing it when the data are long.

``torch.randperm(n)`` holds 4 bytes a sample (int32): 40 MB for ten million
windows, half a one-column float64 table. Past ``EXACT_LIMIT`` samples the order
is instead a seeded pseudo-random permutation computed batch by batch: a
four-round Feistel network over the smallest power of four that holds ``n``,
with cycle walking (a value that lands at ``n`` or beyond is encrypted again
until it falls inside, which keeps the map a bijection of ``range(n)``).
"""

from __future__ import annotations

import torch

EXACT_LIMIT = 1 << 22  # up to 4,194,304 samples the order is torch.randperm's
_ROUNDS = 4
_INT32_MAX = (1 << 31) - 1


def epoch_order(n: int, generator=None, device=None, exact_limit: int | None = None):
    """The shuffled order of one epoch: ``order[start:stop]`` gives an index tensor.

    Drawn from ``generator`` on the CPU either way, so a seeded generator gives
    the same order on every run and on every device.
    """
    limit = EXACT_LIMIT if exact_limit is None else exact_limit
    if n <= limit:  # int32 halves its memory, same permutation as int64
        return torch.randperm(n, generator=generator, dtype=torch.int32).to(device)
    return FeistelPermutation(n, generator, device)


class FeistelPermutation:
    """A seeded bijection of ``range(n)`` that costs no memory, sliced by position.

    Parameters
    ----------
    n : int
        Number of positions, at least 1.
    generator : torch.Generator or None
        Source of the round keys.
    device : torch.device or None
        Where the index tensors are made.
    """

    def __init__(self, n: int, generator=None, device=None):
        self.n = n
        bits = max(2, (n - 1).bit_length())
        self.half = (bits + 1) // 2  # each half of a value, in bits
        self.mask = (1 << self.half) - 1
        keys = torch.randint(0, 1 << 31, (_ROUNDS,), generator=generator)
        self.keys = [int(k) for k in keys]
        self.device = device

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: slice) -> torch.Tensor:
        start, stop, step = index.indices(self.n)
        position = torch.arange(start, stop, step, device=self.device)
        value = self._encrypt(position)
        outside = value >= self.n
        while outside.any():  # cycle walking: under four passes on average
            value = torch.where(outside, self._encrypt(value), value)
            outside = value >= self.n
        return value.int() if self.n <= _INT32_MAX else value  # as randperm's

    def _encrypt(self, value: torch.Tensor) -> torch.Tensor:
        left, right = value >> self.half, value & self.mask
        for key in self.keys:
            left, right = right, left ^ self._mix(right, key)
        return (left << self.half) | right

    def _mix(self, value: torch.Tensor, key: int) -> torch.Tensor:
        # an integer hash (multiply, xor-shift) of ``half``-bit values; the
        # products stay under 2**63 because value < 2**32 and the factors < 2**31
        h = (value ^ key) * 0x45D9F3B
        h = ((h >> 16) ^ h) & 0xFFFFFFFF
        h = (h * 0x45D9F3B) & 0xFFFFFFFF
        return ((h >> 16) ^ h) & self.mask
