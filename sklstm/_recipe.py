"""The training recipe's data-dependent parts: the epoch budget, the early-stopping
split and the input scaling's statistics. Plain numpy; no torch, no skorch."""

from __future__ import annotations

import math

import numpy as np

# The budget of ``max_epochs="auto"``: about STEPS optimiser steps, but no more
# epochs than WORK / N**SIZE_POWER for N time steps an epoch (samples times
# their mean length), so that the time of a fit grows as N**0.55: 125 epochs
# for 100 x 100 steps (about 9 s on two cores), 21 for 1,000 x 500 (under a
# minute); and between MIN_EPOCHS and MAX_EPOCHS. In CV on the development
# panel, WORK / sqrt(N) with 15,000 and with 12,500 tied (mean accuracy 0.822
# both): the short datasets lost nothing with less, the long ones (PLAID,
# ACSF1) did, so the power spares them and trims the short ones.
STEPS = 1500
WORK = 7900
SIZE_POWER = 0.45
MIN_EPOCHS = 10
MAX_EPOCHS = 1000
# Between the two sizes the budget is filled up: data may take as many epochs
# as FILL / N (FILL: the 1,000 x 500 fit's work, 21.5 epochs of 500,000
# steps), at most FILL_EPOCHS (the epochs of 100 x 100), where that is more
# than the rule above gives and the STEPS cap allows. The long datasets of
# the panel were still learning when WORK / N**SIZE_POWER ran out (PLAID's
# training loss 0.52, ACSF1's 1.07): in CV, PLAID 0.752 -> 0.792 (every fold
# better) and ACSF1 0.593 -> 0.617 (three seeds a fold); data under ~20,000
# steps, the short datasets, keep their epochs.
FILL = 10.75e6
FILL_EPOCHS = 125

# the convolutional branch of ``fcn_channels="auto"``: LSTM-FCN's three blocks
# at half their width (128, 256, 128), which costs a quarter of the arithmetic
AUTO_FCN = (64, 128, 64)

# with a convolutional branch reading every step, ``downsample="auto"`` lets
# the LSTM read at most this many (averaged) steps
LSTM_STEPS = 128

# ``fcn_downsample="auto"`` lets the FCN branch read at most this many
# (averaged) steps of the longest training sequence. The branch's arithmetic
# grows with the steps it reads, and the budget counts those steps, so longer
# sequences get more epochs in the same time: in CV on the development panel
# (its two datasets longer than this, read at a third of their steps), ACSF1
# 0.61 -> 0.75 and PLAID 0.788 both, each in half the time a fit (see
# docs/architectures.md).
FCN_STEPS = 512

# Per-sequence scaling divides by sqrt(variance + eps), the variance in units
# of the globally standardised channel. Where the scaling only reads the input,
# eps is SEQUENCE_EPS: every sequence whose spread is above a millionth of the
# channel's comes out with unit variance, as the archives' z-normalisation
# does. (1e-5 had turned sequences under ~0.3 % of the channel's spread, most
# of PLAID's appliances, into near-flat lines: CV accuracy on PLAID 0.45 ->
# 0.79 on one fold.) Where an output is read relative to its window
# (``scaling="window"``), the targets are divided by the same spread, and a
# flat window must not blow them up: LINKED_EPS keeps the floor at 0.3 % of
# the channel's spread.
SEQUENCE_EPS = 1e-12
LINKED_EPS = 1e-5


def sequence_eps(linked: bool) -> float:
    """Per-sequence scaling's variance floor, for scaling linked to outputs
    (``scaling="window"``) or not."""
    return LINKED_EPS if linked else SEQUENCE_EPS


# the plateau schedule lowers the learning rate to this share of ``lr`` at most
MIN_LR_FRACTION = 0.01


# A step of sequences whose lengths vary costs more than a step of equal
# lengths (batch norm and pooling over the valid steps only, a batch padded to
# its longest): an epoch of 1,000 random sequences of 100-500 steps took
# 2.14 s, of 1,000 x 300 equal-length ones (as many steps) 1.51 s, and of
# 1,000 x 500 2.24 s (ten epochs, two fits each, 2026-12-03). The budget
# counts such a step as RAGGED_COST steps, so that varying lengths keep to
# the fit times of equal ones.
RAGGED_COST = 1.4


