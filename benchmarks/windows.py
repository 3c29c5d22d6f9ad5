"""Peak memory of windowing a long series and of one training epoch over it.

Each phase runs in a fresh process and reports how far its peak resident memory
rose above the same process right after it built the table, so imports and the
table itself are not counted. The "bare torch" phase runs the same network and
batch size on a tiny tensor: what it needs (activations, torch's own buffers) any
training needs, whatever the data; "bare_padded" runs it inside sklstm's heap
pad, which keeps freed memory for reuse (sklstm/_heap.py). Run:

    .venv/bin/python benchmarks/windows.py            # 10 million rows, window 100
    .venv/bin/python benchmarks/windows.py --rows 1000000 --epochs 5
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from contextlib import nullcontext

HIDDEN, BATCH = 8, 4096
PHASES = ("window", "bare", "bare_padded", "epoch", "epoch_make_windows")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def phase(name: str, rows: int, window: int, epochs: int = 1) -> dict:
    import numpy as np
    import torch

    from sklstm import LSTMRegressor, SequenceWindower, make_windows
    from sklstm._heap import heap_pad

    torch.set_num_threads(2)
    series = np.random.default_rng(0).normal(size=(rows, 1)).cumsum(axis=0)
    target = np.r_[series[1:, 0], series[-1, 0]]
    base = peak_mb()
    start = time.perf_counter()
    # every epoch runs (no early stop), as in a long fit
    fit = dict(max_epochs=epochs, n_iter_no_change=epochs + 1)
    if name == "window":
        windows = SequenceWindower(window).fit_transform(series)
        assert windows.shape == (rows, window, 1)
        checksum = float(windows[-1].sum() + windows[rows // 2].sum())  # read them
        assert np.isfinite(checksum)
    elif name == "epoch":  # in a Pipeline's way: one window per row
        windows = SequenceWindower(window).fit_transform(series)
        LSTMRegressor(HIDDEN, batch_size=BATCH, random_state=0, **fit).fit(
            windows, target
        )
    elif name == "epoch_make_windows":  # (X, y) pairs of full windows
        X, y = make_windows(series, window)
        LSTMRegressor(HIDDEN, batch_size=BATCH, random_state=0, **fit).fit(X, y)
    elif name in ("bare", "bare_padded"):
        model = torch.nn.LSTM(1, HIDDEN, batch_first=True)
        head = torch.nn.Linear(HIDDEN, 1)
        params = list(model.parameters()) + list(head.parameters())
        optimizer = torch.optim.Adam(params)
        x, y = torch.randn(BATCH, window, 1), torch.randn(BATCH, 1)
        with heap_pad() if name == "bare_padded" else nullcontext():
            for _ in range(20):
                out, _ = model(x)
                loss = torch.nn.functional.mse_loss(head(out[:, -1]), y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
    return {
        "phase": name,
        "rise_mb": peak_mb() - base,
        "seconds": time.perf_counter() - start,
        "table_mb": series.nbytes / 2**20,
    }


def main() -> None:
    from sklstm._heap import _glibc, pad_bytes

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--window", type=int, default=100)
    parser.add_argument(
        "--epochs", type=int, default=1, help="epochs of the two training phases"
    )
    parser.add_argument("--phase", choices=PHASES)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, args.rows, args.window, args.epochs)))
        return
    results = {}
    for name in PHASES:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--phase",
                name,
                "--rows",
                str(args.rows),
                "--window",
                str(args.window),
                "--epochs",
                str(args.epochs),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        results[name] = json.loads(out.stdout.strip().splitlines()[-1])
    table = results["window"]["table_mb"]
    copied = args.rows * args.window * 8 / 2**20  # the windows as a float64 array
    bare = results["bare"]["rise_mb"]
    epochs = f", {args.epochs} epochs" if args.epochs > 1 else ""
    print(f"{args.rows:,} rows x 1 column, window {args.window}{epochs}")
    print(f"table (float64)                      {table:9.0f} MiB")
    print(
        f"windows if copied (float64)          {copied:9.0f} MiB "
        f"({copied / table:.0f}x the table)"
    )
    print(
        f"SequenceWindower: peak rise          {results['window']['rise_mb']:9.0f} "
        f"MiB ({results['window']['rise_mb'] / table:.2f}x the table)"
    )
    padded = results["bare_padded"]["rise_mb"]
    print(f"bare torch, same network and batch   {bare:9.0f} MiB (needed anyway)")
    pad = pad_bytes() >> 20 if _glibc() is not None else 0
    kept = f"a {pad} MiB pad keeps {padded - bare:.0f} MiB more" if pad else "pad off"
    print(f"the same inside sklstm's heap pad    {padded:9.0f} MiB ({kept})")
    for name, what in (
        ("epoch", "SequenceWindower + training"),
        ("epoch_make_windows", "make_windows + training"),
    ):
        rise = results[name]["rise_mb"]
        print(
            f"{what:<30}{rise:9.0f} MiB peak rise in {results[name]['seconds']:.0f} "
            f"s; beyond bare torch {rise - bare:6.0f} MiB "
            f"({(rise - bare) / table:.2f}x the table), beyond it in the pad "
            f"{rise - padded:6.0f} MiB ({(rise - padded) / table:.2f}x)"
        )


if __name__ == "__main__":
    main()
