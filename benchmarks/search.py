"""GridSearchCV with n_jobs=2 against serial, on this machine's two cores.

Eight candidates (hidden size x learning rate x layers) x 3 TimeSeriesSplit folds
of the seed's sine forecast (workload 1 of vs_torch.py, 20 epochs). joblib's worker
processes start torch at one thread each; the serial search runs at torch's
default thread count, as a user's would. Run:

    .venv/bin/python benchmarks/search.py [--epochs 20]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit

from sklstm import LSTMRegressor, make_windows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    X, y = make_windows(np.sin(np.arange(0, 100, 0.1)), 10)
    grid = {"hidden_size": [16, 50], "lr": [1e-3, 3e-3], "num_layers": [1, 2]}
    # n_iter_no_change above max_epochs: every fit runs all its epochs
    est = LSTMRegressor(
        max_epochs=args.epochs, n_iter_no_change=args.epochs + 1, random_state=0
    )
    seconds, best = {}, {}
    # the first parallel run starts joblib's workers (each imports torch, sklearn
    # and skorch); the second reuses them, as later searches in a session do
    for run, n_jobs in (("serial", 1), ("n_jobs=2 cold", 2), ("n_jobs=2 warm", 2)):
        search = GridSearchCV(est, grid, cv=TimeSeriesSplit(3), n_jobs=n_jobs)
        start = time.perf_counter()
        search.fit(X, y)
        seconds[run] = time.perf_counter() - start
        best[run] = search.best_params_
    for run in ("n_jobs=2 cold", "n_jobs=2 warm"):
        print(
            f"serial {seconds['serial']:.1f} s, {run} {seconds[run]:.1f} s: "
            f"speed-up {seconds['serial'] / seconds[run]:.2f}x"
        )
    same = len({str(b) for b in best.values()}) == 1
    print(f"same best parameters: {same} ({best['serial']})")


if __name__ == "__main__":
    main()
