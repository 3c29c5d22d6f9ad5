"""sklstm on a CUDA GPU: throughput against the CPU, and what stays on the device.

Workload 4 of vs_torch.py (100,000 windows of 50, two LSTM(64), batch 256):

- seconds per epoch of sklstm on this machine's CPU (torch's default threads), on
  the GPU in float32 and in bfloat16 (``precision="bfloat16"``), and in float32
  with its CUDA graphs off (``SKLSTM_CUDA_GRAPHS=0``); of the bare PyTorch loop
  on the GPU in both precisions, and of the bare loop with its whole step
  recorded as a CUDA graph by hand; the GPU runs alternate, median of
  ``--repeats``; samples per second and the GPU's throughput over the CPU's;
- from torch's profiler over one sklstm epoch on the device: the host-to-device
  copies (the data travel once per fit, not once per batch), the device-to-host
  copies (losses are read in groups of batches), the graph replays, and the LSTM
  operators that ran (``aten::_cudnn_rnn`` is cuDNN's fused LSTM; a graphed step
  runs it inside the replays, where the profiler does not count operators).

Run:  python benchmarks/gpu.py [--repeats 3] [--epochs 3] [--device cuda]
(``--device cpu --smoke`` exercises the script where there is no GPU.)
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import replace

import torch
from torch import nn
from torch.profiler import ProfilerActivity, profile
from vs_torch import Bare, bare_fit, bare_tensors, sk_fit, workloads

from sklstm._engine import PRECISIONS


def seconds(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def eager_sk_fit(w, device):
    """sklstm's fit with its CUDA graphs off."""
    os.environ["SKLSTM_CUDA_GRAPHS"] = "0"
    try:
        return sk_fit(w, "float32", device=device)
    finally:
        del os.environ["SKLSTM_CUDA_GRAPHS"]


def bare_graphed_fit(w, device):
    """The bare loop with its whole step (forward, loss, backward, Adam) recorded
    once as a CUDA graph, after PyTorch's documented recipe; full batches only."""
    torch.manual_seed(0)
    x, lengths, y = bare_tensors(w, device)
    model = Bare(w, x.shape[2]).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, capturable=True)
    loss_fn = nn.MSELoss()
    b = w.batch
    sx, sl, sy = x[:b].clone(), lengths[:b].clone(), y[:b].clone()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # warm-up on real batches
        for s in range(0, 3 * b, b):
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(x[s : s + b], lengths[s : s + b]), y[s : s + b]).backward()
            optimizer.step()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    optimizer.zero_grad(set_to_none=True)
    with torch.cuda.graph(graph):
        loss_fn(model(sx, sl), sy).backward()
        optimizer.step()
    full = len(x) // b * b
    for _ in range(w.epochs):
        order = torch.randperm(len(x), device=device)
        for start in range(0, full, b):
            idx = order[start : start + b]
            sx.copy_(x[idx])
            sl.copy_(lengths[idx])
            sy.copy_(y[idx])
            graph.replay()
    torch.cuda.synchronize()


def copies(device: str, w) -> dict:
    """Counts of copies and LSTM operators in one sklstm fit of ``w`` on ``device``."""
    activities = [ProfilerActivity.CPU]
    if device != "cpu":
        activities.append(ProfilerActivity.CUDA)
    with profile(activities=activities) as prof:
        sk_fit(w, device=device)
    counts: dict = {}
    for event in prof.key_averages():
        for label, prefix in (
            ("host-to-device copies", "Memcpy HtoD"),
            ("device-to-host copies", "Memcpy DtoH"),
            ("graph replays", "cudaGraphLaunch"),
            ("cuDNN LSTM forward calls", "aten::_cudnn_rnn"),
            ("LSTM calls (any kernel)", "aten::lstm"),
        ):
            if event.key.startswith(prefix) and not event.key.endswith("_backward"):
                counts[label] = counts.get(label, 0) + event.count
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3, help="epochs of a GPU fit")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for tests")
    args = parser.parse_args()
    if args.device != "cpu" and not torch.cuda.is_available():
        print(f"skipped: device {args.device!r} asked for, but torch sees no CUDA GPU")
        return
    device = args.device
    name = "cpu" if device == "cpu" else torch.cuda.get_device_name(device)
    threads = torch.get_num_threads()
    print(f"torch {torch.__version__}, {device} ({name}), CPU threads {threads}")
    w = replace(workloads(args.smoke)[4], epochs=args.epochs)
    if args.smoke:  # four batches: every run, a third of the smoke's time
        w = replace(w, X=w.X[: 4 * w.batch], y=w.y[: 4 * w.batch])
    tiny = workloads(smoke=True)[2]
    for precision in PRECISIONS:  # first-call costs: imports, cuDNN handles, kernels
        sk_fit(tiny, precision, device=device)
        bare_fit(tiny, device, PRECISIONS[precision])

    runs = {
        "sklstm float32": lambda: sk_fit(w, "float32", device=device),
        "sklstm bfloat16": lambda: sk_fit(w, "bfloat16", device=device),
        "sklstm float32, no graphs": lambda: eager_sk_fit(w, device),
        "bare float32": lambda: bare_fit(w, device),
        "bare bfloat16": lambda: bare_fit(w, device, torch.bfloat16),
    }
    if device != "cpu":
        runs["bare float32, CUDA graph"] = lambda: bare_graphed_fit(w, device)
    times = {k: [] for k in runs}
    for _ in range(args.repeats):  # interleaved: all see the same machine state
        for key, run in runs.items():
            times[key].append(seconds(run) / w.epochs)
    cpu_epoch = seconds(sk_fit, replace(w, epochs=1), "float32", 0, "pytorch", "cpu")
    n = len(w.y)
    print(f"workload 4: {n} windows, batch {w.batch}, {w.epochs} epochs on {device}")
    print(f"{'run':<36}{'s/epoch':>9}{'samples/s':>12}{'vs CPU':>9}")
    print(f"{'sklstm float32 on the CPU':<36}{cpu_epoch:>9.3f}{n / cpu_epoch:>12,.0f}")
    m = {key: statistics.median(values) for key, values in times.items()}
    for key, t in m.items():
        print(f"{key:<36}{t:>9.3f}{n / t:>12,.0f}{cpu_epoch / t:>8.1f}x")
    for precision in PRECISIONS:
        ratio = m[f"sklstm {precision}"] / m[f"bare {precision}"]
        print(f"sklstm / bare loop, {precision}: {ratio:.2f}x")
    if "bare float32, CUDA graph" in m:
        ratio = m["sklstm float32"] / m["bare float32, CUDA graph"]
        print(f"sklstm / bare loop recorded as a CUDA graph, float32: {ratio:.2f}x")
    final = {
        p: sk_fit(w, p, device=device).history_[-1]["train_loss"] for p in PRECISIONS
    }
    print(
        "final training loss (standardised targets): "
        + ", ".join(f"{p} {v:.4g}" for p, v in final.items())
    )

    one = replace(w, epochs=1)
    batches = -(-n // w.batch)
    counts = copies(device, one)
    print(f"one profiled epoch ({batches} batches):")
    for label in (
        "host-to-device copies",
        "device-to-host copies",
        "graph replays",
        "cuDNN LSTM forward calls",
        "LSTM calls (any kernel)",
    ):
        print(f"  {label}: {counts.get(label, 0)}")


if __name__ == "__main__":
    main()
