"""sklstm's fit and predict against a bare, idiomatic PyTorch loop.

Same data, same network (nn.LSTM + nn.Linear), same hyperparameters (Adam, lr
1e-3, shuffled index batches), same process; runs interleaved, median of
``--repeats``. Reports seconds and the ratio sklstm / bare for each workload:

1. forecasting: sin(arange(0, 100, 0.1)), windows of 10 -> next value, LSTM(50),
   20 epochs, batch 32 (the seed's time-series example)
2. "speech": a 440 Hz tone at 8 kHz, windows of 100 (the seed's stride of 100),
   two stacked LSTM(50), 10 epochs
3. bidirectional: two stacked BiLSTM(50) on workload 1's data, 20 epochs
4. scale: 100,000-point noisy sine, window 50, two LSTM(64), batch 256, 3 epochs
5. variable length: 2,000 sequences of lengths 20-200, 8 channels, LSTM(64),
   4 classes, 3 epochs

Run:  .venv/bin/python benchmarks/vs_torch.py  [--repeats 3] [--only 1 4]
      [--threads 2] [--precision bfloat16] [--bare-heap-pad] [--device cuda]

On ``--device cuda`` the bare loop moves its tensors to the GPU once and draws
each epoch's order there, as a hand-written GPU loop would.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from sklstm import LSTMClassifier, LSTMRegressor, make_windows
from sklstm._engine import PRECISIONS
from sklstm._heap import heap_pad
from sklstm._network import autocast


@dataclass
class Workload:
    name: str
    X: object  # what sklstm gets (array or list)
    y: np.ndarray
    hidden: int
    layers: int
    bidirectional: bool
    epochs: int
    batch: int
    classes: int = 0  # 0: regression


def workloads(smoke: bool) -> dict[int, Workload]:
    rng = np.random.default_rng(0)
    sine = np.sin(np.arange(0, 100, 0.1))
    X1, y1 = make_windows(sine, 10)
    t = np.arange(0, 1.0, 1 / 8000)
    X2, y2 = make_windows(np.sin(2 * np.pi * 440 * t), 100, step=100)
    n4 = 3_000 if smoke else 100_000
    noisy = np.sin(np.arange(n4) / 20) + 0.1 * rng.normal(size=n4)
    X4, y4 = make_windows(noisy, 50)
    n5 = 60 if smoke else 2_000
    lengths = rng.integers(20, 201, size=n5)
    X5 = [rng.normal(size=(n, 8)) for n in lengths]
    y5 = np.array([int(s[:, 0].mean() > 0) + 2 * int(len(s) > 110) for s in X5])
    e = 1 if smoke else None
    return {
        1: Workload("1 forecasting", X1, y1, 50, 1, False, e or 20, 32),
        2: Workload("2 speech", X2, y2, 50, 2, False, e or 10, 32),
        3: Workload("3 bidirectional", X1, y1, 50, 2, True, e or 20, 32),
        4: Workload("4 scale", X4, y4, 64, 2, False, e or 3, 256),
        5: Workload("5 variable length", X5, y5, 64, 1, False, e or 3, 32, 4),
    }


# -- the bare loop -----------------------------------------------------------------


class Bare(nn.Module):
    def __init__(self, w: Workload, channels: int):
        super().__init__()
        self.lstm = nn.LSTM(
            channels,
            w.hidden,
            w.layers,
            batch_first=True,
            bidirectional=w.bidirectional,
        )
        self.head = nn.Linear(w.hidden * (2 if w.bidirectional else 1), w.classes or 1)

    def forward(self, x, lengths):
        out, _ = self.lstm(x)
        return self.head(out[torch.arange(len(x), device=x.device), lengths - 1])


def bare_tensors(w: Workload, device: str = "cpu"):
    if isinstance(w.X, list):  # left-aligned, zero-padded, with lengths
        lengths = torch.tensor([len(s) for s in w.X])
        x = torch.zeros(len(w.X), int(lengths.max()), w.X[0].shape[1])
        for i, s in enumerate(w.X):
            x[i, : len(s)] = torch.as_tensor(s, dtype=torch.float32)
    else:
        x = torch.as_tensor(np.array(w.X), dtype=torch.float32)
        lengths = torch.full((len(x),), x.shape[1])
    if w.classes:
        y = torch.as_tensor(w.y, dtype=torch.long)
    else:
        y = torch.as_tensor(np.array(w.y), dtype=torch.float32).reshape(-1, 1)
    return x.to(device), lengths.to(device), y.to(device)


def bare_fit(w: Workload, device: str = "cpu", dtype=None):
    torch.manual_seed(0)
    x, lengths, y = bare_tensors(w, device)
    model = Bare(w, x.shape[2]).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss() if w.classes else nn.MSELoss()
    for _ in range(w.epochs):
        order = torch.randperm(len(x), device=device)
        for start in range(0, len(x), w.batch):
            idx = order[start : start + w.batch]
            with autocast(device, dtype):
                out = model(x[idx], lengths[idx])
            loss = loss_fn(out.float(), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    if device != "cpu":
        torch.cuda.synchronize()  # the queued steps belong to the fit's time
    return model


def bare_predict(model, w: Workload, device: str = "cpu", dtype=None):
    x, lengths, _ = bare_tensors(w, device)
    model.eval()
    with torch.inference_mode(), autocast(device, dtype):
        out = [
            model(x[s : s + 256], lengths[s : s + 256]) for s in range(0, len(x), 256)
        ]
    return torch.cat(out).float().cpu().numpy()


def bare_predict_one(model, x, device: str = "cpu", dtype=None):
    """A served request: one numpy sample in, its numpy prediction out."""
    with torch.inference_mode(), autocast(device, dtype):
        xt = torch.as_tensor(x, dtype=torch.float32, device=device)
        out = model(xt, torch.full((len(xt),), xt.shape[1], device=device))
    return out.float().cpu().numpy()


# -- sklstm --------------------------------------------------------------------------


def sk_fit(
    w: Workload,
    precision: str = "float32",
    seed: int = 0,
    init: str = "pytorch",
    device: str = "cpu",
):
    Estimator = LSTMClassifier if w.classes else LSTMRegressor
    return Estimator(
        w.hidden,
        num_layers=w.layers,
        bidirectional=w.bidirectional,
        max_epochs=w.epochs,
        n_iter_no_change=w.epochs + 1,  # run every epoch, as the bare loop does
        # the bare loop's network: no FCN branch (the classifier's default since
        # issue 23), no input scaling, no schedule
        fcn_channels=(),
        scaling=None,
        lr_schedule=None,
        batch_size=w.batch,
        precision=precision,
        init=init,
        device=device,
        random_state=seed,
    ).fit(w.X, w.y)


def padded(fn):
    """``fn`` inside sklstm's heap pad, as sklstm's own fit runs."""

    def run(*args):
        with heap_pad():
            return fn(*args)

    return run


def timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def per_call(bare_fn, sk_fn, *args, calls: int = 100, rounds: int = 60):
    """Seconds of one ``bare_fn(*args)`` and one ``sk_fn(*args)``, measured in
    alternating rounds of ``calls`` calls: the 25th percentile of each one's
    round means. Alternating, both see the same machine; the quartile ignores
    the rounds a hiccup slowed (the least of five means of 200 calls, one
    function after the other, had read one model 1.10x the bare module in one
    run and 1.47x in the next)."""
    means = ([], [])
    for _ in range(rounds):
        for fn, out in zip((bare_fn, sk_fn), means, strict=True):
            start = time.perf_counter()
            for _ in range(calls):
                fn(*args)
            out.append((time.perf_counter() - start) / calls)
    return tuple(float(np.percentile(m, 25)) for m in means)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", type=int, nargs="*")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for tests")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads (default 1: see FACTS)"
    )
    parser.add_argument(
        "--precision",
        default="float32",
        choices=["float32", "bfloat16"],
        help="precision of both: bfloat16 runs each under torch.autocast",
    )
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument(
        "--bare-heap-pad",
        action="store_true",
        help="run the bare loop inside sklstm's heap pad too (sklstm._heap)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dtype = PRECISIONS[args.precision]
    where = args.device
    if where != "cpu":
        where += f" ({torch.cuda.get_device_name(torch.device(args.device))})"
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {where}, "
        f"{args.precision}, bare loop "
        + ("inside" if args.bare_heap_pad else "outside")
        + " the heap pad"
    )
    bare = padded(bare_fit) if args.bare_heap_pad else bare_fit
    print(
        f"{'workload':<20}{'fit bare':>10}{'fit sklstm':>12}{'ratio':>7}"
        f"{'pred bare':>11}{'pred sklstm':>13}{'ratio':>7}"
    )
    # warm up: first-call imports (torch._dynamo by the first optimizer, skorch)
    # are start-up costs, measured separately, not per-fit ones
    tiny = workloads(smoke=True)[2]
    bare_fit(tiny, args.device, dtype)
    sk_fit(tiny, args.precision, device=args.device)
    one = {}  # workload: (bare, sklstm) seconds of a one-sample predict
    for key, w in workloads(args.smoke).items():
        if args.only and key not in args.only:
            continue
        times = {k: [] for k in ("fb", "fs", "pb", "ps", "1b", "1s")}
        x1 = np.asarray(w.X[0])[None]
        for _ in range(args.repeats):  # interleaved: both see the same machine state
            t, model = timed(bare, w, args.device, dtype)
            times["fb"].append(t)
            t, est = timed(sk_fit, w, args.precision, 0, "pytorch", args.device)
            times["fs"].append(t)
            times["pb"].append(timed(bare_predict, model, w, args.device, dtype)[0])
            times["ps"].append(timed(est.predict, w.X)[0])
            one_bare, one_sk = per_call(
                lambda x, m=model: bare_predict_one(m, x, args.device, dtype),
                est.predict,
                x1,
            )
            times["1b"].append(one_bare)
            times["1s"].append(one_sk)
        m = {k: statistics.median(v) for k, v in times.items()}
        one[w.name] = m["1b"], m["1s"]
        print(
            f"{w.name:<20}{m['fb']:>10.2f}{m['fs']:>12.2f}{m['fs'] / m['fb']:>6.2f}x"
            f"{m['pb']:>11.3f}{m['ps']:>13.3f}{m['ps'] / m['pb']:>6.2f}x"
        )
    print("\none-sample predict (a served request, numpy in and out), microseconds:")
    print(f"{'workload':<20}{'bare':>10}{'sklstm':>12}{'ratio':>7}{'extra':>9}")
    for name, (b, s) in one.items():
        b, s = b * 1e6, s * 1e6
        print(f"{name:<20}{b:>10.0f}{s:>12.0f}{s / b:>6.2f}x{s - b:>9.0f}")


if __name__ == "__main__":
    main()