def auto_epochs(
    n_samples: int, mean_steps: float, batch_size: int, ragged: bool = False
) -> int:
    """Epochs of the adaptive budget for ``n_samples`` sequences of
    ``mean_steps`` steps on average (``ragged``: of varying lengths)."""
    batches = math.ceil(n_samples / batch_size)
    by_steps = math.ceil(STEPS / batches)
    steps = max(1.0, n_samples * mean_steps * (RAGGED_COST if ragged else 1.0))
    epochs = min(by_steps, int(WORK / steps**SIZE_POWER))
    filled = min(by_steps, FILL_EPOCHS, int(FILL / steps))
    return int(min(max(epochs, filled, MIN_EPOCHS), MAX_EPOCHS))


def validation_last(
    groups, fraction: float, how: str, seed: int
) -> tuple[np.ndarray, int]:
    """An order of the samples that puts a validation set of ``fraction`` of
    them last, the training samples first in their own order, and the size of
    that validation set.

    ``how="stratified"`` takes the share from every class of ``groups`` (each
    class with two samples or more gives at least one), ``"shuffle"`` a random
    share; both drawn from ``seed``.
    """
    groups = np.asarray(groups)
    n = len(groups)  # groups: class labels, or any array of n for no classes
    rng = np.random.default_rng(seed)
    if how == "stratified":
        chosen = []
        for label in np.unique(groups):
            members = np.flatnonzero(groups == label)
            if len(members) < 2:
                continue  # a lone sample of its class stays in training
            k = min(len(members) - 1, max(1, round(fraction * len(members))))
            chosen.append(rng.choice(members, size=k, replace=False))
        valid = np.sort(np.concatenate(chosen)) if chosen else np.array([], int)
    else:
        k = math.ceil(fraction * n)
        valid = np.sort(rng.choice(n, size=min(k, n), replace=False))
    if len(valid) < 1 or len(valid) >= n:
        raise ValueError(
            f"early_stopping needs at least one training and one validation "
            f"sample; validation_fraction={fraction} of {n} samples "
            f"(validation_split={how!r}) leaves {n - len(valid)} for training and "
            f"{len(valid)} for validation."
        )
    train = np.setdiff1d(np.arange(n), valid)
    return np.concatenate([train, valid]), len(valid)


CHUNK = 8192  # samples whose bounds are read at once


def channel_statistics(sequences, weight=None) -> tuple[np.ndarray, np.ndarray]:
    """Mean and spread (float32) of each channel over every valid step of every
    sample of ``sequences``, a sample's steps weighted by its ``weight`` (so
    that weight 2 counts as the sample twice); a spread of 0 becomes 1.

    Windows share the rows of their table, so the sums come from running sums
    of the table (one pass, no window copied), about a rough centre to keep
    the variance exact for values far from zero.
    """
    table = sequences.table
    n = sequences.n
    weight = np.ones(n) if weight is None else np.asarray(weight, float)
    centre = np.nan_to_num(np.nanmean(table, axis=0, dtype=np.float64))
    rows = table.astype(np.float64)  # the one copy of the table; then in place
    rows -= centre
    np.nan_to_num(rows, copy=False)  # padding rows: 0
    first = np.zeros((len(rows) + 1, rows.shape[1]))
    second = np.zeros_like(first)
    np.cumsum(rows, axis=0, out=first[1:])
    np.cumsum(np.square(rows, out=rows), axis=0, out=second[1:])
    del rows
    total, mean, square = 0.0, 0.0, 0.0
    for a in range(0, n, CHUNK):  # the samples' bounds a slice at a time
        starts, lengths = sequences.bounds(np.arange(a, min(a + CHUNK, n)))
        ends, w = starts + lengths, weight[a : a + CHUNK]
        total += float(w @ lengths)
        mean = mean + w @ (first[ends] - first[starts])
        square = square + w @ (second[ends] - second[starts])
    mean, square = mean / total, square / total
    scale = np.sqrt(np.maximum(square - mean**2, 0.0))
    return (mean + centre).astype(np.float32), usable_scale(scale).astype(np.float32)


# A spread below this is rounding noise on a constant (float64's), read as
# none, as scikit-learn's StandardScaler does: a channel that was 0 up to
# 1e-16 in training must not multiply a later value of 0.1 by 1e15.
NO_SPREAD = 10 * np.finfo(np.float64).eps


def usable_scale(scale) -> np.ndarray:
    """``scale`` with 1 where it is no spread (below NO_SPREAD) or not finite."""
    scale = np.asarray(scale, dtype=np.float64)
    return np.where(np.isfinite(scale) & (scale >= NO_SPREAD), scale, 1.0)
