"""How data and modules move, the properties the benchmarks' numbers rest on
(issue 25: implementation details, kept beside the benchmarks rather than in
the suite): predict queues every batch before reading any back, leaves a placed
evaluating module alone, and copies to a GPU only through ``to_device`` (pinned,
without waiting). Counted with stand-ins, so they run on any machine:

    .venv/bin/python -m pytest benchmarks/test_paths.py
"""

import numpy as np
import pytest
import torch

from sklstm import LSTMRegressor
from sklstm._data import BatchIterator, SequenceDataset

rng = np.random.default_rng(0)


@pytest.fixture
def small_regression():
    X = rng.normal(size=(60, 8, 2))
    y = X[:, -3:, 0].sum(axis=1) - X[:, :, 1].mean(axis=1)
    return X, y


def test_predict_reads_back_once_every_batch_is_queued(small_regression, monkeypatch):
    """Check that predict runs every batch before it reads any result back to the
    host: on a GPU, a read-back per batch would make it wait between batches."""
    X, y = small_regression
    est = LSTMRegressor(4, max_epochs=1, random_state=0).fit(X, y)
    expected = est.predict(X)
    events = []
    forward, to_host = est.module_.forward, torch.Tensor.cpu

    def counted_forward(*args, **kwargs):
        events.append("forward")
        return forward(*args, **kwargs)

    def counted_cpu(tensor, *args, **kwargs):
        events.append("cpu")
        return to_host(tensor, *args, **kwargs)

    monkeypatch.setattr(est.module_, "forward", counted_forward)
    monkeypatch.setattr(torch.Tensor, "cpu", counted_cpu)
    pred = est.predict(np.concatenate([X] * 10))  # 600 samples: 3 batches of 256
    np.testing.assert_array_equal(pred, np.tile(expected, 10))
    assert events == ["forward"] * 3 + ["cpu"] * 3


def test_predict_leaves_a_placed_evaluating_module_alone(small_regression, monkeypatch):
    """Check that predict neither moves nor re-modes a module that is already on
    its device and evaluating (each walks every submodule; .to() re-flattens an
    LSTM's weights), and that it still puts a module in training mode right."""
    X, y = small_regression
    est = LSTMRegressor(4, dropout=0.5, max_epochs=1, random_state=0).fit(X, y)
    expected = est.predict(X)
    calls = []

    def counted(name):
        method = getattr(est.module_, name)

        def call(*args, **kwargs):
            calls.append(name)
            return method(*args, **kwargs)

        return call

    for name in ("to", "train"):  # .eval() is .train(False)
        monkeypatch.setattr(est.module_, name, counted(name))
    np.testing.assert_array_equal(est.predict(X), expected)
    assert calls == []
    est.module_.dropout.train()  # a submodule left training: its dropout would act
    np.testing.assert_array_equal(est.predict(X), expected)
    assert calls == ["train"] and not any(m.training for m in est.module_.modules())


def test_cpu_tensors_go_to_a_gpu_from_pinned_memory_without_waiting(monkeypatch):
    """Check that to_device pins a CPU tensor and copies it with non_blocking=True
    (torch's blocking copy to a GPU synchronises the stream). The GPU is stood in
    for: pinning and the copy are recorded, and the tensor stays where it is."""
    from sklstm._data import to_device

    calls = []
    real_to = torch.Tensor.to

    def pin(tensor):
        calls.append("pin")
        return tensor

    def to(tensor, *args, **kwargs):
        target = args[0] if args else kwargs.get("device")
        if isinstance(target, (str, torch.device)) and "cuda" in str(target):
            calls.append(("to", str(target), kwargs))
            return tensor
        return real_to(tensor, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, "pin_memory", pin)
    monkeypatch.setattr(torch.Tensor, "to", to)
    t = torch.arange(4)
    assert to_device(t, "cuda:0") is t
    assert calls == ["pin", ("to", "cuda:0", {"non_blocking": True})]
    calls.clear()
    assert to_device(None, "cuda") is None
    assert to_device(t, "cpu") is t and calls == []

    def cannot_pin(tensor):
        raise RuntimeError("out of pinned memory")

    monkeypatch.setattr(torch.Tensor, "pin_memory", cannot_pin)
    assert to_device(t, "cuda:0") is t  # the ordinary, blocking copy
    assert calls == [("to", "cuda:0", {})]


@pytest.mark.parametrize("exact_limit", [None, 10], ids=["stored", "computed"])
def test_batches_reach_the_device_only_through_to_device(monkeypatch, exact_limit):
    """Check that per-batch copies from the host (a batch's padding, a computed epoch
    order) go through to_device, which does not make the host wait for a GPU; run on
    torch's meta device, where any copy that bypassed it is caught."""
    from sklstm import _data, _shuffle
    from sklstm._sequences import read_ragged

    if exact_limit is not None:
        monkeypatch.setattr(_shuffle, "EXACT_LIMIT", exact_limit)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (10**9, 10**9))
    X = [rng.normal(size=(n, 2)) for n in rng.integers(3, 12, size=40)]
    moved = _data.place(SequenceDataset(read_ragged(X), y=np.arange(40)), "meta")
    inside, bypassed = [], []
    through = _data.to_device

    def counted(tensor, device):
        inside.append(tensor)
        try:
            return through(tensor, device)
        finally:
            inside.pop()

    real_to = torch.Tensor.to

    def to(tensor, *args, **kwargs):
        out = real_to(tensor, *args, **kwargs)
        if tensor.device.type == "cpu" and out.device.type != "cpu" and not inside:
            bypassed.append(tuple(tensor.shape))
        return out

    monkeypatch.setattr(_data, "to_device", counted)
    monkeypatch.setattr(torch.Tensor, "to", to)
    g = torch.Generator().manual_seed(1)
    batches = list(BatchIterator(moved, 8, shuffle=True, generator=g))
    assert len(batches) == 5 and all(b.lengths is not None for b, _ in batches)
    assert bypassed == []
