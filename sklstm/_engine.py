"""How the estimators run their network: device and precision policy, the one
batch step that training, prediction and the batch-norm refresh all take
(``forward``), the inference batch loop, and the state a training carries
from one call to the next (random numbers, optimizer, learning-rate schedule).
Knows torch, nothing of scikit-learn; skorch is loaded only by the training
loop (:mod:`sklstm._training`).
"""

from __future__ import annotations

import itertools
import re
import warnings
from contextlib import nullcontext
from dataclasses import dataclass

import torch

from ._data import BatchIterator, place, to_device
from ._heap import heap_pad
from ._network import autocast

DEVICE = re.compile(r"auto|(cpu|cuda)(:\d+)?")  # the devices sklstm trains on

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}

PRECISIONS = {"float32": None, "bfloat16": torch.bfloat16}


@dataclass(frozen=True)
class Plan:
    """One training call as the estimator asks for it, in torch's terms."""

    module_kwargs: dict  # LSTMNetwork's arguments
    input_scaling: tuple | None  # (loc, scale) per channel, set into a new net
    criterion: torch.nn.Module  # a loss with reduction="none"
    optimizer: str  # a key of OPTIMIZERS
    lr: float
    weight_decay: float
    batch_size: int
    epochs: int
    shuffle: bool
    validation: float | None  # the share held out at the tail; None: none
    n_valid: int | None  # that share as a count, when the estimator ordered it
    patience: int | None  # epochs without improvement by tol; None: run them all
    tol: float
    plateau: int | None  # halve the rate after this many epochs on a plateau
    min_lr: float
    clip_grad_norm: float | None
    callbacks: list  # the user's (name, skorch callback) pairs
    progress: bool
    precision: str  # a key of PRECISIONS
    block_bytes: int  # the largest block one step asks for (the heap pad's cue)
    refresh_norms: bool  # batch norms' statistics recomputed at the end


@dataclass(frozen=True)
class Carry:
    """What a training leaves for the next to continue from: the network, the
    random-number state, and (for ``partial_fit``) the optimizer's and the
    schedule's states."""

    module: torch.nn.Module
    rng_state: dict
    optimizer_state: dict | None = None
    scheduler_state: dict | None = None


@dataclass(frozen=True)
class Trained:
    """What ``train`` learned: the new carry, skorch's history of the epochs
    and why they stopped (Monitor's ``stop_reason_``/``symptom_``)."""

    carry: Carry
    history: list
    stop_reason: str | None
    symptom: str | None


def resolve_device(device, training=True) -> str:
    """The torch device ``device`` ('auto', 'cpu', 'cuda[:i]') names here; a
    clear error for one that cannot be used (for predicting, a GPU model
    falls back to the CPU with a warning)."""
    if not isinstance(device, str) or not DEVICE.fullmatch(device):
        raise ValueError(
            "device must be 'auto', 'cpu' or 'cuda', optionally with an index "
            f"('cuda:1'); got {device!r}."
        )
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cpu"):
        return "cpu"  # torch has one CPU device: 'cpu:0' is 'cpu'
    if device.startswith("cuda") and not torch.cuda.is_available():
        if training:
            raise ValueError(
                f"device={device!r} but CUDA is not available on this "
                "machine; use device='auto' (CUDA when present) or 'cpu'."
            )
        # a model trained on a GPU must still predict where there is none
        warnings.warn(
            f"device={device!r} is not available; predicting on the CPU.",
            UserWarning,
            stacklevel=5,  # the user's predict: _device, resolve_device below it
        )
        return "cpu"
    return device


def forward(module, batch, device, dtype=None, *, cache=True, fn=None):
    """``module``'s float32 outputs for one :class:`~sklstm._data.Batch`, its
    tensors moved to ``device`` (a no-op where they are), under mixed precision
    with ``dtype`` (None: none). ``fn(module, x, lengths)`` replaces the
    module's forward pass (attention weights); ``cache=False`` keeps autocast's
    cast weights out of a CUDA graph."""
    x, lengths = to_device(batch.x, device), to_device(batch.lengths, device)
    with autocast(device, dtype, cache=cache):
        out = module(x, lengths) if fn is None else fn(module, x, lengths)
    return out.float()


def run_batches(module, dataset, device, *, batch_size, dtype, need, fn=None) -> list:
    """``forward`` over the inference batches of ``dataset``, the outputs read
    back to the CPU once every batch is queued (a GPU never waits for the host
    between batches). ``need()``: the largest block a batch asks for (see
    ``heap_pad``), called only when there is more than one batch."""
    dataset = place(dataset, device)
    module = ready(module, device)
    batches = BatchIterator(dataset, batch_size=batch_size)
    # one batch (a served request) would pay more for the pad than it saves
    pad = cpu_pad(device, need()) if len(batches) > 1 else nullcontext()
    with pad, torch.inference_mode():
        outputs = [forward(module, batch, device, dtype, fn=fn) for batch, _ in batches]
    # on the CPU, .cpu() returns the tensor itself
    return [out.cpu() for out in outputs]


def ready(module: torch.nn.Module, device) -> torch.nn.Module:
    """``module`` on ``device`` and in evaluation mode, touched only where it is
    not: ``.to()`` walks every submodule and re-flattens an LSTM's weights even
    when nothing moves (on a GPU a copy of them; on the CPU a fifth of a
    one-sample ``predict``), and ``.eval()`` walks them again."""
    device = torch.device(device)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    elsewhere = training = False
    # one walk (parameters() would be a second), without the dotted name of
    # every submodule that modules() builds
    parts = [module]
    while parts:
        part = parts.pop()
        parts.extend(child for child in part._modules.values() if child is not None)
        training = training or part.training
        tensors = itertools.chain(part._parameters.values(), part._buffers.values())
        elsewhere = elsewhere or any(
            t is not None and t.device != device for t in tensors
        )
    if elsewhere:
        module = module.to(device)
    if training:
        module.eval()
    return module


def cpu_pad(device, need):
    """The heap pad where torch's kernels run on the CPU; none for a GPU, whose
    work allocates no big blocks on the host (:mod:`sklstm._heap`)."""
    return heap_pad(need) if torch.device(device).type == "cpu" else nullcontext()


def check_same_optimizer(optimizer, state, name):
    """Refuse to continue an optimizer state saved by another kind of optimizer
    (``set_params(optimizer=...)`` between ``partial_fit`` calls)."""
    saved = set(state["param_groups"][0]) if state.get("param_groups") else set()
    now = set(optimizer.state_dict()["param_groups"][0])
    if saved and saved != now:
        raise ValueError(
            f"partial_fit continues the optimizer the model was trained with, but "
            f"optimizer is now {name!r}, whose settings "
            f"{sorted(now - saved)} that state lacks. Call fit to train afresh with "
            "the new optimizer, or set the optimizer back."
        )


def scheduler_state(net):
    """The learning-rate schedule's state after training, or None."""
    schedule = dict(net.callbacks_).get("lr_schedule")
    return None if schedule is None else schedule.current_state()


def save_rng(generator, devices):
    state = {"cpu": torch.get_rng_state(), "generator": generator.get_state()}
    if devices:
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def restore_rng(state, generator, devices):
    torch.set_rng_state(state["cpu"])
    if devices and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"])
    generator.set_state(state["generator"])


def to_cpu(obj):
    if isinstance(obj, torch.Tensor):
        return obj.cpu()
    if isinstance(obj, dict):
        return {k: to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_cpu(v) for v in obj]
    return obj
