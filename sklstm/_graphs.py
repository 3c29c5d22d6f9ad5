"""A training step captured once as a CUDA graph and replayed for every batch.

On a GPU an LSTM step of a few hundred samples is bound by the host, not the
device: launching cuDNN's kernels, autograd and the loss takes several times as
long as the kernels run (the GPU was busy 11 % of a bare PyTorch loop's epoch on
``benchmarks/gpu.py``'s workload). A CUDA graph records the step's kernels once;
each later batch is copied into the graph's input tensors and the whole forward
pass, loss, backward pass and gradient clipping run as one launch. The
optimizer's update stays outside the graph, so every optimizer and its state
work as they do without it.

A step is graphed only where it is the same every time: training on CUDA,
batches of one fixed length and the full batch size (the short last batch runs
as usual), and no dropout (whose masks must differ between steps). The first
``WARMUP`` full batches run as usual, on a side stream, so that lazy set-up
(cuDNN workspaces, optimizer state) stays out of the recording. If recording
fails, the fit goes on without the graph.

Training data with padded samples keep the whole fit eager (``PADDED_DATA``):
a bidirectional fit that mixed padded, eager batches with replayed ones did not
repeat exactly on an H100. The likely cause is fixed: each padded bidirectional
batch moved the LSTM's weights to a new buffer on a GPU, so the recorded step
read memory they had left (``sklstm._network._LentWeightsLSTM``; found in
torch's code and shown on a CPU with cuDNN's flattening stood in for). Such fits
stay eager until a GPU run confirms it (``tests/test_gpu.py``).

``sklstm.set_config(cuda_graphs=False)`` (or ``SKLSTM_CUDA_GRAPHS=0``) turns
this off.
"""

from __future__ import annotations

import os
import warnings

import torch
from torch import nn

from ._data import to_device

WARMUP = 3  # full batches run as usual before the step is recorded
# Whether data with padded samples may use a graph (for their full, unpadded
# batches). Off until a GPU run confirms the fix of the mismatch they showed
# (see the module's docstring).
PADDED_DATA = False


def enabled() -> bool:
    """Whether graphs are on: ``sklstm.set_config(cuda_graphs=...)``, else
    ``SKLSTM_CUDA_GRAPHS``, else on."""
    from ._config import get_config

    chosen = get_config()["cuda_graphs"]
    if chosen is not None:
        return chosen
    return os.environ.get("SKLSTM_CUDA_GRAPHS", "1").strip() not in ("0", "")


def graphable(module: nn.Module, device: str) -> bool:
    """Whether a training step of ``module`` on ``device`` can be recorded once:
    CUDA, and no dropout that would draw a new mask every step."""
    if not enabled() or torch.device(device).type != "cuda":
        return False
    for part in module.modules():
        if isinstance(part, nn.modules.dropout._DropoutNd) and part.p > 0:
            return False
        if isinstance(part, nn.RNNBase) and part.dropout > 0:
            return False
    return True


class StepGraph:
    """The recorded forward, loss, backward and clipping of one training step.

    Parameters
    ----------
    run_step : callable
        ``run_step(batch)`` runs the step up to the gradients and returns its
        loss and predictions, as skorch's ``train_step_single`` does.
    params : list of torch.nn.Parameter
        The parameters whose gradients the step leaves.
    """

    def __init__(self, run_step, params):
        self.run_step = run_step
        self.params = params
        self.graph = None
        self.failed = False
        self.size = None  # the full batch size, from the first batch
        self.warm = 0

    def eligible(self, batch) -> bool:
        """Whether ``batch`` (``(Batch, y)``) can use (or build) the graph."""
        x, _ = batch
        if self.failed or x.lengths is not None:
            return False
        if self.size is None:
            self.size = len(x)
        return len(x) == self.size and (self.graph is None or self._fits(batch))

    def warm_up(self, step):
        """Run the eager ``step()`` (zero_grad, forward, backward, optimizer) on a
        side stream while the graph is not yet recorded; return its result."""
        self.warm += 1
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            out = step()
        torch.cuda.current_stream().wait_stream(stream)
        # nothing may keep this step's autograd graph (and the gradient
        # accumulators it made on the side stream) alive into the recording
        return {k: v.detach() if torch.is_tensor(v) else v for k, v in out.items()}

    @property
    def ready(self) -> bool:
        return self.graph is not None or self.warm >= WARMUP

    def replay(self, batch) -> dict:
        """The step for ``batch``: recorded the first time, replayed after.

        Leaves the step's gradients in the parameters' ``.grad`` and returns
        ``{"loss": loss, "y_pred": y_pred}`` (the loss a copy of its own).
        """
        if self.graph is None:
            self._record(batch)
        for static, value in zip(self.inputs, _tensors(batch), strict=True):
            if static is not None:  # data left on the host travel without a wait
                static.copy_(to_device(value, static.device))
        self.graph.replay()
        for p, grad in zip(self.params, self.grads, strict=True):
            p.grad = grad  # an eager step in between may have set its own
        return {"loss": self.loss.clone(), "y_pred": self.y_pred}

    def _record(self, batch):
        # the graph's inputs live on the GPU even when the data stay on the host
        device = self.params[0].device
        self.inputs = [
            None if t is None else t.to(device, copy=True) for t in _tensors(batch)
        ]
        x, y = batch
        static = (type(x)(self.inputs[0], None, self.inputs[2]), self.inputs[1])
        for p in self.params:
            p.grad = None  # gradients are allocated inside the graph
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph):
                step = self.run_step(static)
        except RuntimeError as exc:
            self.failed = True
            torch.cuda.synchronize()
            warnings.warn(
                f"Recording the training step as a CUDA graph failed ({exc}); "
                "training goes on without it.",
                RuntimeWarning,
                stacklevel=2,
            )
            raise _NotRecorded from exc
        self.graph = graph
        # detached: the recorded autograd graph, with gradient accumulators made
        # on the recording stream, must not outlive the recording
        self.loss, self.y_pred = step["loss"].detach(), step["y_pred"].detach()
        self.grads = [p.grad for p in self.params]

    def _fits(self, batch) -> bool:
        return all(
            (s is None) == (t is None)
            and (s is None or (s.shape == t.shape and s.dtype == t.dtype))
            for s, t in zip(self.inputs, _tensors(batch), strict=True)
        )


class _NotRecorded(Exception):
    """The graph could not be recorded; the caller runs the step eagerly."""


def _tensors(batch) -> tuple:
    x, y = batch
    return x.x, y, x.weight
