"""The skorch training loop, trimmed and extended for sequences.

``SequenceNet`` feeds :class:`~sklstm._data.Batch` objects to the module and
weights the loss per sample; ``Monitor`` stops on the MLP rule, keeps the best
and the last good weights, and notices divergence and interruption.
"""

from __future__ import annotations

import math

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochTimer, PassthroughScoring

from ._network import autocast

PER_BATCH = ("on_batch_begin", "on_batch_end", "on_grad_computed")


class SequenceNet(NeuralNet):
    """A skorch ``NeuralNet`` whose batches are ``(Batch, y)`` pairs.

    ``autocast`` (a torch dtype or None) runs the forward pass under
    ``torch.autocast`` with that dtype: mixed precision.
    """

    def __init__(self, *args, autocast=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.autocast = autocast

    def get_default_callbacks(self):
        # skorch's PrintLog is left out: progress is our ProgressBar's job
        return [
            ("epoch_timer", EpochTimer()),
            (
                "train_loss",
                PassthroughScoring(name="train_loss", on_train=True),
            ),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
        ]

    def initialize_callbacks(self):
        super().initialize_callbacks()
        # which callbacks act on each per-batch event; the others are skipped
        self._batch_listeners = {
            event: [cb for _, cb in self.callbacks_ if _overrides(cb, event)]
            for event in PER_BATCH
        }
        return self

    def notify(self, method_name, **cb_kwargs):
        # skorch calls every callback on every batch, mostly skorch's no-ops
        if method_name not in PER_BATCH:
            return super().notify(method_name, **cb_kwargs)
        getattr(self, method_name)(self, **cb_kwargs)  # the net's own: history
        for cb in self._batch_listeners[method_name]:
            getattr(cb, method_name)(self, **cb_kwargs)
        return None

    def _set_training(self, training=True):
        # skorch sets the mode on every batch, walking every submodule; the mode
        # only changes between the training and the validation pass
        if self.module_.training != training or self.criterion_.training != training:
            super()._set_training(training)

    def infer(self, x, **fit_params):
        lengths = None if x.lengths is None else x.lengths.to(self.device)
        with autocast(self.device, self.autocast):
            out = self.module_(x.x.to(self.device), lengths)
        return out.float()

    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = self.criterion_(y_pred, y_true.to(self.device))
        if X is None or X.weight is None:
            return loss.mean()  # every sample has as many outputs: one mean
        if loss.ndim > 1:  # several outputs: average them per sample
            loss = loss.flatten(1).mean(dim=1)
        return (loss * X.weight.to(self.device)).mean()


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
            raise KeyboardInterrupt  # skorch's way to leave the epoch loop
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


def _overrides(callback, event: str) -> bool:
    """Whether ``callback`` does something on ``event`` (not skorch's no-op)."""
    return getattr(type(callback), event) is not getattr(Callback, event)


def _snapshot(module: torch.nn.Module) -> dict:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _complete(row) -> bool:
    return "train_loss" in row and "dur" in row
