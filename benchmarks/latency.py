"""Serving latency: sklstm's ``predict``, the bare torch module and onnxruntime.

One fitted ``LSTMRegressor`` (windows of 24 steps of the airline-like sine, one
channel, hidden size 32 and 64, the defaults otherwise) answers a one-sample
request and a batch of 256 three ways: ``model.predict`` (numpy in, numpy out,
every input check), the bare network (``model.module_`` under
``torch.inference_mode``, the same float32 numbers in, its raw output) and the
graph ``sklstm.export_onnx`` wrote, under onnxruntime. Minimum over repeats of
the mean per call (the machine is noisy; the minimum is the least disturbed).
``StreamingPredictor.update`` (one new value after the last) is reported beside
them for the one-sample case.

Run:  .venv/bin/python benchmarks/latency.py [--repeats 15] [--smoke]
"""

from __future__ import annotations

import argparse
import tempfile
import timeit
from pathlib import Path

import numpy as np
import torch


def per_call(fn, number, repeats):
    fn()
    return min(timeit.repeat(fn, number=number, repeat=repeats)) / number * 1e6


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    import onnxruntime as ort

    from sklstm import LSTMRegressor, StreamingPredictor, export_onnx, make_windows

    repeats, number = (2, 5) if args.smoke else (args.repeats, 200)
    series = np.sin(np.arange(3000) / 6) + np.arange(3000) / 1500
    X, y = make_windows(series, 24)
    X = np.array(X, dtype=np.float32)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"onnxruntime {ort.__version__}; microseconds per call (min of {repeats})"
    )
    print(
        f"{'hidden':>6} {'batch':>6} {'sklstm':>9} {'bare':>9} {'onnx':>9} "
        f"{'stream':>9} {'sk/bare':>8} {'onnx/bare':>9}"
    )
    for hidden in (32, 64):
        model = LSTMRegressor(
            hidden_size=hidden, max_epochs=2, random_state=0, scaling="channel"
        ).fit(X, y)
        net = model.module_
        with tempfile.TemporaryDirectory() as folder:
            path = export_onnx(model, Path(folder) / "m.onnx")
            session = ort.InferenceSession(str(path))
        stream = StreamingPredictor(model)
        for value in series[:24]:
            stream.update(value)
        for batch in (1, 256):
            x = X[:batch]

            def bare(x=x, net=net):
                with torch.inference_mode():
                    return net(torch.from_numpy(x), None).numpy()

            n = number if batch == 1 else max(number // 20, 2)
            sk = per_call(lambda x=x, m=model: m.predict(x), n, repeats)
            b = per_call(bare, n, repeats)
            o = per_call(lambda x=x, r=session: r.run(None, {"x": x})[0], n, repeats)
            s = None
            if batch == 1:
                s = per_call(lambda st=stream: st.update(0.5), n, repeats)
            shown = f"{s:9.0f}" if s is not None else f"{'':>9}"
            print(
                f"{hidden:6d} {batch:6d} {sk:9.0f} {b:9.0f} {o:9.0f} {shown} "
                f"{sk / b:8.2f} {o / b:9.2f}"
            )


if __name__ == "__main__":
    main()
