"""The seed article's models in sklstm and, where TensorFlow is installed, in Keras.

Each model trains on the same data with the same layers, epochs and batch size on
both sides, in this process, at the same thread count; the table gives the held-out
metric and the training seconds of each. Without TensorFlow only sklstm's column is
filled. The Keras models follow the seed's code; where the seed's model could not
learn the task as written (raw token ids as floats, a per-step attention output),
the note says what changed.

Run:  python benchmarks/seed_parity.py [--threads 2] [--only stacked sine ...] [--smoke]
      (Keras's column needs an environment with tensorflow and sklstm installed)
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import time
from collections import Counter
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).parent.parent / "examples"


def _sunspot_windows():
    from sklstm import make_windows
    from sklstm.datasets import load_sunspots

    frame = load_sunspots(as_frame=True)
    X, y = make_windows(frame["sunspots"].to_numpy(), 10)
    year = frame["year"].to_numpy()[10:]
    train, test = year <= 1920, (year >= 1921) & (year <= 1987)
    mean, std = X[train].mean(), X[train].std()
    return (X[train] - mean) / std, y[train], (X[test] - mean) / std, y[test]


def _sine_windows():
    from sklstm import make_windows

    X, y = make_windows(np.sin(np.arange(0, 100, 0.1)), 10)
    cut = int(0.8 * len(X))
    return X[:cut], y[:cut], X[cut:], y[cut:]


def _sonnets(context=5):
    text = (EXAMPLES / "data" / "shakespeare_sonnets.txt").read_text().lower()
    lines = [s for s in text.splitlines() if not re.fullmatch(r"\s*[ivxlc]+\s*", s)]
    words = re.findall(r"[a-z]+(?:'[a-z]+)*", " ".join(lines[2:]))
    cut = int(0.9 * len(words))
    counts = Counter(words[:cut])
    vocabulary = ["<pad>", "<rare>"] + sorted(w for w, c in counts.items() if c > 1)
    index = {w: i for i, w in enumerate(vocabulary)}
    ids = np.array([index.get(w, 1) for w in words])
    X = np.lib.stride_tricks.sliding_window_view(ids[:-1], context)
    y = ids[context:]
    split = cut - context
    return X[:split], y[:split], X[split:], y[split:], len(vocabulary)


def _digits():
    data = np.load(EXAMPLES / "data" / "spoken_digits.npz")
    frames = data["frames"].astype(np.float32)
    utterances = np.split(frames, np.cumsum(data["lengths"])[:-1])
    test = np.isin(data["accent"], ["en-029", "en-gb-x-gbcwmd"])
    mean, std = frames.mean(axis=0), frames.std(axis=0)
    scaled = [(u - mean) / std for u in utterances]
    pick = lambda keep: [u for u, k in zip(scaled, keep, strict=True) if k]  # noqa: E731
    return pick(~test), data["digit"][~test], pick(test), data["digit"][test]


def _videos(n, seed=0, frames=8, size=20):
    rng = np.random.default_rng(seed)
    moves = np.array([(-1, 0), (1, 0), (0, -1), (0, 1)])
    X = rng.uniform(0, 0.3, size=(n, frames, size, size, 3)).astype(np.float32)
    y = rng.integers(0, 4, size=n)
    for video, label in zip(X, y, strict=True):
        side, speed = rng.integers(3, 6), rng.integers(1, 3)
        dy, dx = moves[label] * speed
        span = (frames - 1) * speed
        y0 = rng.integers(
            span if dy < 0 else 0, size - side - (span if dy > 0 else 0) + 1
        )
        x0 = rng.integers(
            span if dx < 0 else 0, size - side - (span if dx > 0 else 0) + 1
        )
        colour = rng.uniform(0.5, 1.0, size=3)
        for t in range(frames):
            y1, x1 = y0 + dy * t, x0 + dx * t
            video[t, y1 : y1 + side, x1 : x1 + side] = colour
    cut = int(0.75 * n)
    return X[:cut], y[:cut], X[cut:], y[cut:]


def _mse(y, p):
    return float(np.mean((np.ravel(y) - np.ravel(p)) ** 2))


def _accuracy(y, p):
    return float(np.mean(np.ravel(y) == np.ravel(p)))


def _perplexity(y, proba, classes=None):
    classes = np.arange(proba.shape[1]) if classes is None else classes
    column = {c: j for j, c in enumerate(classes)}
    p = np.array([proba[i, column[t]] if t in column else 0 for i, t in enumerate(y)])
    return float(np.exp(-np.log(np.maximum(p, 1e-9)).mean()))


# Each model: data, epochs, batch, the sklstm estimator, the Keras layers, the metric.
def models(smoke):
    from sklstm import LSTMClassifier, LSTMRegressor

    e = (lambda n: 1) if smoke else (lambda n: n)
    return {
        "stacked": dict(
            what="2 x LSTM(50), sunspots 1921-1987",
            data=_sunspot_windows,
            metric="MSE",
            epochs=e(100),
            batch=32,
            sklstm=lambda ep: LSTMRegressor(
                50, num_layers=2, max_epochs=ep, n_iter_no_change=ep, random_state=0
            ),
            keras=lambda L, d: [
                L.LSTM(50, return_sequences=True),
                L.LSTM(50),
                L.Dense(1),
            ],
        ),
        "text": dict(
            what="next word, Sonnets (perplexity)",
            data=_sonnets,
            metric="perplexity",
            epochs=e(3),
            batch=128,
            sklstm=lambda ep: LSTMClassifier(
                128,
                embedding_dim=64,
                lr=3e-3,
                max_epochs=ep,
                n_iter_no_change=ep,
                random_state=0,
            ),
            keras=lambda L, d: [
                L.Embedding(d, 64),
                L.LSTM(128),
                L.Dense(d, activation="softmax"),
            ],
            note="seed feeds raw ids as floats; both sides embed them here",
        ),
        "sine": dict(
            what="LSTM(50), sine, last 20 %",
            data=_sine_windows,
            metric="MSE",
            epochs=e(20),
            batch=32,
            sklstm=lambda ep: LSTMRegressor(
                50, max_epochs=ep, n_iter_no_change=ep, random_state=0
            ),
            keras=lambda L, d: [L.LSTM(50), L.Dense(1)],
        ),
        "speech": dict(
            what="2 x LSTM(64), spoken digits, unheard accents",
            data=_digits,
            metric="accuracy",
            epochs=e(40),
            batch=32,
            sklstm=lambda ep: LSTMClassifier(
                64,
                num_layers=2,
                lr=3e-3,
                max_epochs=ep,
                n_iter_no_change=ep,
                random_state=0,
            ),
            keras=lambda L, d: [
                L.Masking(0.0),
                L.LSTM(64, return_sequences=True),
                L.LSTM(64),
                L.Dense(10, activation="softmax"),
            ],
            lr=3e-3,
            note="Keras reads zero-padded input through a Masking layer",
        ),
        "bidirectional": dict(
            what="2 x BiLSTM(50), sine, last 20 %",
            data=_sine_windows,
            metric="MSE",
            epochs=e(20),
            batch=32,
            sklstm=lambda ep: LSTMRegressor(
                50,
                num_layers=2,
                bidirectional=True,
                max_epochs=ep,
                n_iter_no_change=ep,
                random_state=0,
            ),
            keras=lambda L, d: [
                L.Bidirectional(L.LSTM(50, return_sequences=True)),
                L.Bidirectional(L.LSTM(50)),
                L.Dense(1),
            ],
        ),
        "cnn_lstm": dict(
            what="Conv2D(32) + LSTM(50), moving-square videos",
            data=lambda: _videos(80 if smoke else 800),
            metric="accuracy",
            epochs=e(15),
            batch=32,
            sklstm=lambda ep: LSTMClassifier(
                50,
                conv_channels=(32,),
                frame_pooling="flatten",
                max_epochs=ep,
                n_iter_no_change=ep,
                random_state=0,
            ),
            keras=lambda L, d: [
                L.TimeDistributed(L.Conv2D(32, (3, 3), activation="relu")),
                L.TimeDistributed(L.MaxPooling2D((2, 2))),
                L.TimeDistributed(L.Flatten()),
                L.LSTM(50),
                L.Dense(4, activation="softmax"),
            ],
            note="sklstm pads its 3x3 convolution ('same'); Keras's is 'valid'",
        ),
    }


def run_sklstm(spec, data, init="pytorch"):
    X, y, X_test, y_test = data[:4]
    est = spec["sklstm"](spec["epochs"]).set_params(batch_size=spec["batch"], init=init)
    start = time.perf_counter()
    est.fit(X, y)
    seconds = time.perf_counter() - start
    if spec["metric"] == "perplexity":
        return _perplexity(y_test, est.predict_proba(X_test), est.classes_), seconds
    metric = _mse if spec["metric"] == "MSE" else _accuracy
    return metric(y_test, est.predict(X_test)), seconds


def run_keras(spec, data, tf):
    from sklstm._sequences import pad_ragged

    X, y, X_test, y_test = data[:4]
    if isinstance(X, list):  # ragged: zero-pad at the end for Masking
        X, X_test = (np.nan_to_num(pad_ragged(x)) for x in (X, X_test))
    X, X_test = (np.asarray(a, dtype=np.float32) for a in (X, X_test))
    if X.ndim == 2 and spec["metric"] != "perplexity":
        X, X_test = X[..., None], X_test[..., None]
    regression = spec["metric"] == "MSE"
    y_mean, y_std = (y.mean(), y.std()) if regression else (0.0, 1.0)
    L = tf.keras.layers
    extra = data[4] if len(data) > 4 else None
    model = tf.keras.Sequential([tf.keras.Input(X.shape[1:]), *spec["keras"](L, extra)])
    model.compile(
        optimizer=tf.keras.optimizers.Adam(spec.get("lr", 1e-3)),
        loss="mse" if regression else "sparse_categorical_crossentropy",
    )
    target = (y - y_mean) / y_std if regression else y
    start = time.perf_counter()
    model.fit(X, target, epochs=spec["epochs"], batch_size=spec["batch"], verbose=0)
    seconds = time.perf_counter() - start
    out = model.predict(X_test, verbose=0, batch_size=1024)
    if spec["metric"] == "perplexity":
        return _perplexity(y_test, out), seconds
    if regression:
        return _mse(y_test, out * y_std + y_mean), seconds
    return _accuracy(y_test, out.argmax(axis=1)), seconds


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--smoke", action="store_true", help="one epoch, for tests")
    parser.add_argument(
        "--init", default="pytorch", choices=["pytorch", "keras"], help="sklstm's init"
    )
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    tf = None
    if importlib.util.find_spec("tensorflow") is not None:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
        tf.keras.utils.set_random_seed(0)
        print(f"tensorflow {tf.__version__}, ", end="")
    else:
        print("TensorFlow is not installed: sklstm only; ", end="")
    print(
        f"torch {torch.__version__}, {args.threads} threads, sklstm init={args.init!r}"
    )
    specs = models(args.smoke)
    unknown = set(args.only or []) - set(specs)
    if unknown:
        parser.error(f"unknown model(s) {sorted(unknown)}; choose from {list(specs)}")
    print(
        f"{'model':<15}{'metric':<11}{'sklstm':>11}{'s':>7}{'keras':>11}{'s':>7}  what"
    )
    for name, spec in specs.items():
        if args.only and name not in args.only:
            continue
        data = spec["data"]()
        score, seconds = run_sklstm(spec, data, args.init)
        keras = run_keras(spec, data, tf) if tf is not None else None
        k = f"{keras[0]:>11.4g}{keras[1]:>7.1f}" if keras else f"{'-':>11}{'-':>7}"
        note = f" ({spec['note']})" if "note" in spec else ""
        mine = f"{name:<15}{spec['metric']:<11}{score:>11.4g}{seconds:>7.1f}"
        print(f"{mine}{k}  {spec['what']}{note}", flush=True)


if __name__ == "__main__":
    main()
