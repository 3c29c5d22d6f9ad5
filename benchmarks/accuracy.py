"""Test accuracy on the official splits of GunPoint, BasicMotions, JapaneseVowels.

For each dataset: a small grid of configurations is scored by stratified
5-fold cross-validation on the training split only; the best one is refitted
on the whole training split and scored once on the test split. The test split
never takes part in the choice.

    python benchmarks/accuracy.py [gunpoint basic_motions japanese_vowels]

Takes about five minutes on two cores. Targets (issue 6): GunPoint >= 0.97,
BasicMotions >= 0.95, JapaneseVowels >= 0.97.
"""

import argparse
import time

from sklearn.model_selection import GridSearchCV, StratifiedKFold
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
            conv_kernel_size=7,
            lr=1e-3,
            batch_size=8,
            max_epochs=300,
            n_iter_no_change=300,
        ),
        {"pooling": ["max", "mean", "attention"]},
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


def run(name, n_jobs=2, smoke=False, echo=print):
    """Choose by cross-validation on the training split; return the test accuracy."""
    loader, fixed, grid = SETUPS[name]
    if smoke:  # two epochs, two folds, two candidates: checks that it runs
        fixed = {**fixed, "max_epochs": 2}
        grid = {k: v[:2] for k, v in list(grid.items())[:1]}
    X_train, y_train = loader(split="train")
    X_test, y_test = loader(split="test")
    pipe = Pipeline(
        [("scale", SequenceScaler()), ("lstm", LSTMClassifier(random_state=0, **fixed))]
    )
    search = GridSearchCV(
        pipe,
        {f"lstm__{k}": v for k, v in grid.items()},
        cv=StratifiedKFold(2 if smoke else 5, shuffle=True, random_state=0),
        n_jobs=n_jobs,
    )
    start = time.perf_counter()
    search.fit(X_train, y_train)
    accuracy = search.score(X_test, y_test)
    chosen = {k.removeprefix("lstm__"): v for k, v in search.best_params_.items()}
    echo(
        f"{name}: test accuracy {accuracy:.3f} (target {TARGETS[name]}), "
        f"CV on train {search.best_score_:.3f}, chosen {chosen}, "
        f"fixed {fixed}, {time.perf_counter() - start:.0f} s"
    )
    return accuracy


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "datasets", nargs="*", help=f"any of {', '.join(SETUPS)} (default: all)"
    )
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--smoke", action="store_true", help="tiny run, for the tests")
    args = parser.parse_args(argv)
    unknown = set(args.datasets) - set(SETUPS)
    if unknown:
        parser.error(
            f"unknown dataset(s) {sorted(unknown)}; choose from {list(SETUPS)}"
        )
    for name in args.datasets or SETUPS:
        run(name, n_jobs=args.n_jobs, smoke=args.smoke)


if __name__ == "__main__":
    main()
