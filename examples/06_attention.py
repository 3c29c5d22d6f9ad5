"""Attention: see which time steps the model looked at.

The seed article adds attention to a BiLSTM. In sklstm, ``pooling="attention"``
replaces the last hidden state with a weighted sum over every step's output
(additive attention, masked to each sequence's valid steps), and
``attention_weights(X)`` returns the weights, one row per sequence, summing
to 1. This example trains on GunPoint (a hand drawing a gun from a holster,
or just pointing; official split) and plots the weights over the series.

Prints the test accuracy; saves the attention plot.

Run: ``python examples/06_attention.py`` (about 9 s on two cores).
"""

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from sklstm import LSTMClassifier
from sklstm.datasets import load_gunpoint

QUICK = os.environ.get("SKLSTM_EXAMPLES_QUICK") == "1"
OUT = Path(os.environ.get("SKLSTM_EXAMPLES_OUT", "examples-output"))

X_train, y_train = load_gunpoint(split="train")  # (50, 150), already z-normalised
X_test, y_test = load_gunpoint(split="test")  # (150, 150)
model = LSTMClassifier(
    32,
    bidirectional=True,
    pooling="attention",
    lr=3e-3,
    batch_size=8,
    max_epochs=3 if QUICK else 150,
    n_iter_no_change=150,  # train for max_epochs
    random_state=0,
)
model.fit(X_train, y_train)
print(f"GunPoint test accuracy: {model.score(X_test, y_test):.3f}")

weights = model.attention_weights(X_test)  # (150, 150), each row sums to 1
print(
    f"attention weights {weights.shape}, row sums {weights.sum(axis=1).min():.3f}-"
    f"{weights.sum(axis=1).max():.3f}"
)

OUT.mkdir(parents=True, exist_ok=True)
fig, axes = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
for ax, label, name in zip(axes, ["1", "2"], ["gun draw", "point"], strict=True):
    rows = np.flatnonzero(y_test == label)[:20]
    for r in rows:
        ax.plot(X_test[r], color="black", lw=0.5, alpha=0.4)
    mean = weights[y_test == label].mean(axis=0)
    twin = ax.twinx()
    twin.fill_between(np.arange(150), mean, color="tab:red", alpha=0.3)
    twin.set_ylabel("mean attention", color="tab:red")
    ax.set(ylabel="hand x-position", title=f"class {label} ({name}): 20 test series")
axes[-1].set_xlabel("time step")
fig.tight_layout()
fig.savefig(OUT / "attention_gunpoint.png", dpi=100)
print(f"plot saved to {OUT / 'attention_gunpoint.png'}")
