"""The training engine: one call of ``train`` runs one ``fit`` or
``partial_fit`` of a :class:`Plan` (what the estimator asks for, in torch's
terms) through skorch and returns what it learned (:class:`Trained`).

``SequenceNet`` is skorch's ``NeuralNet`` fed :class:`~sklstm._data.Batch`
objects, with the loss weighted per sample. Knows torch and skorch, nothing of
scikit-learn; imported by the first fit (skorch takes about a second).
"""

from __future__ import annotations

import torch
from skorch import NeuralNet
from skorch.callbacks import (
    EpochTimer,
    GradientNormClipping,
    PassthroughScoring,
)
from skorch.utils import TeeGenerator

from . import _graphs
from ._callbacks import Monitor, PlateauSchedule, ProgressBar
from ._data import BatchIterator, TailSplit, place, to_device
from ._engine import (
    OPTIMIZERS,
    PRECISIONS,
    Carry,
    Plan,
    Trained,
    check_same_optimizer,
    cpu_pad,
    forward,
    restore_rng,
    save_rng,
    scheduler_state,
)
from ._graphs import StepGraph, _NotRecorded, graphable
from ._network import LSTMNetwork

LOSS_READS_EVERY = 256  # batches whose losses are read from the device at once


class SequenceNet(NeuralNet):
    """A skorch ``NeuralNet`` whose batches are ``(Batch, y)`` pairs.

    ``autocast`` (a torch dtype or None) runs the forward pass under
    ``torch.autocast`` with that dtype: mixed precision. ``cuda_graphs`` lets a
    fit on CUDA record its training step once and replay it
    (:mod:`sklstm._graphs`).

    What it changes of skorch, and why: ``infer`` and ``get_loss`` (skorch's
    documented extension points) read a Batch and weigh the loss per sample;
    ``get_default_callbacks`` leaves out PrintLog (progress is ProgressBar's);
    ``fit_loop`` and ``train_step`` record and replay the CUDA graph (GPU
    only); ``run_single_epoch`` reads batch losses in groups (a GPU otherwise
    waits for every batch); ``_set_training`` skips skorch's per-batch walk of
    the modules. ``tests/test_callbacks.py`` fails when one of these changes in
    skorch.
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

    def _set_training(self, training=True):
        # skorch (private API, no public hook) sets the mode on every batch,
        # walking every submodule: 19 us a batch for the default network,
        # measured, against 0.14 us here; the mode only changes between the
        # training and the validation pass. (notify's per-batch filter went:
        # it saved 3 us a batch, within the noise of a CPU batch's 1-2 ms.)
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
        # autocast's cache of cast weights cannot live in a CUDA graph
        return forward(
            self.module_, x, self.device, self.autocast, cache=self._step_graph is None
        )

    def get_loss(self, y_pred, y_true, X=None, training=False):
        loss = self.criterion_(y_pred, to_device(y_true, self.device))
        if X is None or X.weight is None:
            return loss.mean()  # every sample has as many outputs: one mean
        if loss.ndim > 1:  # several outputs: average them per sample
            loss = loss.flatten(1).mean(dim=1)
        return (loss * to_device(X.weight, self.device)).mean()


def _read_losses(pending: list, prefix: str) -> None:
    """Write the losses of ``pending`` batches into their history entries (one
    device-to-host copy for them all) and empty the list."""
    if not pending:
        return
    values = torch.stack([loss for _, loss in pending]).tolist()
    for (entry, _), value in zip(pending, values, strict=True):
        entry[prefix + "_loss"] = value
    pending.clear()


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
            forward(module, batch, device)
    finally:
        for norm, momentum in zip(norms, saved, strict=True):
            norm.momentum = momentum
        module.train(was_training)


def train(plan: Plan, dataset, device: str, *, seed=None, carry=None) -> Trained:
    """Run ``plan`` on ``dataset``: a new network seeded with ``seed`` when
    ``carry`` is None, else ``carry``'s network trained further."""
    dataset = place(dataset, device)
    devices = [torch.cuda.current_device()] if device.startswith("cuda") else []
    # training runs on its own copy of torch's global random state
    with cpu_pad(device, plan.block_bytes), torch.random.fork_rng(devices=devices):
        generator = torch.Generator()
        if carry is None:
            torch.manual_seed(seed)
            generator.manual_seed(seed)
        net = build_net(plan, generator, device, carry)
        net.initialize()
        if carry is None:
            if plan.input_scaling is not None:
                loc, scale = plan.input_scaling
                net.module_.scaling.loc.copy_(torch.as_tensor(loc))
                net.module_.scaling.scale.copy_(torch.as_tensor(scale))
        else:
            net.module_.load_state_dict(carry.module.state_dict())
            if carry.optimizer_state is not None:
                check_same_optimizer(
                    net.optimizer_, carry.optimizer_state, plan.optimizer
                )
                net.optimizer_.load_state_dict(carry.optimizer_state)
            # after initialize(), whose fresh weights drew random numbers, so
            # that continued training draws what one long fit would have
            restore_rng(carry.rng_state, generator, devices)
        net.partial_fit(dataset, y=None, epochs=plan.epochs)
        rng_state = save_rng(generator, devices)
        if plan.refresh_norms and net.history:
            refresh_batch_norm(net.module_, dataset, plan.batch_size)
    monitor = dict(net.callbacks_)["monitor"]
    return Trained(
        Carry(
            net.module_, rng_state, net.optimizer_.state_dict(), scheduler_state(net)
        ),
        list(net.history),
        monitor.stop_reason_,
        monitor.symptom_,
    )


def build_net(plan: Plan, generator, device: str, carry=None) -> SequenceNet:
    """The skorch net that runs ``plan``, with sklstm's callbacks."""
    key = "train_loss" if plan.validation is None else "valid_loss"
    callbacks = []
    if plan.plateau is not None:
        # before the monitor, which ends the last epoch by raising: the
        # schedule still records that epoch's learning rate
        schedule = PlateauSchedule(
            monitor=key,
            patience=plan.plateau,
            threshold=plan.tol,
            min_lr=plan.min_lr,
            state=None if carry is None else carry.scheduler_state,
        )
        callbacks.append(("lr_schedule", schedule))
    # the user's skorch callbacks see every epoch, the last one included:
    # they run before the monitor, which ends the last epoch by raising
    callbacks += plan.callbacks
    monitor = Monitor(
        key=key,
        tol=plan.tol,
        patience=plan.patience,
        restore_best=plan.validation is not None,
    )
    callbacks.append(("monitor", monitor))
    if plan.clip_grad_norm is not None:
        callbacks.append(("clip", GradientNormClipping(plan.clip_grad_norm)))
    if plan.progress:
        callbacks.append(("progress", ProgressBar(plan.epochs)))
    return SequenceNet(
        module=LSTMNetwork,
        **{f"module__{k}": v for k, v in plan.module_kwargs.items()},
        criterion=plan.criterion,
        optimizer=OPTIMIZERS[plan.optimizer],
        optimizer__weight_decay=plan.weight_decay,
        lr=plan.lr,
        batch_size=plan.batch_size,
        max_epochs=plan.epochs,
        iterator_train=BatchIterator,
        iterator_train__shuffle=plan.shuffle,
        iterator_train__generator=generator,
        iterator_valid=BatchIterator,
        train_split=(
            None
            if plan.validation is None
            else TailSplit(plan.validation, plan.n_valid)
        ),
        callbacks=callbacks,
        device=device,
        autocast=PRECISIONS[plan.precision],
        cuda_graphs=True,
        verbose=0,
    )
