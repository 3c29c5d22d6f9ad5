"""Test accuracy on the official splits of GunPoint, BasicMotions, JapaneseVowels.

For each dataset: a small grid of configurations is scored by stratified
5-fold cross-validation, repeated three times, on the training split only; the
best one is refitted on the whole training split with each of ``--seeds``
random states and scored on the test split (mean, minimum and maximum). The
test split never takes part in the choice.

    python benchmarks/accuracy.py [gunpoint basic_motions japanese_vowels]

Takes about six minutes on two cores. Targets (issue 6): GunPoint >= 0.97,
BasicMotions >= 0.95, JapaneseVowels >= 0.97.
"""

import argparse
import time

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import (
    GridSearchCV,
    RepeatedStratifiedKFold,
    StratifiedKFold,
)
from sklearn.pipeline import Pipeline

from sklstm import LSTMClassifier, SequenceScaler
from sklstm.datasets import load_basic_motions, load_gunpoint, load_japanese_vowels

# name: (loader, fixed parameters, grid over the LSTMClassifier step)
SETUPS = {
    "gunpoint": (
        load_gunpoint,
        dict(
            hidden_size=32,
            conv_channels=(64, 64),
            conv_kernel_size=5,
            pooling="max",
            lr=1e-3,
            batch_size=16,
            max_epochs=200,
            n_iter_no_change=200,
        ),
        {"conv_batch_norm": [False, True], "conv_kernel_size": [5, 7]},
    ),
    "basic_motions": (
        load_basic_motions,
        dict(
            hidden_size=32,
            conv_channels=(32, 64),
            lr=3e-3,
            batch_size=8,
            max_epochs=300,
            n_iter_no_change=50,
        ),
        {"pooling": ["last", "mean", "attention"]},
    ),
    "japanese_vowels": (
        load_japanese_vowels,
        dict(
            hidden_size=64, lr=3e-3, batch_size=16, max_epochs=60, n_iter_no_change=60
        ),
        {
            "pooling": ["last", "attention"],
            "bidirectional": [False, True],
            "conv_channels": [(), (64,)],
        },
    ),
}
TARGETS = {"gunpoint": 0.97, "basic_motions": 0.95, "japanese_vowels": 0.97}


def run(name, n_jobs=2, seeds=5, smoke=False, echo=print):
    """Choose by cross-validation on the training split; return the test
    accuracies of the chosen configuration refitted with seeds 0, 1, ..."""
    loader, fixed, grid = SETUPS[name]
    cv = RepeatedStratifiedKFold(n_splits=5, n_repeats=3, random_state=0)
    if smoke:  # two epochs, two folds, two candidates: checks that it runs
        fixed = {**fixed, "max_epochs": 2}
        grid = {k: v[:2] for k, v in list(grid.items())[:1]}
        cv = StratifiedKFold(2, shuffle=True, random_state=0)
    X_train, y_train = loader(split="train")
    X_test, y_test = loader(split="test")
    pipe = Pipeline(
        [("scale", SequenceScaler()), ("lstm", LSTMClassifier(random_state=0, **fixed))]
    )
    search = GridSearchCV(
        pipe, {f"lstm__{k}": v for k, v in grid.items()}, cv=cv, n_jobs=n_jobs
    )
    start = time.perf_counter()
    search.fit(X_train, y_train)
    cv_std = search.cv_results_["std_test_score"][search.best_index_]
    accuracies = []
    for seed in range(seeds):
        refit = clone(search.best_estimator_).set_params(lstm__random_state=seed)
        accuracies.append(refit.fit(X_train, y_train).score(X_test, y_test))
    chosen = {k.removeprefix("lstm__"): v for k, v in search.best_params_.items()}
    echo(
        f"{name}: test accuracy {np.mean(accuracies):.3f} (min {min(accuracies):.3f}, "
        f"max {max(accuracies):.3f} over seeds 0-{seeds - 1}; target "
        f"{TARGETS[name]}), CV on train {search.best_score_:.3f} +- {cv_std:.3f}, "
        f"chosen {chosen}, fixed {fixed}, {time.perf_counter() - start:.0f} s"
    )
    return accuracies


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "datasets", nargs="*", help=f"any of {', '.join(SETUPS)} (default: all)"
    )
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument(
        "--seeds", type=int, default=5, help="refits of the chosen configuration"
    )
    parser.add_argument("--smoke", action="store_true", help="tiny run, for the tests")
    args = parser.parse_args(argv)
    unknown = set(args.datasets) - set(SETUPS)
    if unknown:
        parser.error(
            f"unknown dataset(s) {sorted(unknown)}; choose from {list(SETUPS)}"
        )
    for name in args.datasets or SETUPS:
        run(name, n_jobs=args.n_jobs, seeds=args.seeds, smoke=args.smoke)


if __name__ == "__main__":
    main()
