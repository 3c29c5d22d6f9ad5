"""Evaluation: k-fold and TimeSeriesSplit with regression and classification metrics.

The seed article computes MSE and R² on random numbers and names accuracy,
precision, recall and F1. Here they come from cross-validation of real
models, with scikit-learn's ``cross_validate``:

- classification, BasicMotions (smartwatch motion, four activities): stratified
  k-fold on the 80 recordings of both official splits together, accuracy and
  macro precision, recall and F1;
- regression, yearly sunspots, windows of ten years: ``TimeSeriesSplit``, so
  each fold is validated on years after the ones it trained on, MSE and R².

Prints each metric's mean and spread over the folds; saves the per-fold plot.

Run: ``python examples/10_evaluation.py`` (about 12 s on two cores).
"""

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import StratifiedKFold, TimeSeriesSplit, cross_validate
from sklearn.pipeline import make_pipeline

from sklstm import LSTMClassifier, LSTMRegressor, SequenceScaler, make_windows
from sklstm.datasets import load_basic_motions, load_sunspots

QUICK = os.environ.get("SKLSTM_EXAMPLES_QUICK") == "1"
OUT = Path(os.environ.get("SKLSTM_EXAMPLES_OUT", "examples-output"))

# Classification: stratified 5-fold on BasicMotions.
X_a, y_a = load_basic_motions(split="train")
X_b, y_b = load_basic_motions(split="test")
X, y = np.concatenate([X_a, X_b]), np.concatenate([y_a, y_b])  # (80, 100, 6)
classifier = make_pipeline(
    SequenceScaler(),
    LSTMClassifier(
        32,
        conv_channels=(32, 64),
        lr=3e-3,
        batch_size=8,
        max_epochs=3 if QUICK else 100,
        random_state=0,
    ),
)
scores = cross_validate(
    classifier,
    X,
    y,
    cv=StratifiedKFold(5, shuffle=True, random_state=0),
    scoring=["accuracy", "precision_macro", "recall_macro", "f1_macro"],
    n_jobs=2,
)
print("BasicMotions, stratified 5-fold:")
for metric in ["accuracy", "precision_macro", "recall_macro", "f1_macro"]:
    values = scores[f"test_{metric}"]
    print(f"  {metric:<16}{values.mean():.3f} ± {values.std():.3f}")

# Regression: TimeSeriesSplit on yearly sunspots.
sunspots = load_sunspots()
X, y = make_windows(sunspots, 10)
regressor = make_pipeline(
    SequenceScaler(), LSTMRegressor(50, max_epochs=3 if QUICK else 100, random_state=0)
)
folds = TimeSeriesSplit(n_splits=5)
scores = cross_validate(
    regressor, X, y, cv=folds, scoring=["neg_mean_squared_error", "r2"], n_jobs=2
)
mse, r2 = -scores["test_neg_mean_squared_error"], scores["test_r2"]
print("Yearly sunspots, TimeSeriesSplit(5):")
print(f"  MSE  {mse.mean():.1f} ± {mse.std():.1f}")
print(f"  R²   {r2.mean():.3f} ± {r2.std():.3f}")

OUT.mkdir(parents=True, exist_ok=True)
fig, ax = plt.subplots(figsize=(7, 3.5))
first_year = 1700 + 10
ends = [first_year + test[-1] for _, test in folds.split(X)]
ax.bar([str(e) for e in ends], r2, color="tab:blue")
ax.set(
    xlabel="last year of the validation fold",
    ylabel="R²",
    title="Sunspots: R² per TimeSeriesSplit fold",
    ylim=(min(0, r2.min()), 1),
)
fig.tight_layout()
fig.savefig(OUT / "evaluation_folds.png", dpi=100)
print(f"plot saved to {OUT / 'evaluation_folds.png'}")
