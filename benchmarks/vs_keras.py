"""The seed article's own Keras code against sklstm, workloads 1-4 of vs_torch.py.

Runs only where TensorFlow is installed (it is not a dependency of sklstm); else it
says so and exits 0. Both sides train in this process on the same data with the
seed's settings (Adam, MSE, batch 32 unless the workload says otherwise) at the
same thread count, and report training seconds and the final model's training-set MSE.

Run:  python benchmarks/vs_keras.py [--threads 2] [--only 1 2] [--seeds 5]
      [--precision bfloat16] [--init keras]
      (from an environment with tensorflow and sklstm installed)
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--only", type=int, nargs="*")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for tests")
    parser.add_argument(
        "--precision",
        choices=["float32", "bfloat16"],
        default="float32",
        help="sklstm's precision (Keras stays float32)",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="fits per side, seeds 0..N-1: medians, and the losses' range",
    )
    parser.add_argument("--init", choices=["pytorch", "keras"], default="pytorch")
    args = parser.parse_args()
    if importlib.util.find_spec("tensorflow") is None:
        print("TensorFlow is not installed here: nothing to compare; skipped.")
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import tensorflow as tf
    import torch

    sys.path.insert(0, os.path.dirname(__file__))
    from vs_torch import sk_fit, workloads

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    torch.set_num_threads(args.threads)
    print(
        f"tensorflow {tf.__version__}, torch {torch.__version__}, "
        f"{args.threads} threads, sklstm at {args.precision}, init={args.init}, "
        f"{args.seeds} seed(s): medians"
    )
    print(
        f"{'workload':<18}{'keras s':>9}{'sklstm s':>10}{'keras/sklstm':>14}"
        f"{'keras loss':>12}{'sklstm loss':>13}"
    )
    sk_fit(workloads(smoke=True)[2])  # sklstm's first-fit imports, as in vs_torch
    L = tf.keras.layers
    ranges = []
    for key, w in workloads(args.smoke).items():
        if key == 5 or (args.only and key not in args.only):
            continue
        X = np.array(w.X, dtype=np.float32)
        runs = {"keras": [], "sklstm": []}  # (seconds, training-set MSE) per seed
        for seed in range(args.seeds):
            tf.keras.utils.set_random_seed(seed)
            stack = []
            for layer in range(w.layers):
                lstm = L.LSTM(w.hidden, return_sequences=layer < w.layers - 1)
                stack.append(L.Bidirectional(lstm) if w.bidirectional else lstm)
            model = tf.keras.Sequential(
                [tf.keras.Input(X.shape[1:]), *stack, L.Dense(1)]
            )
            model.compile(optimizer="adam", loss="mse")
            start = time.perf_counter()
            model.fit(X, w.y, epochs=w.epochs, batch_size=w.batch, verbose=0)
            seconds = time.perf_counter() - start
            # both: training-set MSE of the final model on y's own scale
            pred = model.predict(X, batch_size=256, verbose=0)[:, 0]
            runs["keras"].append((seconds, float(np.mean((pred - w.y) ** 2))))
            start = time.perf_counter()
            est = sk_fit(w, args.precision, seed=seed, init=args.init)
            seconds = time.perf_counter() - start
            loss = float(np.mean((est.predict(w.X) - w.y) ** 2))
            runs["sklstm"].append((seconds, loss))
        (t_keras, keras_loss), (t_sk, sk_loss) = (
            np.median(np.array(runs[side]), axis=0) for side in ("keras", "sklstm")
        )
        print(
            f"{w.name:<18}{t_keras:>9.2f}{t_sk:>10.2f}{t_keras / t_sk:>13.2f}x"
            f"{keras_loss:>12.2e}{sk_loss:>13.2e}"
        )
        if args.seeds > 1:
            spans = {
                side: "-".join(f"{f(x for _, x in runs[side]):.1e}" for f in (min, max))
                for side in runs
            }
            ranges.append(
                f"{w.name}: loss range keras {spans['keras']}, sklstm {spans['sklstm']}"
            )
    print("\n".join(ranges))


if __name__ == "__main__":
    main()
