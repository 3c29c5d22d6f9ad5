"""GridSearchCV with n_jobs=2 against serial, on this machine's two cores.

Eight candidates (hidden size x learning rate x layers) x 3 TimeSeriesSplit folds
of the seed's sine forecast (workload 1 of vs_torch.py, 20 epochs). joblib's worker
processes start torch at one thread each; the serial search runs at torch's
default thread count, as a user's would. The process first pays its one-off
costs with a small fit; then the first parallel search starts joblib's workers
(cold: each imports torch, scikit-learn and skorch), and after it serial and
parallel searches alternate (warm: the workers exist, as for later searches in a
session), so that both see the same machine. ``--serial-threads 1`` runs the
serial search at one torch thread instead (the parallel one's refit, in this
process, stays at the default). ``--dask`` runs the parallel search on a
``distributed.LocalCluster`` of two worker processes (one thread each) under
``joblib.parallel_backend("dask")`` instead of loky (``pip install
"sklstm[dask]"``), its workers started without Dask's
``MALLOC_TRIM_THRESHOLD_=65536`` as docs/dask.md advises (``--dask-trim`` keeps
it). Run:

    .venv/bin/python benchmarks/search.py [--epochs 20] [--repeats 3]
        [--serial-threads N] [--dask [--dask-trim]]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time

import numpy as np
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

from sklstm import LSTMRegressor, make_windows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--serial-threads",
        type=int,
        default=None,
        help="torch threads for the serial search (default: torch's own)",
    )
    parser.add_argument(
        "--dask", action="store_true", help="the parallel search on a Dask cluster"
    )
    parser.add_argument(
        "--dask-trim",
        action="store_true",
        help="keep Dask's MALLOC_TRIM_THRESHOLD_=65536 in the workers (its default; "
        "without the flag the workers start without it, as docs/dask.md advises)",
    )
    args = parser.parse_args()
    backend = contextlib.nullcontext
    if args.dask:
        import dask
        import joblib
        from distributed import Client, LocalCluster

        if not args.dask_trim:  # glibc's default trimming, as outside Dask
            key = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
            dask.config.set({key: None})
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)

        def backend():
            return joblib.parallel_backend("dask")

    default_threads = torch.get_num_threads()
    serial_threads = args.serial_threads or default_threads
    print(
        f"serial search at {serial_threads} torch threads; n_jobs=2 workers at "
        f"joblib's share, its refit at {default_threads}"
    )
    X, y = make_windows(np.sin(np.arange(0, 100, 0.1)), 10)
    grid = {"hidden_size": [16, 50], "lr": [1e-3, 3e-3], "num_layers": [1, 2]}
    # n_iter_no_change above max_epochs: every fit runs all its epochs
    est = LSTMRegressor(
        max_epochs=args.epochs, n_iter_no_change=args.epochs + 1, random_state=0
    )
    clone(est).set_params(max_epochs=1).fit(X[:64], y[:64])  # imports, first calls

    def search(n_jobs):
        torch.set_num_threads(serial_threads if n_jobs == 1 else default_threads)
        start = time.perf_counter()
        with backend() if n_jobs > 1 else contextlib.nullcontext():
            search = GridSearchCV(est, grid, cv=TimeSeriesSplit(3), n_jobs=n_jobs)
            fitted = search.fit(X, y)
        return time.perf_counter() - start, fitted.best_params_

    cold, best = search(2)
    serial, warm, bests = [], [], [best]
    for _ in range(args.repeats):
        for n_jobs, times in ((1, serial), (2, warm)):
            seconds, best = search(n_jobs)
            times.append(seconds)
            bests.append(best)
    s = statistics.median(serial)
    ratios = [a / b for a, b in zip(serial, warm, strict=True)]
    print(
        f"serial {s:.1f} s (median of {args.repeats}; "
        f"{min(serial):.1f}-{max(serial):.1f})"
    )
    where = "Dask, 2 workers" if args.dask else "n_jobs=2"
    print(f"{where} cold {cold:.1f} s: speed-up {s / cold:.2f}x")
    print(
        f"{where} warm {statistics.median(warm):.1f} s: speed-up "
        f"{statistics.median(ratios):.2f}x (median of {args.repeats} pairs; "
        f"{min(ratios):.2f}-{max(ratios):.2f}x)"
    )
    same = len({str(b) for b in bests}) == 1
    print(f"same best parameters: {same} ({bests[0]})")
    if args.dask:
        client.close()
        cluster.close()


if __name__ == "__main__":
    main()
