"""When a training step may be recorded as a CUDA graph (sklstm._graphs).

Recording and replaying need a GPU (tests/test_gpu.py); which steps qualify is
decided on the host and tested here.
"""

import pytest

from sklstm._graphs import enabled, graphable
from sklstm._network import LSTMNetwork


def _net(**kwargs):
    return LSTMNetwork(input_size=2, output_size=1, hidden_size=4, **kwargs)


def test_only_cuda_steps_are_graphed(monkeypatch):
    monkeypatch.delenv("SKLSTM_CUDA_GRAPHS", raising=False)
    assert enabled()
    assert graphable(_net(), "cuda") and graphable(_net(), "cuda:1")
    assert not graphable(_net(), "cpu") and not graphable(_net(), "meta")


@pytest.mark.parametrize(
    "kwargs", [{"dropout": 0.1}, {"num_layers": 2, "dropout": 0.1}]
)
def test_dropout_keeps_steps_eager(kwargs):
    """A recorded step would reuse one dropout mask for every batch."""
    assert not graphable(_net(**kwargs), "cuda")


@pytest.mark.parametrize("value", ["0", ""])
def test_environment_variable_turns_graphs_off(monkeypatch, value):
    monkeypatch.setenv("SKLSTM_CUDA_GRAPHS", value)
    assert not enabled() and not graphable(_net(), "cuda")
    monkeypatch.setenv("SKLSTM_CUDA_GRAPHS", "1")
    assert graphable(_net(), "cuda")


def test_sequence_net_asks_for_graphs_only_on_cuda(small_regression, monkeypatch):
    """A CPU fit builds no step graph at all."""
    from sklstm import LSTMRegressor
    from sklstm._training import SequenceNet

    seen = []
    original = SequenceNet.train_step

    def spy(net, batch, **kwargs):
        seen.append(net._step_graph)
        return original(net, batch, **kwargs)

    monkeypatch.setattr(SequenceNet, "train_step", spy)
    X, y = small_regression
    LSTMRegressor(hidden_size=4, max_epochs=1, device="cpu").fit(X, y)
    assert seen and all(g is None for g in seen)


@pytest.mark.parametrize("padded", [False, True])
def test_only_data_without_padded_samples_get_a_graph(monkeypatch, padded):
    """Padded samples (the windower's first windows, lists of differing lengths)
    keep the whole fit eager; grid data get a step graph. The graph itself is
    replaced by a stand-in that declines every batch, so this runs on the CPU."""
    import numpy as np

    from sklstm import LSTMRegressor, SequenceWindower, _training, make_windows

    made = []

    class StandIn:
        def __init__(self, run_step, params):
            made.append(params)

        def eligible(self, batch):
            return False

    monkeypatch.setattr(_training, "StepGraph", StandIn)
    monkeypatch.setattr(_training, "graphable", lambda module, device: True)
    series = np.sin(np.arange(80) / 5.0)
    if padded:
        X, y = SequenceWindower(6).fit_transform(series[:, None]), series
    else:
        X, y = make_windows(series, 6)
    LSTMRegressor(hidden_size=4, max_epochs=1, device="cpu").fit(X, y)
    assert len(made) == (0 if padded else 1)
