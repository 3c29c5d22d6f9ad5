"""The callbacks every sklstm training runs: the stopping rule and its
watch for divergence and interruption (``Monitor``), the learning-rate schedule
(``PlateauSchedule``) and the progress bar; and the check of a user's own skorch
callbacks. skorch's ``Callback`` API, nothing of scikit-learn."""

from __future__ import annotations

import math

import torch
from skorch.callbacks import Callback, LRScheduler
from torch.optim.lr_scheduler import ReduceLROnPlateau

# names of the callbacks sklstm adds; a user's may not take them
RESERVED = ("lr_schedule", "monitor", "clip", "progress", "epoch_timer")


# No healthy network on scaled data has a weight anywhere near this; one that
# does has been thrown off by a step far too large (lr=1e30, say).
WEIGHT_LIMIT = 1e10


def _largest_weight(module) -> float:
    """The largest magnitude among the module's parameters (NaN if any is)."""
    with torch.no_grad():
        peaks = [p.detach().abs().amax() for p in module.parameters() if p.numel()]
        return float(torch.stack(peaks).amax()) if peaks else 0.0


class Monitor(Callback):
    """Stopping rule, best-weight restore, divergence and interruption.

    Stops when ``key`` (``train_loss`` or ``valid_loss``) has not improved on its
    best value by more than ``tol`` for ``patience`` epochs, as scikit-learn's
    ``MLPRegressor`` does. With ``restore_best`` the weights of the best epoch are
    put back at the end. A non-finite loss stops training at once and puts back
    the weights of the last finite epoch. An interrupt (Ctrl-C) that skorch
    catches leaves the weights of the last finished epoch.
    """

    def __init__(self, key="train_loss", tol=1e-4, patience=10, restore_best=False):
        self.key = key
        self.tol = tol
        self.patience = patience
        self.restore_best = restore_best

    def initialize(self):
        self.stop_reason_ = None
        return self

    def on_train_begin(self, net, **kwargs):
        self.stop_reason_ = None
        self.symptom_ = None
        self.best_ = math.inf
        self.best_epoch_ = None
        self.misses_ = 0
        self.epochs_done_ = 0
        self.best_state_ = None
        self.last_state_ = _snapshot(net.module_)

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        losses = [row[k] for k in ("train_loss", "valid_loss") if k in row]
        if not all(math.isfinite(v) for v in losses):
            self.stop_reason_ = "diverged"
            self.symptom_ = "the training loss became NaN or infinite"
            raise KeyboardInterrupt  # skorch's way to leave the epoch loop
        largest = _largest_weight(net.module_)
        if not largest <= WEIGHT_LIMIT:  # NaN too
            # the loss of an epoch is measured before its last step: a step
            # that threw the weights far away is only seen in the weights
            self.stop_reason_ = "diverged"
            self.symptom_ = (
                f"a weight reached {largest:.3g}, beyond any trained network's "
                f"(the limit is {WEIGHT_LIMIT:.0e})"
            )
            raise KeyboardInterrupt
        self.epochs_done_ += 1
        self.last_state_ = _snapshot(net.module_)
        score = row[self.key]
        if score < self.best_ - self.tol:
            self.misses_ = 0
        else:
            self.misses_ += 1
        if score < self.best_:
            self.best_ = score
            self.best_epoch_ = len(net.history)
            if self.restore_best:
                self.best_state_ = self.last_state_
        if self.patience is not None and self.misses_ >= self.patience:
            self.stop_reason_ = "converged"
            raise KeyboardInterrupt

    def on_train_end(self, net, **kwargs):
        if self.stop_reason_ is None and net.history and not _complete(net.history[-1]):
            self.stop_reason_ = "interrupted"
        if self.stop_reason_ in ("diverged", "interrupted"):
            net.module_.load_state_dict(self.last_state_)
        elif self.restore_best and self.best_state_ is not None:
            net.module_.load_state_dict(self.best_state_)


class PlateauSchedule(LRScheduler):
    """skorch's ``LRScheduler`` with torch's ``ReduceLROnPlateau``: halve the
    learning rate when ``monitor`` has not improved by ``threshold`` for
    ``patience`` epochs, down to ``min_lr``.

    ``state`` (from :meth:`current_state` of an earlier training) resumes the
    schedule where it stopped, so that one-epoch ``partial_fit`` calls follow
    the same schedule as one long fit.
    """

    def __init__(
        self,
        monitor="train_loss",
        patience=5,
        threshold=1e-4,
        min_lr=0.0,
        state=None,
    ):
        super().__init__(
            policy=ReduceLROnPlateau,
            monitor=monitor,
            mode="min",
            factor=0.5,
            patience=patience,
            threshold=threshold,
            threshold_mode="abs",
            min_lr=min_lr,
        )
        self.state = state

    @property
    def kwargs(self):
        kwargs = super().kwargs
        kwargs.pop("state", None)
        return kwargs

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        if self.state is not None:
            self.lr_scheduler_.load_state_dict(dict(self.state))

    def current_state(self) -> dict | None:
        """The schedule's state, to resume it later (plain numbers)."""
        if self.lr_scheduler_ is None:
            return None
        return {
            k: (list(v) if isinstance(v, (list, tuple)) else v)
            for k, v in self.lr_scheduler_.state_dict().items()
        }


class ProgressBar(Callback):
    """A tqdm bar over epochs that shows the latest losses."""

    def __init__(self, total):
        self.total = total

    def on_train_begin(self, net, **kwargs):
        from tqdm.auto import tqdm

        self.bar_ = tqdm(total=self.total, unit="epoch", leave=True)

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        self.bar_.set_postfix(
            {k: f"{row[k]:.4g}" for k in ("train_loss", "valid_loss") if k in row},
            refresh=False,
        )
        self.bar_.update(1)

    def on_train_end(self, net, **kwargs):
        self.bar_.close()


def user_callbacks(callbacks) -> list:
    """``callbacks`` as skorch's ``(name, callback)`` pairs, or a clear error."""
    pairs = []
    for i, item in enumerate(callbacks or ()):
        name, callback = item if isinstance(item, tuple) else (None, item)
        if not isinstance(callback, Callback):
            raise TypeError(
                f"callbacks[{i}] is a {type(callback).__name__}; expected a skorch "
                "callback (skorch.callbacks.Callback) or a (name, callback) pair."
            )
        pairs.append((name or f"user_{i}_{type(callback).__name__}", callback))
    clash = sorted({n for n, _ in pairs} & set(RESERVED))
    if clash:
        raise ValueError(f"callbacks may not be named {clash}: sklstm uses the names.")
    return pairs


def _snapshot(module: torch.nn.Module) -> dict:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _complete(row) -> bool:
    return "train_loss" in row and "dur" in row
