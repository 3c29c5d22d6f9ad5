"""When a training step may be recorded as a CUDA graph (sklstm._graphs).

Recording and replaying need a GPU (tests/test_gpu.py); which steps qualify is
decided on the host and tested here.
"""

import pytest
import torch

from sklstm._graphs import enabled, graphable
from sklstm._network import LSTMNetwork


def _net(**kwargs):
    return LSTMNetwork(input_size=2, output_size=1, hidden_size=4, **kwargs)


def test_only_cuda_steps_are_graphed(monkeypatch):
    """Check that only training steps on a CUDA device may be recorded as graphs."""
    monkeypatch.delenv("SKLSTM_CUDA_GRAPHS", raising=False)
    assert enabled()
    assert graphable(_net(), "cuda") and graphable(_net(), "cuda:1")
    assert not graphable(_net(), "cpu") and not graphable(_net(), "meta")


@pytest.mark.parametrize(
    "kwargs", [{"dropout": 0.1}, {"num_layers": 2, "dropout": 0.1}]
)
def test_dropout_keeps_steps_eager(kwargs):
    """Check that dropout keeps steps eager (a recorded step would reuse one dropout
    mask for every batch)."""
    assert not graphable(_net(**kwargs), "cuda")


@pytest.mark.parametrize("value", ["0", ""])
def test_environment_variable_turns_graphs_off(monkeypatch, value):
    """Check that SKLSTM_CUDA_GRAPHS set to 0 or empty turns graphs off, and 1 on."""
    monkeypatch.setenv("SKLSTM_CUDA_GRAPHS", value)
    assert not enabled() and not graphable(_net(), "cuda")
    monkeypatch.setenv("SKLSTM_CUDA_GRAPHS", "1")
    assert graphable(_net(), "cuda")


def test_sequence_net_asks_for_graphs_only_on_cuda(small_regression, monkeypatch):
    """Check that a CPU fit builds no step graph at all."""
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
    """Check that padded samples (the windower's first windows, lists of differing
    lengths) keep the whole fit eager, while grid data get a step graph. The graph
    itself is replaced by a stand-in that declines every batch, so this runs on the
    CPU."""
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


def _rehoming_flatten(lstm):
    """What ``flatten_parameters`` does on a GPU (cuDNN): copy the weights into a
    new buffer and point the parameter tensors there. On a CPU it does nothing,
    so this stands in for it."""
    with torch.no_grad():
        for w in lstm._flat_weights:
            if isinstance(w, torch.Tensor) and w.device.type != "meta":
                w.set_(w.clone())


@pytest.mark.parametrize("num_layers", [1, 2])
def test_variable_lengths_leave_the_lstm_weights_where_they_are(
    monkeypatch, num_layers
):
    """Check that the LSTM's parameters stay put through a bidirectional pass over
    sequences of differing lengths, which runs each direction through a one-layer
    shell holding the LSTM's own weights. If the shell flattened them, cuDNN would
    move the LSTM's parameters to a new buffer on every such batch: a recorded CUDA
    graph would then read freed memory, and the LSTM would lose its single weight
    buffer."""
    net = _net(num_layers=num_layers, bidirectional=True)
    where = [p.data_ptr() for p in net.lstm.parameters()]
    monkeypatch.setattr(torch.nn.LSTM, "flatten_parameters", _rehoming_flatten)
    x = torch.randn(3, 7, 2)
    net(x, torch.tensor([7, 4, 2])).sum().backward()
    net(x).sum().backward()  # and the plain pass after it
    assert [p.data_ptr() for p in net.lstm.parameters()] == where
    assert all(p.grad is not None for p in net.lstm.parameters())


def test_shells_of_an_older_pickle_keep_the_weights_in_place():
    """Check that a model pickled before the shells kept lent weights in place loads
    with shells that do."""
    import pickle

    from sklstm._network import _LentWeightsLSTM

    net = _net(num_layers=2, bidirectional=True)
    net._single_layers = [  # as an older sklstm built them
        torch.nn.LSTM(s.input_size, s.hidden_size, batch_first=True, device="meta")
        for s in net._single_layers
    ]
    loaded = pickle.loads(pickle.dumps(net))
    assert [type(s) for s in loaded._single_layers] == [_LentWeightsLSTM] * 2
    assert [s.input_size for s in loaded._single_layers] == [2, 8]
    x, lengths = torch.randn(3, 5, 2), torch.tensor([5, 3, 1])
    torch.testing.assert_close(loaded(x, lengths), net(x, lengths))
