"""The development panel: the three bundled classification datasets and the five
in ``../shared/data/dev`` (official splits), with the published figures that the
accuracy benchmark reports beside sklstm's.

    from panel import DATASETS, load
    X_train, y_train, X_test, y_test = load("Coffee")
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
DEV = Path(os.environ.get("SKLSTM_DEV_DATA", HERE.parent.parent / "shared/data/dev"))

BUNDLED = {
    "GunPoint": "load_gunpoint",
    "BasicMotions": "load_basic_motions",
    "JapaneseVowels": "load_japanese_vowels",
}
DEV_SETS = ("Coffee", "Trace", "Covid3Month_disc", "PLAID", "ACSF1")
DATASETS = (*BUNDLED, *DEV_SETS)

# Published test accuracy on the official split (resample 0): the bake-off redux
# (Middlehurst et al., DMKD 2024, tsml-eval 0.7.0 results), LSTM-FCN / MLSTM-FCN
# (Karim et al. 2018, 2019), FCN (Ismail Fawaz et al., DMKD 2019). None: not
# published for this version of the dataset.
PUBLISHED = {
    # dataset: (ROCKET, InceptionTime, LSTM-FCN or MLSTM-FCN)
    "GunPoint": (1.000, 1.000, 1.000),
    "BasicMotions": (1.000, 1.000, None),
    "JapaneseVowels": (None, None, 1.00),
    "Coffee": (1.000, 1.000, None),
    "Trace": (1.000, 1.000, None),
    "Covid3Month_disc": (None, None, None),
    "PLAID": (None, None, None),
    "ACSF1": (0.880, 0.910, None),
}
# 1-NN with Euclidean distance and with DTW (full window), computed with aeon
# 1.6.0 on these files (../shared/data/README.md and dev/README.md); the
# benchmark recomputes them with tslearn where it is installed.
ONE_NN = {
    "GunPoint": (0.9133, 0.9067),
    "BasicMotions": (0.600, 0.975),
    "JapaneseVowels": (None, 0.9486),
    "Coffee": (1.000, 1.000),
    "Trace": (0.760, 1.000),
    "Covid3Month_disc": (0.590, 0.607),
    "PLAID": (0.535, 0.931),
    "ACSF1": (0.540, 0.640),
}


def load(name: str):
    """``X_train, y_train, X_test, y_test`` of one panel dataset; labels as
    strings. Equal-length univariate sets are 2-D arrays, equal-length
    multivariate ones 3-D, variable-length ones lists of ``(t_i, c)`` arrays."""
    if name in BUNDLED:
        from sklstm import datasets

        loader = getattr(datasets, BUNDLED[name])
        X_train, y_train = loader(split="train")
        X_test, y_test = loader(split="test")
        return X_train, np.asarray(y_train), X_test, np.asarray(y_test)
    if name not in DEV_SETS:
        raise ValueError(f"unknown dataset {name!r}; the panel is {DATASETS}")
    out = []
    for split in ("TRAIN", "TEST"):
        out.extend(_read(DEV / f"{name}_{split}.csv"))
    return tuple(out)


def _read(path: Path):
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: the development panel lives in ../shared/data/dev "
            "beside the checkout (or set SKLSTM_DEV_DATA to its folder)."
        )
    df = pd.read_csv(path, dtype={"label": str}, float_precision="round_trip")
    if "series_id" not in df.columns:  # wide: label, t0 ... t{L-1}
        return df.drop(columns="label").to_numpy(np.float64), df["label"].to_numpy()
    dims = [c for c in df.columns if c.startswith("dim_")]
    df = df.sort_values(["series_id", "timestep"])
    groups = df.groupby("series_id", sort=True)
    X = [g[dims].to_numpy(np.float64) for _, g in groups]
    y = groups["label"].first().to_numpy()
    if len({len(x) for x in X}) == 1:  # equal length: one 3-D array
        X = np.stack(X)
    return X, y
