"""What the heap pad (sklstm._heap) buys in time and costs in peak memory.

For each shape, one fit in a fresh process with the pad off (SKLSTM_HEAP_PAD_MB=0)
and one with the default pad, interleaved, median of --repeats: the fit's seconds,
its page faults, and how far the process's peak memory rose during the fit (after
a small warm-up fit has paid the imports). glibc only; elsewhere the pad does
nothing and neither does this script.

Run:  .venv/bin/python benchmarks/heap.py [--repeats 3] [--threads 2] [--smoke]
      .venv/bin/python benchmarks/heap.py --pads 0 64 256 1024   # seconds and peak
                                                                # rise at each pad
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

# hidden, batch, steps, layers, bidirectional: workload 4 of vs_torch.py, the
# seed's sine, windows.py's network, and three in between
SHAPES = [
    (64, 256, 50, 2, False),
    (50, 32, 10, 1, False),
    (8, 4096, 100, 1, False),
    (32, 1024, 100, 1, False),
    (128, 128, 200, 2, False),
    (64, 512, 100, 2, True),
]


def one_fit(shape, batches: int, threads: int) -> dict:
    import resource
    import time

    import numpy as np
    import torch

    from sklstm import LSTMRegressor

    torch.set_num_threads(threads)
    hidden, batch, steps, layers, bidirectional = shape
    X = np.random.default_rng(0).normal(size=(batch * batches, steps, 2))
    y = X[:, -1, 0] + X[:, 0, 1]

    def fit(n):
        return LSTMRegressor(
            hidden,
            num_layers=layers,
            bidirectional=bidirectional,
            batch_size=batch,
            max_epochs=2,
            n_iter_no_change=3,
            random_state=0,
        ).fit(X[:n], y[:n])

    fit(8)  # imports and first-call costs
    usage = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    fit(len(X))
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "seconds": seconds,
        "faults": after.ru_minflt - usage.ru_minflt,
        "peak_rise_mb": (after.ru_maxrss - usage.ru_maxrss) / 1024,  # KiB on Linux
    }


def run(shape, pad: str | None, batches: int, threads: int) -> dict:
    env = dict(os.environ)
    env.pop("SKLSTM_HEAP_PAD_MB", None)
    if pad is not None:
        env["SKLSTM_HEAP_PAD_MB"] = pad
    args = [sys.executable, __file__, "--one", json.dumps(shape)]
    args += ["--batches", str(batches), "--threads", str(threads)]
    out = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def shape_name(shape) -> str:
    hidden, batch, steps, layers, bidirectional = shape
    return f"{hidden} {batch} {steps} {layers}{' bi' if bidirectional else ''}"


def compare_pads(shapes, pads, batches: int, repeats: int, threads: int) -> None:
    print(f"seconds / peak rise (MiB) of a fit at each pad (MiB), median of {repeats}")
    print(f"{'hidden batch steps layers':<30}" + "".join(f"{p:>14}" for p in pads))
    for shape in shapes:
        cells = []
        for pad in pads:
            rs = [run(shape, str(pad), batches, threads) for _ in range(repeats)]
            seconds = statistics.median(r["seconds"] for r in rs)
            peak = statistics.median(r["peak_rise_mb"] for r in rs)
            cells.append(f"{seconds:.2f} / {peak:.0f}")
        print(f"{shape_name(shape):<30}" + "".join(f"{c:>14}" for c in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for tests")
    parser.add_argument(
        "--pads", type=int, nargs="+", metavar="MB", help="compare these pad sizes"
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--batches", type=int, default=12, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_fit(json.loads(args.one), args.batches, args.threads)))
        return
    from sklstm._heap import _glibc, pad_bytes

    if _glibc() is None:
        print("No glibc here: the heap pad does nothing; skipped.")
        return
    shapes = [(4, 64, 10, 1, False)] if args.smoke else SHAPES
    batches = 2 if args.smoke else 12
    repeats = 1 if args.smoke else args.repeats
    if args.pads:
        compare_pads(shapes, args.pads, batches, repeats, args.threads)
        return
    print(
        f"{args.threads} threads, {batches} batches x 2 epochs a fit, default pad "
        f"{pad_bytes() >> 20} MiB, median of {repeats}"
    )
    print(
        f"{'hidden batch steps layers':<30}{'s off':>7}{'s on':>7}{'speed-up':>10}"
        f"{'faults off':>12}{'faults on':>11}{'peak off':>10}{'peak on':>9}"
    )
    for shape in shapes:
        runs = {"off": [], "on": []}
        for _ in range(repeats):  # interleaved: both see the same machine state
            runs["off"].append(run(shape, "0", batches, args.threads))
            runs["on"].append(run(shape, None, batches, args.threads))
        m = {
            side: {k: statistics.median(r[k] for r in rs) for k in rs[0]}
            for side, rs in runs.items()
        }
        name = shape_name(shape)
        off, on = m["off"], m["on"]
        print(
            f"{name:<30}{off['seconds']:>7.2f}{on['seconds']:>7.2f}"
            f"{off['seconds'] / on['seconds']:>9.2f}x{off['faults']:>12.0f}"
            f"{on['faults']:>11.0f}{off['peak_rise_mb']:>8.0f}MB"
            f"{on['peak_rise_mb']:>7.0f}MB"
        )


if __name__ == "__main__":
    main()
