"""Whole-process start-up: what a user's first import and first fit cost.

Each command runs in a fresh interpreter, ``--repeats`` times, median wall time:
an empty interpreter, ``import torch``, ``import sklstm``, and a one-fit script
(the seed's sine forecast, workload 1 of ``vs_torch.py``) written with sklstm
against the same fit written as a bare PyTorch loop.

Run:  .venv/bin/python benchmarks/startup.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

FIT_SKLSTM = """
import numpy as np
from sklstm import LSTMRegressor, make_windows
X, y = make_windows(np.sin(np.arange(0, 100, 0.1)), 10)
LSTMRegressor(50, max_epochs=EPOCHS, n_iter_no_change=1000, random_state=0).fit(X, y)
"""

FIT_BARE = """
import numpy as np, torch
from torch import nn
s = np.sin(np.arange(0, 100, 0.1))
X = torch.tensor(np.lib.stride_tricks.sliding_window_view(s, 10)[:-1].copy(),
                 dtype=torch.float32).unsqueeze(-1)
y = torch.tensor(s[10:], dtype=torch.float32).unsqueeze(-1)
torch.manual_seed(0)
lstm, head = nn.LSTM(1, 50, batch_first=True), nn.Linear(50, 1)
opt = torch.optim.Adam([*lstm.parameters(), *head.parameters()], lr=1e-3)
for _ in range(EPOCHS):
    order = torch.randperm(len(X))
    for i in range(0, len(X), 32):
        idx = order[i:i + 32]
        loss = nn.functional.mse_loss(head(lstm(X[idx])[0][:, -1]), y[idx])
        opt.zero_grad(); loss.backward(); opt.step()
"""


def wall(code: str, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    epochs = str(args.epochs)
    rows = [
        ("python -c pass", "pass"),
        ("import torch", "import torch"),
        ("import sklstm", "import sklstm"),
        ("one fit, bare torch", FIT_BARE.replace("EPOCHS", epochs)),
        ("one fit, sklstm", FIT_SKLSTM.replace("EPOCHS", epochs)),
    ]
    results = {name: wall(code, args.repeats) for name, code in rows}
    for name, seconds in results.items():
        print(f"{name:<22}{seconds:7.2f} s")
    ratio = results["one fit, sklstm"] / results["one fit, bare torch"]
    print(f"one-fit script, sklstm / bare: {ratio:.2f}x")


if __name__ == "__main__":
    main()
