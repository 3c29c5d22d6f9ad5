"""The CUDA path on a real GPU (skipped where torch sees none).

The same paths are tested on the CPU elsewhere (device placement through torch's
meta device, GPU-resident data against CPU data); these check what only a GPU
shows: where the copies happen and which kernels run.
"""

import pickle

import numpy as np
import pytest
import torch
from torch.profiler import ProfilerActivity, profile

from sklstm import LSTMClassifier, LSTMRegressor, make_windows

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA GPU"
)

FAST = dict(hidden_size=16, max_epochs=3, batch_size=8, random_state=0)


@pytest.fixture
def series_windows():
    rng = np.random.default_rng(0)
    series = np.sin(np.arange(420) / 10) + 0.1 * rng.normal(size=420)
    return make_windows(series, 20)  # 400 windows: 50 batches of 8 an epoch


def _profiled(fit):
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        fit()
    counts = {}
    for event in prof.key_averages():
        counts[event.key] = counts.get(event.key, 0) + event.count
    return counts


def _count(counts, prefix):
    return sum(n for key, n in counts.items() if key.startswith(prefix))


def test_cuda_fit_matches_cpu_fit(series_windows):
    """Check that a seeded GPU fit predicts what the CPU fit does, to rounding."""
    X, y = series_windows
    cpu = LSTMRegressor(**FAST, device="cpu").fit(X, y)
    gpu = LSTMRegressor(**FAST, device="cuda").fit(X, y)
    assert next(gpu.module_.parameters()).is_cuda
    np.testing.assert_allclose(gpu.predict(X), cpu.predict(X), atol=1e-4)
    np.testing.assert_allclose(
        [h["train_loss"] for h in gpu.history_],
        [h["train_loss"] for h in cpu.history_],
        rtol=1e-4,
    )


def test_data_travel_once_per_fit_not_per_batch(series_windows):
    """Check that 150 batches cost a handful of host-to-device copies, not 150."""
    X, y = series_windows
    counts = _profiled(lambda: LSTMRegressor(**FAST, device="cuda").fit(X, y))
    # the table and targets once, the weights once, the shuffled order per epoch
    assert _count(counts, "Memcpy HtoD") < 30
    # each batch's loss is read in groups, not one copy (and wait) per batch
    assert _count(counts, "Memcpy DtoH") < 30


def test_data_too_large_for_the_device_travel_batch_by_batch(
    series_windows, monkeypatch
):
    """Check that data over a quarter of free memory travel batch by batch and give the
    same model."""
    X, y = series_windows
    resident = LSTMRegressor(**FAST, device="cuda").fit(X, y)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (100, 10**9))
    reg = LSTMRegressor(**FAST, device="cuda")
    counts = _profiled(lambda: reg.fit(X, y))
    assert _count(counts, "Memcpy HtoD") >= 150  # each batch travels
    np.testing.assert_allclose(reg.predict(X), resident.predict(X), atol=1e-5)


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("variable_length", [False, True])
def test_lstm_layers_run_on_cudnn(bidirectional, variable_length):
    """Check that fixed- and variable-length batches, one or two ways, use cuDNN."""
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 30, size=40) if variable_length else [30] * 40
    X = [rng.normal(size=(n, 3)) for n in lengths]
    y = np.array([int(s[:, 0].mean() > 0) for s in X])
    clf = LSTMClassifier(**FAST, num_layers=2, bidirectional=bidirectional)
    counts = _profiled(lambda: clf.fit(X, y))
    assert _count(counts, "aten::_cudnn_rnn") > 0
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)


def test_bfloat16_trains_on_cuda(sine_windows):
    """Check that mixed precision on the GPU scores an R² within 0.05 of float32's."""
    X, y = sine_windows
    params = dict(hidden_size=32, max_epochs=10, random_state=0, device="cuda")
    full = LSTMRegressor(**params).fit(X, y).score(X, y)
    half = LSTMRegressor(**params, precision="bfloat16").fit(X, y)
    assert half.score(X, y) > full - 0.05


