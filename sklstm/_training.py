"""The skorch training loop, trimmed and extended for sequences.

``SequenceNet`` feeds :class:`~sklstm._data.Batch` objects to the module and
weights the loss per sample; ``Monitor`` stops on the MLP rule, keeps the best
and the last good weights, and notices divergence and interruption.
"""

from __future__ import annotations

import math

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochTimer, LRScheduler, PassthroughScoring
from skorch.utils import TeeGenerator
from torch.optim.lr_scheduler import ReduceLROnPlateau

from . import _graphs
from ._data import to_device
from ._graphs import StepGraph, _NotRecorded, graphable
from ._network import autocast

PER_BATCH = ("on_batch_begin", "on_batch_end", "on_grad_computed")
LOSS_READS_EVERY = 256  # batches whose losses are read from the device at once


class SequenceNet(NeuralNet):
    """A skorch ``NeuralNet`` whose batches are ``(Batch, y)`` pairs.

    ``autocast`` (a torch dtype or None) runs the forward pass under
    ``torch.autocast`` with that dtype: mixed precision. ``cuda_graphs`` lets a
    fit on CUDA record its training step once and replay it
    (:mod:`sklstm._graphs`).
    """

    def __init__(self, *args, autocast=None, cuda_graphs=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.autocast = autocast
        self.cuda_graphs = cuda_graphs
        self._step_graph = None

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        # data with padded samples stay eager until a GPU run confirms the fix
        # of what they showed there (sklstm._graphs.PADDED_DATA)
        if (
            self.cuda_graphs
            and (_graphs.PADDED_DATA or getattr(X, "patch", True) is None)
            and graphable(self.module_, self.device)
        ):
            params = [p for p in self.module_.parameters() if p.requires_grad]
            # skorch 1.4 threads its metadata routing through fit_loop's
            # keywords; the batch step takes only the user's fit parameters
            step_params = {k: v for k, v in fit_params.items() if k[0] != "_"}
            self._step_graph = StepGraph(
                lambda batch: self._graphed_part(batch, **step_params), params
            )
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        finally:
            if self._step_graph is not None:
                self._step_graph = None  # frees the graph and its memory
                self.optimizer_.zero_grad(set_to_none=True)

    def train_step(self, batch, **fit_params):
        graph = self._step_graph
        if graph is None or not graph.eligible(batch):
            return super().train_step(batch, **fit_params)
        if not graph.ready:
            return graph.warm_up(
                lambda: NeuralNet.train_step(self, batch, **fit_params)
            )
        try:
            step = graph.replay(batch)
        except _NotRecorded:
            return super().train_step(batch, **fit_params)
        self.optimizer_.step()
        return step

    def _graphed_part(self, batch, **fit_params):
        """What the CUDA graph records: forward, loss, backward, clipping."""
        step = self.train_step_single(batch, **fit_params)
        self.notify(
            "on_grad_computed",
            named_parameters=TeeGenerator(self.get_all_learnable_params()),
            batch=batch,
            training=True,
        )
        return step

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

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        # skorch reads each batch's loss with ``.item()``, which on a GPU waits for
        # the batch to finish before the next can be queued; here losses are read
        # LOSS_READS_EVERY batches at a time, into the same history entries
        if iterator is None:
            return
        pending = []  # (history entry of a batch, its loss on the device)
        batch_count = 0
        try:
            for batch in iterator:
                self.notify("on_batch_begin", batch=batch, training=training)
                step = step_fn(batch, **fit_params)
                entry = self.history[-1]["batches"][-1]
                entry[prefix + "_batch_size"] = len(batch[0])
                pending.append((entry, step["loss"].detach()))
                if len(pending) == LOSS_READS_EVERY:
                    _read_losses(pending, prefix)
                self.notify("on_batch_end", batch=batch, training=training, **step)
                batch_count += 1
        finally:  # an interrupted epoch keeps the losses of its finished batches
            _read_losses(pending, prefix)
        self.history.record(prefix + "_batch_count", batch_count)

    def infer(self, x, **fit_params):
        lengths = to_device(x.lengths, self.device)
        # autocast's cache of cast weights cannot live in a CUDA graph
        with autocast(self.device, self.autocast, cache=self._step_graph is None):
            out = self.module_(to_device(x.x, self.device), lengths)
        return out.float()

    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = self.criterion_(y_pred, to_device(y_true, self.device))
        if X is None or X.weight is None:
            return loss.mean()  # every sample has as many outputs: one mean
        if loss.ndim > 1:  # several outputs: average them per sample
            loss = loss.flatten(1).mean(dim=1)
        return (loss * to_device(X.weight, self.device)).mean()


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


def _overrides(callback, event: str) -> bool:
    """Whether ``callback`` does something on ``event`` (not skorch's no-op)."""
    return getattr(type(callback), event) is not getattr(Callback, event)


def _read_losses(pending: list, prefix: str) -> None:
    """Write the losses of ``pending`` batches into their history entries (one
    device-to-host copy for them all) and empty the list."""
    if not pending:
        return
    values = torch.stack([loss for _, loss in pending]).tolist()
    for (entry, _), value in zip(pending, values, strict=True):
        entry[prefix + "_loss"] = value
    pending.clear()


def _snapshot(module: torch.nn.Module) -> dict:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _complete(row) -> bool:
    return "train_loss" in row and "dur" in row


@torch.no_grad()
def refresh_batch_norm(module: torch.nn.Module, dataset, batch_size: int) -> None:
    """Set every batch norm's running statistics to those of the trained
    network over ``dataset``: one pass in order, batch norms in training mode
    with a cumulative average, the rest (dropout) evaluating.

    During training the running averages trail weights that kept changing and
    weigh the last, often small, batch of every epoch as much as a full one: on
    a few dozen samples the network then predicts worse than it trained (seen
    on GunPoint: train loss 0.12, accuracy 0.7 on its own training samples).
    """
    from ._data import BatchIterator

    norms = [
        m
        for m in module.modules()
        if isinstance(m, torch.nn.modules.batchnorm._NormBase)
    ]
    if not norms:
        return
    was_training = module.training
    module.eval()
    saved = []
    for norm in norms:
        saved.append(norm.momentum)
        norm.reset_running_stats()
        norm.momentum = None  # a cumulative average over the pass
        norm.train()
    device = next(module.parameters()).device
    try:
        for batch, _ in BatchIterator(dataset, batch_size=batch_size):
            module(to_device(batch.x, device), to_device(batch.lengths, device))
    finally:
        for norm, momentum in zip(norms, saved, strict=True):
            norm.momentum = momentum
        module.train(was_training)
