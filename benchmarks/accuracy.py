"""Accuracy of sklstm's defaults on the development panel, beside 1-NN baselines
and published results.

Five modes:

    python benchmarks/accuracy.py test [--recipes default ...] [--seeds 5]
        Fit each recipe on every dataset's TRAIN split with seeds 0..4 and score
        it on the TEST split: mean, spread, fit seconds, 1-NN ED and DTW
        (recomputed with tslearn when installed, else the figures in panel.py)
        and the published ROCKET / InceptionTime / LSTM-FCN figures.

    python benchmarks/accuracy.py cv [--recipes a b ...] [--folds 5]
        Choose between recipes on the TRAIN splits only: stratified K-fold
        cross-validation inside each TRAIN split (one seed per fold), then each
        recipe's rank on every dataset and its mean rank over the panel. The
        TEST splits take no part.

    python benchmarks/accuracy.py forecast [--recipes default job ...] [--seeds 5]
        The forecasting panel (forecast_panel.py: airline, sunspots and four
        statsmodels series): each recipe's MASE on the held-out last horizon
        beside seasonal naive and statsmodels' Holt-Winters.

    python benchmarks/accuracy.py forecast-cv [--recipes ...]
        The same from two rolling origins inside each training part, to choose.

    python benchmarks/accuracy.py budget [--recipes default] [--seeds 3]
        Seconds of default fits on random data of 100 x 100 and 1,000 x 500
        steps (the budget's targets: 10 s and 60 s on two cores).

A recipe is a named set of ``LSTMClassifier`` parameters (``RECIPES``);
``default`` is ``LSTMClassifier(random_state=seed)`` with nothing else set.
``--datasets`` picks part of the panel; ``--smoke`` runs tiny versions of
everything for the tests. Results are also written as JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from panel import DATASETS, ONE_NN, PUBLISHED, load  # noqa: E402

# LSTMClassifier parameters of each recipe; "default" sets none
DEFAULT_WORK = 7900  # sklstm._recipe.WORK and SIZE_POWER as shipped
DEFAULT_POWER = 0.45
DEFAULT_EPS = 1e-12
DEFAULT_FILL = 10.75e6  # sklstm._recipe.FILL
DEFAULT_RAGGED_COST = 1.4  # sklstm._recipe.RAGGED_COST
_AUTO = dict(max_epochs="auto", lr_schedule="plateau")
RECIPES = {
    "default": {},
    # the budget WORK / sqrt(N) before it became WORK / N**0.45 (set "_power")
    "work12500": {"_work": 12_500, "_power": 0.5},
    "work15000": {"_work": 15_000, "_power": 0.5},
    # per-sequence scaling's variance floor before SEQUENCE_EPS (set "_eps")
    "eps1e-5": {"_eps": 1e-5},
    "lr3e-3": {"lr": 3e-3},
    # the budget before its middle was filled up to the 1,000 x 500 fit's
    # work (sklstm._recipe.FILL; 0: no filling) ("_fill")
    "nofill": {"_fill": 0.0},
    # the budget counting a step of varying-length data as one step of
    # equal-length data, as before RAGGED_COST ("_ragged_cost")
    "ragged1": {"_ragged_cost": 1.0},
    # a cosine decay over the budget's epochs instead of halving on a plateau
    "cosine": {"lr_schedule": None, "_cosine": True},
    # decoupled weight decay at torch's AdamW default, against overfitting
    # the datasets of tens of series
    "adamw": {"optimizer": "adamw", "weight_decay": 1e-2},
    "kernels16": {"fcn_kernel_sizes": (16, 9, 5)},
    # the FCN branch reading every step, as before fcn_downsample="auto"
    "fcnk1": {"fcn_downsample": 1},
    "fcnk2": {"fcn_downsample": 2},
    # the FCN branch's first convolution reading every step with stride k
    # instead of the branch reading runs of k averaged ("_strided"): "narrow"
    # keeps its kernel of 8 steps; "wide" widens it to 8 k steps, its weights
    # first those of averaging then the kernel of 8 (the same function at
    # initialisation, free to learn what averaging throws away)
    "stride_narrow": {"_strided": "narrow"},
    "stride_wide": {"_strided": "wide"},
    "stride_wide_k2": {"_strided": "wide", "fcn_downsample": 2},
    # cross-entropy against targets smoothed by 0.1 (Szegedy et al. 2016),
    # against over-confident fits of tens of series ("_smoothing")
    "smooth0.1": {"_smoothing": 0.1},
    # dropout on the pooled features before the output layer (LSTM-FCN drops
    # 80 % of its LSTM branch's)
    "dropout0.2": {"dropout": 0.2},
    "dropout0.5": {"dropout": 0.5},
    # predict with an exponential moving average of the weights over the
    # optimiser's steps (decay 0.99: about the last 100 steps), batch norm's
    # statistics refreshed for them as for the final weights ("_ema")
    "ema0.99": {"_ema": 0.99},
    # the same with the average's horizon tied to the fit's length: 1 / (1 -
    # decay) = a tenth of its optimiser steps (decay 0.99 was 100 steps: a
    # third of a short fit, a fifteenth of PLAID's)
    "ema_tied0.1": {"_ema_share": 0.1},
    # smaller batches: more optimiser steps for the same epochs (FCN and
    # ResNet in Fawaz et al. 2019 train with min(N / 10, 16))
    "batch16": {"batch_size": 16},
    "batch8": {"batch_size": 8},
    # the FCN's receptive field widened at no cost: dilated convolutions
    # (kernels 8, 5, 3 reading every 1st, 2nd, 4th step: 24 steps, against
    # 14 undilated and 28 for kernels 16, 9, 5) ("_dilations")
    "dilated124": {"_dilations": (1, 2, 4)},
    # the wider first kernel alone (its block reads the few input channels,
    # so it costs little), and the wider kernels on a budget cut to pay for them
    "kernels16_5_3": {"fcn_kernel_sizes": (16, 5, 3)},
    "kernels16_w6000": {"fcn_kernel_sizes": (16, 9, 5), "_work": 6000},
    "fcn32": dict(hidden_size=32, fcn_channels=(32, 64, 32), **_AUTO),
    "fcn32_p30": dict(
        hidden_size=32, fcn_channels=(32, 64, 32), n_iter_no_change=30, **_AUTO
    ),
    "fcn32_seq_p30": dict(
        hidden_size=32,
        fcn_channels=(32, 64, 32),
        n_iter_no_change=30,
        scaling="sequence",
        **_AUTO,
    ),
    "fcn64_seq_p30": dict(
        hidden_size=32,
        fcn_channels=(64, 128, 64),
        n_iter_no_change=30,
        scaling="sequence",
        **_AUTO,
    ),
    "fcn32_both_p30": dict(
        hidden_size=32,
        fcn_channels=(32, 64, 32),
        n_iter_no_change=30,
        scaling="both",
        **_AUTO,
    ),
    "fcn64_both_p30": dict(
        hidden_size=32,
        fcn_channels=(64, 128, 64),
        n_iter_no_change=30,
        scaling="both",
        **_AUTO,
    ),
    "fcn64_both_p30_b16": dict(
        hidden_size=32,
        fcn_channels=(64, 128, 64),
        n_iter_no_change=30,
        scaling="both",
        batch_size=16,
        **_AUTO,
    ),
    "fcn64_both_p30_lr3": dict(
        hidden_size=32,
        fcn_channels=(64, 128, 64),
        n_iter_no_change=30,
        scaling="both",
        lr=3e-3,
        **_AUTO,
    ),
    "fcn32_es": dict(
        hidden_size=32, fcn_channels=(32, 64, 32), early_stopping=True, **_AUTO
    ),
    "lstm32": dict(hidden_size=32, **_AUTO),
    # the first round's plain LSTM at its defaults, for comparison
    "plain_lstm": dict(
        fcn_channels=(),
        scaling=None,
        lr_schedule=None,
        max_epochs=100,
        early_stopping=False,
    ),
}


def classifier(recipe: str, seed: int, smoke: bool = False):
    from sklstm import LSTMClassifier, _recipe

    params = dict(RECIPES[recipe], random_state=seed)
    # "_work": the budget's WORK constant for this recipe (candidates for it)
    _recipe.WORK = params.pop("_work", DEFAULT_WORK)
    _recipe.SIZE_POWER = params.pop("_power", DEFAULT_POWER)
    _recipe.SEQUENCE_EPS = params.pop("_eps", DEFAULT_EPS)
    _recipe.FILL = params.pop("_fill", DEFAULT_FILL)
    _recipe.RAGGED_COST = params.pop("_ragged_cost", DEFAULT_RAGGED_COST)
    _use_dilations(params.pop("_dilations", None))
    _use_strided(params.pop("_strided", None))
    if params.pop("_cosine", False):
        params["callbacks"] = [("cosine", cosine_callback())]
    if "_ema" in params:
        params["callbacks"] = [("ema", ema_callback(params.pop("_ema")))]
    if "_ema_share" in params:
        share = params.pop("_ema_share")
        params["callbacks"] = [("ema", ema_callback(None, share))]
    smoothing = params.pop("_smoothing", 0.0)
    if smoke:
        params["max_epochs"] = 2
    if smoothing:
        return _smoothed(LSTMClassifier, smoothing)(**params)
    return LSTMClassifier(**params)


def _smoothed(base, smoothing: float):
    """``base`` trained on label-smoothed cross-entropy. Tried on the panel
    (docs/architectures.md), not shipped."""
    from torch import nn

    class Smoothed(base):
        def _criterion(self):
            return nn.CrossEntropyLoss(reduction="none", label_smoothing=smoothing)

    return Smoothed


def _use_dilations(dilations):
    """Build the package's convolution blocks with ``dilations`` (one per
    layer; None: the package's own, undilated). Tried on the panel
    (docs/architectures.md), not shipped."""
    from sklstm import _layers

    plain = getattr(_layers.TimeConv, "plain", _layers.TimeConv)
    if dilations is None:
        _layers.TimeConv = plain
        return

    class Dilated(plain):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            for conv, d in zip(self.convs, dilations, strict=False):
                k = conv.kernel_size[0]
                conv.dilation = (d,)
                conv.padding = ((d * (k - 1) + 1) // 2,)  # keeps the steps

    Dilated.plain = plain
    _layers.TimeConv = Dilated


def _use_strided(kind):
    """Build the package's networks so that the FCN branch's first
    convolution reads every step with stride ``fcn_downsample`` (None: the
    package's own averaging). Tried on the panel (docs/architectures.md),
    not shipped."""
    import torch
    from torch import nn

    from sklstm import _layers, _network

    net = _network.LSTMNetwork
    plain = getattr(net, "plain_init", net.__init__)
    net.plain_init = plain
    if kind is None:
        net.__init__ = plain
        return

    class Strided(nn.Module):
        """The FCN branch with its first convolution strided: it reads
        every step, the later blocks every ``k``-th position."""

        def __init__(self, fcn, k):
            super().__init__()
            self.fcn, self.k = fcn, k
            first = fcn.convs.convs[0]
            size = first.kernel_size[0]
            if kind == "wide":  # average runs of k, then the kernel of 8
                conv = nn.Conv1d(first.in_channels, first.out_channels, size * k)
                with torch.no_grad():
                    conv.weight.copy_(first.weight.repeat_interleave(k, dim=2) / k)
                    conv.bias.copy_(first.bias)
                left = (size // 2) * k
            else:
                conv, left = first, size // 2 - (k - 1) // 2
            conv.stride, conv.padding = (k,), (0,)
            fcn.convs.convs[0] = conv
            self.left = max(0, left)

        def forward(self, x, lengths=None):
            k, body = self.k, self.fcn.convs
            steps = (x.shape[1] + k - 1) // k
            short = None if lengths is None else (lengths + k - 1) // k
            valid = None if short is None else _layers.valid_mask(short, steps)
            h = x.transpose(1, 2)  # padding steps are zero (scaled input)
            right = steps * k + body.convs[0].kernel_size[0] - x.shape[1]
            h = nn.functional.pad(h, (self.left, right))
            for i, conv in enumerate(body.convs):
                h = conv(h)[..., :steps]
                if valid is not None:
                    h = _layers.masked_norm_relu(body.norms[i], h, valid)
                else:
                    h = torch.relu(body.norms[i](h))
                if i < len(body.excite):
                    h = body.excite[i](h, short)
            return _layers.time_mean(h, short)

    def __init__(self, *args, **kwargs):
        plain(self, *args, **kwargs)
        if self.fcn is not None and self.fcn_downsample > 1:
            # the network then hands the branch every step (averaging runs
            # of 1), and the branch strides instead
            self.fcn = Strided(self.fcn, self.fcn_downsample)
            self.fcn_downsample = 1

    net.__init__ = __init__


def cosine_callback():
    """A skorch callback that anneals the learning rate along a cosine from
    ``lr`` to a hundredth of it over the fit's epochs: the budget's length is
    known before training, which a plateau schedule does not use. Defined on
    first use, so that this module imports without skorch."""
    from skorch.callbacks import Callback
    from torch.optim.lr_scheduler import CosineAnnealingLR

    class Cosine(Callback):
        def on_train_begin(self, net, **kwargs):
            lr = net.optimizer_.param_groups[0]["lr"]
            self.schedule_ = CosineAnnealingLR(
                net.optimizer_, T_max=max(1, net.max_epochs), eta_min=lr / 100
            )

        def on_epoch_end(self, net, **kwargs):
            self.schedule_.step()

    return Cosine()


def ema_callback(decay: float | None, share: float = 0.0):
    """A skorch callback that keeps an exponential moving average of the
    module's parameters after every training batch and puts it in place of
    the final weights when training ends (before sklstm refreshes batch
    norm's statistics). ``decay=None``: the average's horizon ``1 / (1 -
    decay)`` is ``share`` of the fit's optimiser steps. Defined on first use,
    as ``cosine_callback``."""
    import math

    import torch
    from skorch.callbacks import Callback

    class EMA(Callback):
        def on_train_begin(self, net, X=None, **kwargs):
            nonlocal decay
            if share:
                steps = net.max_epochs * math.ceil(len(X) / net.batch_size)
                decay = 1 - 1 / max(1.0, share * steps)
            self.average_ = [p.detach().clone() for p in net.module_.parameters()]

        def on_batch_end(self, net, batch=None, training=None, **kwargs):
            if training:
                with torch.no_grad():
                    for a, p in zip(
                        self.average_, net.module_.parameters(), strict=True
                    ):
                        a.lerp_(p.detach(), 1 - decay)

        def on_train_end(self, net, **kwargs):
            with torch.no_grad():
                for a, p in zip(self.average_, net.module_.parameters(), strict=True):
                    p.copy_(a)

    return EMA()


def _take(X, index):
    return [X[i] for i in index] if isinstance(X, list) else X[index]


def _shrink(X, y, n):
    """The first ``n`` samples of every class (smoke runs)."""
    keep = np.concatenate([np.flatnonzero(y == c)[:n] for c in np.unique(y)])
    return _take(X, keep), y[keep]


def _fit_score(recipe, seed, X, y, X_eval, y_eval, smoke):
    import torch

    torch.set_num_threads(1)  # two workers share the two cores
    model = classifier(recipe, seed, smoke)
    start = time.perf_counter()
    model.fit(X, y)
    seconds = time.perf_counter() - start
    proba = model.predict_proba(X_eval)
    accuracy = float(np.mean(model.classes_[proba.argmax(axis=1)] == y_eval))
    return accuracy, seconds, model.n_iter_, (model.classes_, proba)


def cross_validate(
    recipes, datasets, folds, n_jobs, smoke, echo=print, progress=True, repeats=1
):
    """Mean CV accuracy of every recipe on every TRAIN split, and mean ranks.
    Each fold is fitted ``repeats`` times, with seeds fold, fold + 100, ...
    (one repeat: seed = fold, as every earlier run): single-seed differences
    of a few samples on the small datasets are noise."""
    from joblib import Parallel, delayed
    from scipy.stats import rankdata
    from sklearn.model_selection import StratifiedKFold

    tasks, keys = [], []
    for name in datasets:
        X, y, _, _ = load(name)
        if smoke:
            X, y = _shrink(X, y, 4)
        k = min(folds, int(np.unique(y, return_counts=True)[1].min()))
        splits = StratifiedKFold(k, shuffle=True, random_state=0).split(
            np.zeros(len(y)), y
        )
        runs = [(split, r) for split in enumerate(splits) for r in range(repeats)]
        for (fold, (train, test)), repeat in runs:
            for recipe in recipes:
                keys.append((name, recipe))
                tasks.append(
                    delayed(_fit_score)(
                        recipe,
                        fold + 100 * repeat,
                        _take(X, train),
                        y[train],
                        _take(X, test),
                        y[test],
                        smoke,
                    )
                )
    results = Parallel(n_jobs=n_jobs, return_as="generator")(tasks)
    table = {}
    for (name, recipe), (acc, seconds, epochs, _) in zip(keys, results, strict=True):
        cell = table.setdefault(name, {}).setdefault(
            recipe, {"acc": [], "s": [], "epochs": []}
        )
        cell["acc"].append(acc)
        cell["s"].append(seconds)
        cell["epochs"].append(epochs)
        if progress:
            print(
                f"  {name} {recipe}: {acc:.3f}, {seconds:.0f} s, {epochs} epochs",
                file=sys.stderr,
                flush=True,
            )
    seeds = "one seed" if repeats == 1 else f"{repeats} seeds"
    echo(f"CV on the TRAIN splits ({folds}-fold, stratified, {seeds} a fold)\n")
    echo("| dataset | " + " | ".join(recipes) + " |")
    echo("|---|" + "---|" * len(recipes))
    ranks = []
    for name in datasets:
        means = [np.mean(table[name][r]["acc"]) for r in recipes]
        ranks.append(rankdata([-m for m in means]))
        cells = [
            f"{m:.3f} ({np.mean(table[name][r]['s']):.0f} s, "
            f"{np.mean(table[name][r]['epochs']):.0f} ep)"
            for m, r in zip(means, recipes, strict=True)
        ]
        echo(f"| {name} | " + " | ".join(cells) + " |")
    mean_rank = np.mean(ranks, axis=0)
    mean_acc = [
        np.mean([np.mean(table[n][r]["acc"]) for n in datasets]) for r in recipes
    ]
    echo("| mean accuracy | " + " | ".join(f"{a:.3f}" for a in mean_acc) + " |")
    echo("| **mean rank** | " + " | ".join(f"**{r:.2f}**" for r in mean_rank) + " |")
    return {
        "cv": table,
        "mean_rank": dict(zip(recipes, mean_rank.tolist(), strict=True)),
    }


def one_nn(name, smoke, recompute=False):
    """1-NN ED and DTW test accuracy: the stored figures (computed with aeon,
    marked *), or with ``recompute`` tslearn's (PLAID's DTW takes tslearn
    most of an hour)."""
    if not recompute:
        ed, dtw = ONE_NN[name]
        return ed, dtw, "*"
    try:
        from tslearn.neighbors import KNeighborsTimeSeriesClassifier
        from tslearn.utils import to_time_series_dataset
    except ImportError:
        ed, dtw = ONE_NN[name]
        return ed, dtw, "*"
    X, y, Xt, yt = load(name)
    if smoke:
        X, y = _shrink(X, y, 3)
        Xt, yt = _shrink(Xt, yt, 3)
    ragged = isinstance(X, list)
    A, B = to_time_series_dataset(list(X)), to_time_series_dataset(list(Xt))
    out = []
    for metric in ("euclidean", "dtw"):
        if metric == "euclidean" and ragged:
            out.append(None)  # undefined on sequences of differing lengths
            continue
        knn = KNeighborsTimeSeriesClassifier(1, metric=metric, n_jobs=1)
        out.append(float(np.mean(knn.fit(A, y).predict(B) == yt)))
    return out[0], out[1], ""


def test_scores(recipes, datasets, seeds, n_jobs, smoke, echo=print, recompute=False):
    """Test accuracy of each recipe over seeds, beside the references."""
    from joblib import Parallel, delayed

    data = {}
    tasks, keys = [], []
    for name in datasets:
        X, y, Xt, yt = load(name)
        if smoke:
            X, y = _shrink(X, y, 3)
            Xt, yt = _shrink(Xt, yt, 3)
        data[name] = (X, y, Xt, yt)
        for recipe in recipes:
            for seed in range(seeds):
                keys.append((name, recipe))
                tasks.append(delayed(_fit_score)(recipe, seed, X, y, Xt, yt, smoke))
    results = Parallel(n_jobs=n_jobs, return_as="generator")(tasks)
    table = {}
    probas = {}
    for (name, recipe), (acc, seconds, epochs, proba) in zip(
        keys, results, strict=True
    ):
        cell = table.setdefault(name, {}).setdefault(
            recipe, {"acc": [], "s": [], "epochs": []}
        )
        cell["acc"].append(acc)
        cell["s"].append(seconds)
        cell["epochs"].append(epochs)
        probas.setdefault((name, recipe), []).append(proba)
        print(
            f"  {name} {recipe}: {acc:.3f}, {seconds:.0f} s, {epochs} epochs",
            file=sys.stderr,
            flush=True,
        )
    for (name, recipe), seeds_out in probas.items():
        # a soft vote of the seeds' models: VotingClassifier(voting="soft") over
        # clones that differ only in random_state
        classes = seeds_out[0][0]
        mean = np.mean([p for _, p in seeds_out], axis=0)
        votes = classes[mean.argmax(axis=1)]
        table[name][recipe]["ensemble"] = float(np.mean(votes == data[name][3]))
    echo(
        f"Test accuracy, mean (min-max) over seeds 0-{seeds - 1}; fit seconds; "
        "the accuracy of a soft vote of those seeds' models\n"
    )
    head = " | ".join(recipes)
    echo(
        f"| dataset | {head} | 1-NN ED | 1-NN DTW | ROCKET | InceptionTime | LSTM-FCN |"
    )
    echo("|---|" + "---|" * (len(recipes) + 5))
    baselines = {}
    for name in datasets:
        ed, dtw, mark = one_nn(name, smoke, recompute)
        baselines[name] = {"ed": ed, "dtw": dtw}
        cells = []
        for recipe in recipes:
            acc, s = table[name][recipe]["acc"], table[name][recipe]["s"]
            cells.append(
                f"{np.mean(acc):.3f} ({min(acc):.3f}-{max(acc):.3f}), "
                f"{np.mean(s):.0f} s; vote {table[name][recipe]['ensemble']:.3f}"
            )
        refs = [_fmt(v) + mark for v in (ed, dtw)]
        refs += [_fmt(v) for v in PUBLISHED[name]]
        echo(f"| {name} | " + " | ".join(cells + refs) + " |")
    for recipe in recipes:
        means = {n: np.mean(table[n][recipe]["acc"]) for n in datasets}
        floor = [n for n in datasets if means[n] < (baselines[n]["dtw"] or 0)]
        published = [n for n in datasets if PUBLISHED[n][1] is not None]
        ours = np.mean([means[n] for n in published]) if published else float("nan")
        theirs = np.mean([PUBLISHED[n][1] for n in published]) if published else 0
        vote = np.mean([table[n][recipe]["ensemble"] for n in datasets])
        echo(
            f"\n{recipe}: mean accuracy {np.mean(list(means.values())):.3f} "
            f"(a soft vote of the {seeds} seeds' models: {vote:.3f}); "
            f"below 1-NN DTW on {floor or 'none'}; on the {len(published)} "
            f"datasets with a published InceptionTime figure {ours:.3f} against "
            f"{theirs:.3f}"
        )
    return {"test": table, "baselines": baselines}


def _forecast_task(recipe, series, end, seed, smoke):
    import forecast_panel as fp
    import torch

    torch.set_num_threads(1)
    start = time.perf_counter()
    future = fp.forecast(recipe, series, series.values[:end], seed, smoke)
    return fp.mase(future, series, end), time.perf_counter() - start


def forecasting(recipes, seeds, n_jobs, smoke, origins=0, echo=print):
    """MASE of each forecasting recipe beside seasonal naive and Holt-Winters:
    on the hold-out (``origins=0``) or, to choose, from ``origins`` rolling
    origins inside each training part."""
    import forecast_panel as fp
    from joblib import Parallel, delayed

    panel = fp.panel(smoke)
    ends = {}
    for s in panel:
        first = len(s.values) - s.horizon
        ends[s.name] = (
            [first]
            if not origins
            else [first - k * s.horizon for k in range(origins, 0, -1)]
        )
    keys, tasks = [], []
    for s in panel:
        for end in ends[s.name]:
            for recipe in recipes:
                for seed in range(seeds):
                    keys.append((s.name, recipe))
                    tasks.append(delayed(_forecast_task)(recipe, s, end, seed, smoke))
    results = Parallel(n_jobs=n_jobs)(tasks)
    table = {}
    for (name, recipe), (score, seconds) in zip(keys, results, strict=True):
        cell = table.setdefault(name, {}).setdefault(recipe, {"mase": [], "s": []})
        cell["mase"].append(score)
        cell["s"].append(seconds)
    where = "the hold-out" if not origins else f"{origins} origins inside TRAIN"
    echo(f"\nForecasting MASE on {where}, mean (min-max) over seeds 0-{seeds - 1}\n")
    echo("| series | " + " | ".join(recipes) + " | seasonal naive | Holt-Winters |")
    echo("|---|" + "---|" * (len(recipes) + 2))
    refs = {}
    for s in panel:
        snaive = np.mean(
            [fp.mase(fp.seasonal_naive(s, s.values[:e]), s, e) for e in ends[s.name]]
        )
        hw = np.mean(
            [fp.mase(fp.holt_winters(s, s.values[:e]), s, e) for e in ends[s.name]]
        )
        refs[s.name] = {"seasonal_naive": snaive, "holt_winters": hw}
        cells = []
        for recipe in recipes:
            m = table[s.name][recipe]["mase"]
            cells.append(
                "too short"
                if np.isnan(m).any()
                else f"{np.mean(m):.3f} ({min(m):.3f}-{max(m):.3f})"
            )
        echo(f"| {s.name} | " + " | ".join(cells) + f" | {snaive:.3f} | {hw:.3f} |")
    hw_mean = np.mean([refs[s.name]["holt_winters"] for s in panel])
    sn_mean = np.mean([refs[s.name]["seasonal_naive"] for s in panel])
    for recipe in recipes:
        means = {s.name: np.mean(table[s.name][recipe]["mase"]) for s in panel}
        worse = [n for n in means if means[n] >= refs[n]["seasonal_naive"]]
        mean = np.nanmean(list(means.values()))
        echo(
            f"{recipe}: mean MASE {mean:.3f} ({mean / hw_mean:.2f}x Holt-Winters' "
            f"{hw_mean:.3f}; seasonal naive {sn_mean:.3f}); not below seasonal "
            f"naive on {worse or 'none'}"
        )
    return {"forecast": table, "references": refs}


def budget(recipes, repeats, smoke, echo=print):
    """Seconds of a fit at each recipe on random data of the sizes the budget
    targets (100 x 100 within 10 s, 1,000 x 500 within 60 s, also when the
    lengths vary from 100 to 500 steps), at torch's
    default threads (two on these machines), one fit at a time."""
    from sklstm import LSTMClassifier

    rng = np.random.default_rng(0)
    # (sequences, shortest, longest): the last, of varying lengths, costs
    # what padding and batch norm over the valid steps add
    sizes = [(100, 100, 100), (1000, 500, 500), (1000, 100, 500)]
    sizes = sizes if not smoke else [(20, 10, 10), (20, 5, 10)]
    # imports (torch, skorch, the optimizer's) paid once, before any timing
    LSTMClassifier(4, max_epochs=1).fit(rng.normal(size=(10, 5)), [0, 1] * 5)
    echo("| recipe | sequences x steps | fit seconds (each repeat) | epochs |")
    echo("|---|---|---|---|")
    for recipe in recipes:
        for n, shortest, steps in sizes:
            X = rng.normal(size=(n, steps))
            if shortest < steps:
                lengths = rng.integers(shortest, steps + 1, size=n)
                X = [row[:length] for row, length in zip(X, lengths, strict=True)]
            y = rng.integers(0, 3, size=n)
            times = []
            for _ in range(repeats):
                model = classifier(recipe, 0, smoke)
                start = time.perf_counter()
                model.fit(X, y)
                times.append(time.perf_counter() - start)
            shown = ", ".join(f"{t:.1f}" for t in times)
            size = f"{n} x {steps}"
            if shortest < steps:
                size = f"{n} x {shortest}-{steps}"
            echo(f"| {recipe} | {size} | {shown} | {model.n_iter_} |")


def _fmt(value):
    return "-" if value is None else f"{value:.3f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "mode", choices=["test", "cv", "forecast", "forecast-cv", "budget"]
    )
    parser.add_argument("--recipes", nargs="+", default=None)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--repeats", type=int, default=1, help="cv: fits of each fold, seeds apart"
    )
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None, help="write results here")
    parser.add_argument(
        "--recompute-1nn",
        action="store_true",
        help="recompute 1-NN ED and DTW with tslearn (slow) instead of the stored "
        "aeon figures",
    )
    parser.add_argument("--smoke", action="store_true", help="tiny run, for the tests")
    args = parser.parse_args(argv)
    import forecast_panel

    classifying = args.mode in ("test", "cv", "budget")
    known_recipes = RECIPES if classifying else forecast_panel.RECIPES
    recipes = args.recipes or (
        ["default"] if args.mode == "test" else list(known_recipes)
    )
    for bad, known in ((recipes, known_recipes), (args.datasets, DATASETS)):
        unknown = sorted(set(bad) - set(known))
        if unknown:
            parser.error(f"unknown {unknown}; choose from {list(known)}")
    start = time.perf_counter()
    if args.mode == "cv":
        out = cross_validate(
            recipes,
            args.datasets,
            args.folds,
            args.n_jobs,
            args.smoke,
            repeats=args.repeats,
        )
    elif args.mode == "budget":
        out = budget(recipes, args.seeds, args.smoke)
    elif args.mode.startswith("forecast"):
        origins = args.folds if args.mode == "forecast-cv" else 0
        out = forecasting(recipes, args.seeds, args.n_jobs, args.smoke, origins)
    else:
        out = test_scores(
            recipes,
            args.datasets,
            args.seeds,
            args.n_jobs,
            args.smoke,
            recompute=args.recompute_1nn,
        )
    print(f"\n{time.perf_counter() - start:.0f} s in all")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