def test_gpu_model_pickles_to_cpu_tensors(series_windows):
    """Check that a GPU model's pickle holds CPU tensors and predicts the same."""
    X, y = series_windows
    reg = LSTMRegressor(**FAST, device="cuda").fit(X, y)
    loaded = pickle.loads(pickle.dumps(reg))
    assert not next(loaded.module_.parameters()).is_cuda
    np.testing.assert_allclose(
        loaded.set_params(device="cpu").predict(X), reg.predict(X), atol=1e-5
    )


def _eager(monkeypatch):
    monkeypatch.setenv("SKLSTM_CUDA_GRAPHS", "0")


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"early_stopping": True, "clip_grad_norm": 1.0},
        {"precision": "bfloat16", "optimizer": "sgd", "lr": 0.05},
        {"num_layers": 2, "bidirectional": True, "pooling": "attention"},
    ],
    ids=["plain", "early stopping, clipping", "bfloat16, sgd", "attention"],
)
def test_graphed_steps_train_as_eager_steps_do(series_windows, monkeypatch, params):
    """Check that replaying the recorded step gives the eager fit's model, and that
    every full batch after the warm-up is a replay (the short last one is not)."""
    from sklstm._graphs import WARMUP

    X, y = series_windows
    kw = {**FAST, "batch_size": 24, "max_epochs": 4, "device": "cuda", **params}
    graphed = LSTMRegressor(**kw)
    counts = _profiled(lambda: graphed.fit(X, y))
    n_train = 360 if params.get("early_stopping") else 400
    assert _count(counts, "cudaGraphLaunch") == (n_train // 24) * 4 - WARMUP
    _eager(monkeypatch)
    eager = LSTMRegressor(**kw).fit(X, y)
    atol = 2e-2 if params.get("precision") == "bfloat16" else 1e-4
    np.testing.assert_allclose(graphed.predict(X), eager.predict(X), atol=atol)
    np.testing.assert_allclose(
        [h["train_loss"] for h in graphed.history_],
        [h["train_loss"] for h in eager.history_],
        rtol=1e-3 if atol > 1e-4 else 1e-5,
    )


def test_no_graph_with_dropout_or_variable_lengths(monkeypatch):
    """Check that steps whose masks or shapes change run eagerly (no replays)."""
    rng = np.random.default_rng(0)
    X = [rng.normal(size=(n, 3)) for n in rng.integers(5, 30, size=60)]
    y = np.array([int(s[:, 0].mean() > 0) for s in X])
    counts = _profiled(lambda: LSTMClassifier(**FAST).fit(X, y))
    assert _count(counts, "cudaGraphLaunch") == 0
    fixed = np.stack([s[:5] for s in X])
    clf = LSTMClassifier(**FAST, num_layers=2, dropout=0.2)
    counts = _profiled(lambda: clf.fit(fixed, y))
    assert _count(counts, "cudaGraphLaunch") == 0


def test_a_step_that_cannot_be_recorded_runs_eagerly(series_windows, monkeypatch):
    """Check that a step that cannot be recorded falls back with a warning to the eager
    fit's model."""
    X, y = series_windows

    class Refused:
        def __init__(self, graph):
            pass

        def __enter__(self):
            raise RuntimeError("recording refused (test)")

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(torch.cuda, "graph", Refused)
    with pytest.warns(RuntimeWarning, match="CUDA graph failed.*refused"):
        reg = LSTMRegressor(**FAST, device="cuda").fit(X, y)
    _eager(monkeypatch)
    eager = LSTMRegressor(**FAST, device="cuda").fit(X, y)
    np.testing.assert_allclose(reg.predict(X), eager.predict(X), atol=1e-4)


def test_partial_fits_with_graphs_equal_one_fit(series_windows):
    """Check that three one-epoch partial_fits (each records its own graph) equal
    a three-epoch fit, to rounding."""
    X, y = series_windows
    whole = LSTMRegressor(**FAST, device="cuda").fit(X, y)
    parts = LSTMRegressor(**FAST, device="cuda")
    for _ in range(3):
        parts.partial_fit(X, y)
    np.testing.assert_allclose(parts.predict(X), whole.predict(X), atol=1e-4)
    assert all(p.grad is None for p in parts.module_.parameters())


def test_variable_lengths_leave_the_lstm_weights_in_place_on_cuda():
    """Check that a bidirectional pass over padded sequences leaves the LSTM's
    parameters in their one cuDNN buffer (before the fix, cuDNN moved them to a
    new buffer on every such batch), and that the plain pass after it still
    finds that buffer (no warning that weights are copied)."""
    import warnings

    from sklstm._network import LSTMNetwork

    net = LSTMNetwork(2, 1, hidden_size=8, num_layers=2, bidirectional=True).cuda()
    where = [p.data_ptr() for p in net.lstm.parameters()]
    x = torch.randn(4, 9, 2, device="cuda")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net(x, torch.tensor([9, 5, 3, 1])).sum().backward()
        net(x).sum().backward()
    assert [p.data_ptr() for p in net.lstm.parameters()] == where
    assert not [w for w in caught if "contiguous chunk" in str(w.message)]


@pytest.mark.parametrize("bidirectional", [False, True])
def test_padded_data_with_graphs_train_as_eager_steps_do(monkeypatch, bidirectional):
    """Check that, with graphs allowed for data with padded samples (off by default,
    sklstm._graphs.PADDED_DATA), a fit on the windower's view repeats on its copy
    exactly and matches the eager fit: what failed on the H100 before the LSTM's
    weights stopped moving. If this passes, PADDED_DATA can be turned on."""
    from sklstm import SequenceWindower, _graphs

    series = np.sin(np.arange(300) / 5.0)[:, None]
    X = SequenceWindower(12).fit_transform(series)  # 11 padded windows
    y = np.r_[series[1:, 0], 0.0]
    kw = dict(hidden_size=8, max_epochs=3, batch_size=8, random_state=0, device="cuda")
    kw["bidirectional"] = bidirectional
    monkeypatch.setattr(_graphs, "PADDED_DATA", True)
    counts = _profiled(lambda: LSTMRegressor(**kw).fit(X, y))
    assert _count(counts, "cudaGraphLaunch") > 0  # some batches were replayed
    view = LSTMRegressor(**kw).fit(X, y).predict(X)
    copy = LSTMRegressor(**kw).fit(np.array(X), y).predict(X)
    np.testing.assert_array_equal(view, copy)
    _eager(monkeypatch)
    eager = LSTMRegressor(**kw).fit(X, y).predict(X)
    np.testing.assert_allclose(view, eager, atol=1e-4)


def test_predict_leaves_the_lstm_weights_in_their_buffer(series_windows):
    """Check that predict on CUDA neither moves nor re-flattens the fitted LSTM's
    weights (``.to()`` on an LSTM copies them into a new cuDNN buffer even when
    they are on the device already)."""
    X, y = series_windows
    est = LSTMRegressor(**FAST, device="cuda").fit(X, y)
    first = est.predict(X)
    where = [p.data_ptr() for p in est.module_.parameters()]
    np.testing.assert_array_equal(est.predict(X), first)
    assert [p.data_ptr() for p in est.module_.parameters()] == where


def test_variable_length_batches_do_not_wait_for_the_gpu():
    """Check that a fit on variable-length sequences does not synchronise the
    stream once per batch: each batch's starts and lengths go to the GPU from
    pinned memory without blocking (torch's blocking copy waits for every
    kernel queued before it, so the host could not run ahead)."""
    rng = np.random.default_rng(0)
    X = [rng.normal(size=(n, 3)) for n in rng.integers(5, 30, size=400)]
    y = np.array([int(s[:, 0].mean() > 0) for s in X])
    clf = LSTMClassifier(**FAST)  # 50 batches of 8 an epoch, 3 epochs
    counts = _profiled(lambda: clf.fit(X, y))
    # set-up copies (weights, data) and the grouped loss reads, not 150
    assert _count(counts, "cudaStreamSynchronize") < 150 // 2
