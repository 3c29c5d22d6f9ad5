"""Cost of an epoch on variable-length sequences against fixed-length ones.

Same padded size (n sequences x 200 steps x 8 channels), same network; the
variable-length set has lengths drawn from 20 to 200 and NaN padding after
them. Fixed and variable fits alternate, ``--repeats`` pairs of each
direction, and the ratio is the median of the pairs' ratios (the machine is
noisy: one fit alone once took 1.4x its pair's time). The target is at most
1.3x. Run:

    .venv/bin/python benchmarks/variable_length.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from sklstm import LSTMRegressor


def epoch_seconds(X, y, bidirectional, epochs):
    reg = LSTMRegressor(
        64,
        bidirectional=bidirectional,
        max_epochs=epochs,
        n_iter_no_change=epochs + 1,
        batch_size=32,
        random_state=0,
    ).fit(X, y)
    return statistics.median(h["dur"] for h in reg.history_)


def packing_ratio(fixed, lengths, repeats=5):
    """What packing would cost: a bare bidirectional nn.LSTM, forward and
    backward over 32-sequence batches, packed against plain fixed-length."""
    from torch.nn.utils.rnn import pack_padded_sequence

    torch.manual_seed(0)
    lstm = torch.nn.LSTM(fixed.shape[2], 64, batch_first=True, bidirectional=True)
    x = torch.as_tensor(fixed[:32], dtype=torch.float32)
    lens = torch.as_tensor(lengths[:32])

    def plain():
        lstm(x)[0].sum().backward()

    def packed():
        p = pack_padded_sequence(x, lens, batch_first=True, enforce_sorted=False)
        lstm(p)[0].data.sum().backward()

    times = {}
    for name, step in (("plain", plain), ("packed", packed)):
        step()
        start = time.perf_counter()
        for _ in range(repeats):
            step()
        times[name] = time.perf_counter() - start
    return times["packed"] / times["plain"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    steps, channels = 200, 8
    fixed = rng.normal(size=(args.samples, steps, channels))
    y = fixed[:, :20].mean(axis=(1, 2))
    lengths = rng.integers(20, steps + 1, size=args.samples)
    variable = fixed.copy()
    variable[np.arange(steps) >= lengths[:, None]] = np.nan
    print(f"{args.samples} sequences x {steps} steps x {channels} channels, hidden 64")
    print(f"lengths {lengths.min()}-{lengths.max()} (mean {lengths.mean():.0f})")
    for bidirectional in (False, True):
        pairs = [
            (
                epoch_seconds(fixed, y, bidirectional, args.epochs),
                epoch_seconds(variable, y, bidirectional, args.epochs),
            )
            for _ in range(args.repeats)
        ]
        t_fixed = statistics.median(f for f, _ in pairs)
        t_var = statistics.median(v for _, v in pairs)
        ratios = [v / f for f, v in pairs]
        name = "bidirectional " if bidirectional else "unidirectional"
        print(
            f"{name}: fixed {t_fixed:.2f} s/epoch, variable {t_var:.2f} s/epoch, "
            f"ratio {statistics.median(ratios):.2f}x (median of {args.repeats} "
            f"pairs; {min(ratios):.2f}-{max(ratios):.2f}x)"
        )
    print(
        "for reference, pack_padded_sequence in a bare bidirectional nn.LSTM: "
        f"{packing_ratio(fixed, lengths):.2f}x its fixed-length time"
    )


if __name__ == "__main__":
    main()
