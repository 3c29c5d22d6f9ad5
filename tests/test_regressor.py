import io
import pickle
from contextlib import redirect_stderr

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from sklstm import LSTMRegressor, TrainingDivergedError
from sklstm.datasets import load_airline

FAST = dict(hidden_size=8, max_epochs=3, batch_size=16, random_state=0)


def test_learns_seed_sine_forecast(sine_windows):
    """Check that the seed's sine task reaches a test MSE below 1e-3."""
    X, y = sine_windows
    cut = int(0.8 * len(X))
    reg = LSTMRegressor(50, max_epochs=20, random_state=0).fit(X[:cut], y[:cut])
    mse = np.mean((reg.predict(X[cut:]) - y[cut:]) ** 2)
    assert mse < 1e-3


def test_natural_scale_target_is_standardised_inside():
    """Check that airline targets (100-600) train well without user scaling."""
    series = load_airline()
    logs = np.log(series)
    X = np.lib.stride_tricks.sliding_window_view((logs - logs.mean()) / logs.std(), 12)
    X, y = X[:-1], series[12:]
    reg = LSTMRegressor(16, max_epochs=200, lr=3e-3, random_state=0).fit(
        X[:-24], y[:-24]
    )
    assert 150 < reg.y_mean_[0] < 350 and reg.y_scale_[0] > 50
    train_mape = np.mean(np.abs(reg.predict(X[:-24]) - y[:-24]) / y[:-24])
    assert train_mape < 0.08
    # without the inner standardisation the network's tanh units could not
    # reach hundreds: predictions would sit near the initial output scale
    assert reg.predict(X[-24:]).min() > 250


@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_architectures_fit_and_predict(small_regression, pooling, bidirectional):
    """Check that every pooling and direction fits and predicts finite values."""
    X, y = small_regression
    reg = LSTMRegressor(
        pooling=pooling, bidirectional=bidirectional, num_layers=2, dropout=0.1, **FAST
    ).fit(X, y)
    pred = reg.predict(X)
    assert pred.shape == (60,) and np.isfinite(pred).all()


def test_multi_output_keeps_rank(small_regression):
    """Check that a 2-D y gives 2-D predictions and n_outputs_."""
    X, y = small_regression
    Y = np.c_[y, -y, 2 * y]
    reg = LSTMRegressor(**FAST).fit(X, Y)
    assert reg.n_outputs_ == 3 and reg.predict(X).shape == (60, 3)
    reg = LSTMRegressor(**FAST).fit(X, Y[:, :1])
    assert reg.predict(X).shape == (60, 1)


@pytest.mark.parametrize("loss", ["mse", "mae", "huber"])
def test_losses(small_regression, loss):
    """Check that every loss trains and lowers the training loss."""
    X, y = small_regression
    reg = LSTMRegressor(loss=loss, **{**FAST, "max_epochs": 15}).fit(X, y)
    assert reg.loss_curve_[-1] < reg.loss_curve_[0]


def test_fitted_attributes(small_regression):
    """Check that fit sets the fitted attributes promised by the contract."""
    X, y = small_regression
    reg = LSTMRegressor(**FAST).fit(X, y)
    assert reg.n_features_in_ == 8 and reg.n_channels_in_ == 2 and reg.n_outputs_ == 1
    assert reg.n_iter_ == 3 == len(reg.history_) == len(reg.loss_curve_)
    assert [h["epoch"] for h in reg.history_] == [1, 2, 3]
    assert set(reg.history_[0]) == {"epoch", "train_loss", "dur", "lr"}
    assert reg.history_[0]["lr"] == reg.lr  # the rate each epoch trained with
    assert reg.best_loss_ == min(reg.loss_curve_)
    assert sum(p.numel() for p in reg.module_.parameters()) > 0


def test_dataframe_input_records_feature_names(small_regression):
    """Check that 2-D DataFrames set feature_names_in_ and are checked at predict."""
    X, y = small_regression
    df = pd.DataFrame(X[:, :, 0], columns=[f"t{i}" for i in range(8)])
    reg = LSTMRegressor(**FAST).fit(df, y)
    assert list(reg.feature_names_in_) == list(df.columns)
    with pytest.warns(UserWarning, match="feature names"):
        from_array = reg.predict(df.to_numpy())
    np.testing.assert_allclose(reg.predict(df), from_array)
    with pytest.raises(ValueError, match="feature names"):
        reg.predict(df.rename(columns={"t0": "other"}))


def test_sequence_length_may_change_at_predict(small_regression):
    """Check that predict accepts longer and shorter sequences."""
    X, y = small_regression
    reg = LSTMRegressor(**FAST).fit(X, y)
    assert reg.predict(np.concatenate([X, X], axis=1)).shape == (60,)
    assert reg.predict(X[:, :3]).shape == (60,)


def test_stops_when_training_loss_plateaus(small_regression):
    """Check that training stops as MLPRegressor does when its loss plateaus."""
    X, y = small_regression
    reg = LSTMRegressor(
        **{**FAST, "max_epochs": 200}, tol=10.0, n_iter_no_change=3
    ).fit(X, y)
    # a tolerance of 10 is never beaten: as in MLPRegressor, the first epoch
    # improves on infinity, then three epochs without improvement stop it
    assert reg.n_iter_ == 4 and reg.history_[-1]["stopped"] == "converged"


def test_early_stopping_validates_on_tail_and_restores_best(small_regression):
    """Check that validation uses the last samples and the best epoch is kept."""
    X, y = small_regression
    reg = LSTMRegressor(
        **{**FAST, "max_epochs": 40, "lr": 0.03},
        early_stopping=True,
        validation_fraction=0.25,
        n_iter_no_change=4,
    ).fit(X, y)
    valid = [h["valid_loss"] for h in reg.history_]
    assert reg.best_loss_ == min(valid)
    tail = slice(45, None)  # ceil(0.25 * 60) = 15 most recent samples
    scaled_error = (reg.predict(X[tail]) - y[tail]) / reg.y_scale_[0]
    np.testing.assert_allclose(np.mean(scaled_error**2), min(valid), rtol=1e-4)
    head = slice(0, 15)
    scaled_head = (reg.predict(X[head]) - y[head]) / reg.y_scale_[0]
    assert not np.isclose(np.mean(scaled_head**2), min(valid), rtol=1e-4)


def test_same_random_state_same_predictions(small_regression):
    """Check that one random_state gives bitwise-identical predictions."""
    X, y = small_regression
    params = {**FAST, "dropout": 0.2, "num_layers": 2}
    a = LSTMRegressor(**params).fit(X, y).predict(X)
    b = LSTMRegressor(**params).fit(X, y).predict(X)
    c = LSTMRegressor(**{**params, "random_state": 1}).fit(X, y).predict(X)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_fit_leaves_global_torch_rng_alone(small_regression):
    """Check that fit neither reads nor advances torch's global random state."""
    import torch

    X, y = small_regression
    state = torch.get_rng_state()
    LSTMRegressor(**FAST).fit(X, y)
    assert torch.equal(state, torch.get_rng_state())


CUDNN_DROPOUT = pytest.mark.skipif(
    torch.cuda.is_available(),
    reason="on a GPU cuDNN keeps the state of its dropout masks between LSTM layers "
    "itself; partial_fit restores torch's generators, not that state (docs/gpu.md)",
)


@pytest.mark.parametrize("dropout", [0.0, pytest.param(0.3, marks=CUDNN_DROPOUT)])
def test_partial_fit_equals_continued_training(small_regression, dropout):
    """Check that three partial_fit calls equal one fit of three epochs."""
    X, y = small_regression
    params = {**FAST, "dropout": dropout, "num_layers": 2, "n_iter_no_change": 99}
    full = LSTMRegressor(**params).fit(X, y)
    inc = LSTMRegressor(**params)
    for _ in range(3):
        inc.partial_fit(X, y)
    np.testing.assert_array_equal(full.predict(X), inc.predict(X))
    assert inc.n_iter_ == 3 and [h["epoch"] for h in inc.history_] == [1, 2, 3]


def test_warm_start_continues_training(small_regression):
    """Check that warm_start keeps the weights and extends the history."""
    X, y = small_regression
    reg = LSTMRegressor(**{**FAST, "max_epochs": 5}, warm_start=True).fit(X, y)
    first = reg.loss_curve_[-1]
    reg.fit(X, y)
    assert reg.n_iter_ == 10 and reg.loss_curve_[5] < reg.loss_curve_[0]
    assert reg.loss_curve_[5] <= first * 1.5
    cold = clone(reg).set_params(warm_start=False).fit(X, y)
    assert cold.n_iter_ == 5
    with pytest.raises(ValueError, match="hidden_size"):
        reg.set_params(hidden_size=9).fit(X, y)


@pytest.mark.parametrize("scaling", ["window", "channel"])
@pytest.mark.parametrize(
    "architecture",
    [
        dict(num_layers=2, bidirectional=True, pooling="max"),
        dict(pooling="attention"),
        dict(conv_channels=(3,), conv_kernel_size=2),
    ],
    ids=["bidirectional-max", "attention", "conv"],
)
def test_integer_weights_equal_repeated_rows(scaling, architecture):
    """Check that weight 2 counts as the row twice, also through the per-window
    scaling, for the architectures whose sklearn check of it (1e-7) float32's
    order of sums can fail (tests/test_common.py's WINDOW_FAILED)."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(15, 6))
    y = X[:, -1] + rng.normal(scale=0.1, size=15)
    w = rng.integers(0, 3, size=15)
    params = dict(FAST, batch_size=64, **architecture)
    a = LSTMRegressor(**params, scaling=scaling).fit(X, y, sample_weight=w)
    rows = np.repeat(np.arange(15), w)
    b = LSTMRegressor(**params, scaling=scaling).fit(X[rows], y[rows])
    np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-5)


def test_zero_sample_weight_equals_dropping(small_regression):
    """Check that zero-weight samples change nothing, as if they were absent."""
    X, y = small_regression
    w = np.ones(60)
    w[::3] = 0
    keep = w > 0
    a = LSTMRegressor(**FAST).fit(X, y, sample_weight=w).predict(X)
    b = LSTMRegressor(**FAST).fit(X[keep], y[keep]).predict(X)
    np.testing.assert_allclose(a, b, rtol=1e-6)


def test_sample_weight_changes_the_fit(small_regression):
    """Check that unequal weights change the model."""
    X, y = small_regression
    w = np.linspace(0.1, 3, 60)
    a = LSTMRegressor(**FAST).fit(X, y, sample_weight=w).predict(X)
    b = LSTMRegressor(**FAST).fit(X, y).predict(X)
    assert not np.allclose(a, b)


@pytest.mark.parametrize(
    "dumps, loads", [(pickle.dumps, pickle.loads), ("joblib", None)]
)
def test_pickle_and_joblib_round_trip(small_regression, tmp_path, dumps, loads):
    """Check that pickled and joblib-dumped models predict identically."""
    X, y = small_regression
    reg = LSTMRegressor(**FAST).fit(X, y)
    if dumps == "joblib":
        joblib.dump(reg, tmp_path / "m.joblib")
        back = joblib.load(tmp_path / "m.joblib")
    else:
        back = loads(dumps(reg))
    np.testing.assert_array_equal(reg.predict(X), back.predict(X))
    back.partial_fit(X, y)  # still trainable
    assert back.n_iter_ == 4


def test_clone_and_set_params_round_trip():
    """Check that get_params/set_params/clone keep every hyperparameter."""
    reg = LSTMRegressor(32, num_layers=2, loss="huber", lr=0.01, clip_grad_norm=1.0)
    params = reg.get_params()
    again = LSTMRegressor().set_params(**params)
    assert again.get_params() == params
    assert clone(reg).get_params() == params


def test_verbose_shows_progress_bar(small_regression):
    """Check that verbose=1 draws a tqdm bar with the losses and verbose=0 is silent."""
    X, y = small_regression
    err = io.StringIO()
    with redirect_stderr(err):
        LSTMRegressor(**FAST, verbose=1).fit(X, y)
    assert "3/3" in err.getvalue() and "train_loss" in err.getvalue()
    err = io.StringIO()
    with redirect_stderr(err):
        LSTMRegressor(**FAST, verbose=1, early_stopping=True).fit(X, y)
    assert "valid_loss" in err.getvalue()
    err = io.StringIO()
    with redirect_stderr(err):
        LSTMRegressor(**FAST).fit(X, y)
    assert err.getvalue() == ""


def test_summary_lists_layers_and_parameters(small_regression):
    """Check that summary() reports each layer and the true parameter count."""
    X, y = small_regression
    reg = LSTMRegressor(8, num_layers=2, bidirectional=True, max_epochs=1).fit(X, y)
    text = reg.summary()
    total = sum(p.numel() for p in reg.module_.parameters())
    assert "lstm_0 (Bidirectional LSTM)" in text and "lstm_1" in text
    assert "(None, 8, 16)" in text and f"Total params: {total:,}" in text


def test_clip_grad_norm_and_optimizers(small_regression):
    """Check that every optimizer trains, with gradient clipping on."""
    X, y = small_regression
    for optimizer in ["adam", "adamw", "sgd", "rmsprop"]:
        reg = LSTMRegressor(**FAST, optimizer=optimizer, clip_grad_norm=0.5)
        assert np.isfinite(reg.fit(X, y).predict(X)).all()


def test_clip_grad_norm_reaches_every_step(small_regression):
    """Check that clipping acts on every gradient: with SGD, a step is at most
    lr * clip_grad_norm long, so a tiny clip barely moves the weights."""
    X, y = small_regression
    params = dict(FAST, optimizer="sgd", lr=1.0, shuffle=False)
    start = LSTMRegressor(**dict(params, max_epochs=1), clip_grad_norm=1e-9)
    start = torch.cat(
        [p.detach().flatten() for p in start.fit(X, y).module_.parameters()]
    )
    # 4 batches of 16 per epoch, 3 epochs: at most 12 steps of 1e-6 each
    reg = LSTMRegressor(**params, clip_grad_norm=1e-6).fit(X, y)
    end = torch.cat([p.detach().flatten() for p in reg.module_.parameters()])
    assert 0 < float((end - start).norm()) <= 12 * 1e-6 * 1.01
    free = LSTMRegressor(**params).fit(X, y)
    moved = torch.cat([p.detach().flatten() for p in free.module_.parameters()]) - start
    assert float(moved.norm()) > 1e-3


def test_divergence_stops_with_last_good_weights(small_regression, monkeypatch):
    """Check that a NaN loss in epoch 3 raises a clear error and keeps the
    finite weights of epoch 2."""
    import torch

    from sklstm._training import SequenceNet

    X, y = small_regression
    params = {**FAST, "max_epochs": 10, "n_iter_no_change": 99}
    two_epochs = LSTMRegressor(**{**params, "max_epochs": 2}).fit(X, y).predict(X)
    original = SequenceNet.train_step

    def poison_in_epoch_3(net, batch, **kwargs):
        if len(net.history) == 3:
            with torch.no_grad():
                next(net.module_.parameters()).fill_(float("nan"))
        return original(net, batch, **kwargs)

    monkeypatch.setattr(SequenceNet, "train_step", poison_in_epoch_3)
    reg = LSTMRegressor(**params)
    with pytest.raises(
        TrainingDivergedError,
        match="epoch 3: the training loss became NaN or infinite; the weights of "
        "epoch 2",
    ):
        reg.fit(X, y)
    assert reg.n_iter_ == 2
    np.testing.assert_array_equal(reg.predict(X), two_epochs)


def test_device_auto_picks_cuda_only_when_present(small_regression, monkeypatch):
    """Check that device='auto' means CUDA when available, else the CPU."""
    import torch

    X, y = small_regression
    reg = LSTMRegressor(**FAST).fit(X, y)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert next(reg.module_.parameters()).device.type == expected
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert LSTMRegressor()._device() == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert LSTMRegressor()._device() == "cpu"
    assert LSTMRegressor(device="cpu")._device() == "cpu"


def test_interrupt_keeps_last_finished_epoch(small_regression, monkeypatch):
    """Check that Ctrl-C in epoch 3 leaves the weights and history of epoch 2."""
    from sklstm._training import SequenceNet

    X, y = small_regression
    params = {**FAST, "max_epochs": 10, "n_iter_no_change": 99}
    two_epochs = LSTMRegressor(**{**params, "max_epochs": 2}).fit(X, y).predict(X)
    original = SequenceNet.train_step

    def interrupt_in_epoch_3(net, batch, **kwargs):
        if len(net.history) == 3 and len(net.history[-1]["batches"]) == 2:
            raise KeyboardInterrupt  # as if the user pressed Ctrl-C mid-epoch
        return original(net, batch, **kwargs)

    monkeypatch.setattr(SequenceNet, "train_step", interrupt_in_epoch_3)
    reg = LSTMRegressor(**params)
    with pytest.warns(UserWarning, match="interrupted.*last finished epoch \\(2\\)"):
        reg.fit(X, y)
    assert reg.n_iter_ == 2 and reg.history_[-1]["stopped"] == "interrupted"
    np.testing.assert_array_equal(reg.predict(X), two_epochs)


@pytest.mark.parametrize("every", [1, 3, 256])
def test_losses_read_in_groups_equal_skorchs_per_batch_reads(
    small_regression, monkeypatch, every
):
    """Check that reading batch losses in groups (one wait on a GPU) leaves the same
    per-batch and per-epoch history as skorch's one ``.item()`` per batch."""
    from skorch import NeuralNet

    from sklstm import _training

    X, y = small_regression
    runs = []  # what each training returned, skorch's history with it
    train = _training.train
    monkeypatch.setattr(
        _training, "train", lambda *a, **kw: runs.append(train(*a, **kw)) or runs[-1]
    )
    params = {**FAST, "batch_size": 8, "early_stopping": True, "max_epochs": 4}
    monkeypatch.setattr(_training, "LOSS_READS_EVERY", every)
    grouped = LSTMRegressor(**params).fit(X, y)
    monkeypatch.setattr(
        _training.SequenceNet, "run_single_epoch", NeuralNet.run_single_epoch
    )
    per_batch = LSTMRegressor(**params).fit(X, y)

    def without_times(run):
        return [{k: v for k, v in row.items() if k != "dur"} for row in run.history]

    assert len(runs[0].history[0]["batches"]) == 7 + 1  # 6 + 1 training, 1 valid
    assert without_times(runs[0]) == without_times(runs[1])
    assert [h["valid_loss"] for h in grouped.history_] == [
        h["valid_loss"] for h in per_batch.history_
    ]


def test_predict_evaluates_a_module_left_in_training_mode(small_regression):
    """Check that predict gives the evaluating network's outputs even when a
    submodule was left in training mode (its dropout would otherwise act)."""
    X, y = small_regression
    est = LSTMRegressor(4, dropout=0.5, max_epochs=1, random_state=0).fit(X, y)
    expected = est.predict(X)
    est.module_.dropout.train()
    np.testing.assert_array_equal(est.predict(X), expected)
    assert not any(m.training for m in est.module_.modules())


def test_ready_moves_a_module_that_is_elsewhere():
    """Check that ready moves every parameter and buffer when any is elsewhere
    (here to torch's meta device, which holds no memory)."""
    from sklstm._engine import ready as _ready
    from sklstm._network import LSTMNetwork

    module = LSTMNetwork(3, 1, hidden_size=4, conv_channels=(2,), conv_batch_norm=True)
    moved = _ready(module, "meta")
    tensors = list(moved.parameters()) + list(moved.buffers())
    assert tensors and all(t.device.type == "meta" for t in tensors)
    assert not moved.training


def test_unavailable_cuda_is_refused_in_fit_and_falls_back_in_predict(
    small_regression, monkeypatch
):
    """Check that device='cuda' without CUDA is a clear error in fit and falls back to
    the CPU in predict."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    X, y = small_regression
    with pytest.raises(ValueError, match="device='cuda' but CUDA is not available"):
        LSTMRegressor(**FAST, device="cuda").fit(X, y)
    reg = LSTMRegressor(**FAST).fit(X, y)
    expected = reg.predict(X)
    moved = pickle.loads(pickle.dumps(reg.set_params(device="cuda")))
    with pytest.warns(UserWarning, match="predicting on the CPU"):
        np.testing.assert_array_equal(moved.predict(X), expected)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_failed_call_keeps_the_fitted_model(small_regression, method):
    """Check that a call refused mid-validation leaves the fitted model intact."""
    X, y = small_regression
    reg = LSTMRegressor(**FAST).fit(X, y)
    before = reg.predict(X)
    state = {k: v for k, v in vars(reg).items() if k.endswith("_")}
    bad_X = np.concatenate([X, X[:, :, :1]], axis=2)  # 3 channels
    with pytest.raises(ValueError):
        getattr(reg, method)(bad_X, np.r_[np.nan, y[1:]])
    assert reg.n_channels_in_ == 2 and reg.n_iter_ == 3
    assert {k for k in vars(reg) if k.endswith("_")} == set(state)
    np.testing.assert_array_equal(reg.predict(X), before)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_bfloat16_precision_trains_close_to_float32(sine_windows, bidirectional):
    """Check that mixed precision (autocast to bfloat16, here on the CPU) learns
    the seed's sine task about as well, keeps float32 weights, and predicts
    float64 like the default precision."""
    X, y = sine_windows
    ragged = [x[i % 4 :] for i, x in enumerate(X)]  # exercise the masked path too
    scores = {}
    for precision in ("float32", "bfloat16"):
        reg = LSTMRegressor(
            16,
            max_epochs=10,
            bidirectional=bidirectional,
            precision=precision,
            random_state=0,
        ).fit(ragged, y)
        assert all(p.dtype == torch.float32 for p in reg.module_.parameters())
        pred = reg.predict(ragged)
        assert pred.dtype == np.float64 and np.isfinite(pred).all()
        scores[precision] = reg.score(ragged, y)
    assert (
        scores["bfloat16"] > 0.9 and abs(scores["bfloat16"] - scores["float32"]) < 0.05
    )


def test_plot_history_draws_the_learning_curves(small_regression):
    """Check that plot_history draws both curves and the kept epoch with early stopping,
    and refuses an unfitted estimator."""
    import matplotlib

    matplotlib.use("Agg")
    from sklstm import plot_history

    X, y = small_regression
    reg = LSTMRegressor(**{**FAST, "max_epochs": 6}, early_stopping=True).fit(X, y)
    ax = plot_history(reg)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["training loss", "validation loss"]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), reg.loss_curve_)
    kept = ax.collections[0].get_offsets()[0]
    valid = [h["valid_loss"] for h in reg.history_]
    assert kept[0] == np.argmin(valid) + 1 and kept[1] == pytest.approx(min(valid))
    with pytest.raises(ValueError, match="needs a fitted estimator"):
        plot_history(LSTMRegressor())


def _interrupt_in_epoch(epoch, monkeypatch):
    """Make the next training raise KeyboardInterrupt in its ``epoch``-th epoch
    (counted within that call), as Ctrl-C would."""
    from sklstm._training import SequenceNet

    original = SequenceNet.train_step

    def interrupt(net, batch, **kwargs):
        if len(net.history) == epoch:
            raise KeyboardInterrupt
        return original(net, batch, **kwargs)

    monkeypatch.setattr(SequenceNet, "train_step", interrupt)


def _state(reg, X):
    return reg.predict(X), reg.n_iter_, [dict(h) for h in reg.history_]


def test_an_interrupted_refit_keeps_the_fitted_model(small_regression, monkeypatch):
    """Check that Ctrl-C before a refit finishes its first epoch leaves the
    previous fitted model exactly as it was, and reaches the caller."""
    X, y = small_regression
    reg = LSTMRegressor(**FAST).fit(X, y)
    before = _state(reg, X)
    _interrupt_in_epoch(1, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        reg.fit(X, y)
    after = _state(reg, X)
    np.testing.assert_array_equal(after[0], before[0])
    assert after[1:] == before[1:]


def test_an_interrupted_first_fit_leaves_the_estimator_unfitted(
    small_regression, monkeypatch
):
    """Check that Ctrl-C in the first epoch of a first fit leaves nothing that
    claims to be fitted (no model of initial weights)."""
    from sklearn.exceptions import NotFittedError

    X, y = small_regression
    reg = LSTMRegressor(**FAST)
    _interrupt_in_epoch(1, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        reg.fit(X, y)
    with pytest.raises(NotFittedError):
        reg.predict(X)


def test_partial_fit_lets_an_interrupt_through(small_regression, monkeypatch):
    """Check that Ctrl-C inside a loop of partial_fit calls stops the loop and
    leaves the state of the last finished call."""
    X, y = small_regression
    reg = LSTMRegressor(**FAST)
    for _ in range(2):
        reg.partial_fit(X, y)
    before = _state(reg, X)
    _interrupt_in_epoch(1, monkeypatch)
    calls = 0
    with pytest.raises(KeyboardInterrupt):
        for _ in range(5):
            calls += 1
            reg.partial_fit(X, y)
    assert calls == 1
    after = _state(reg, X)
    np.testing.assert_array_equal(after[0], before[0])
    assert after[1:] == before[1:] and after[1] == 2


def test_a_refit_diverging_at_once_keeps_the_fitted_model(small_regression):
    """Check that a refit whose first epoch diverges raises and leaves the
    previous fitted model as it was."""
    X, y = small_regression
    reg = LSTMRegressor(**FAST).fit(X, y)
    before = _state(reg, X)
    reg.set_params(optimizer="sgd", lr=1e30, max_epochs=1)
    with pytest.raises(TrainingDivergedError, match="left as it was"):
        reg.fit(X, y)
    after = _state(reg, X)
    np.testing.assert_array_equal(after[0], before[0])
    assert after[1:] == before[1:]


def test_a_served_request_takes_the_short_path_with_the_same_numbers(monkeypatch):
    """Check that one-batch plain arrays (float32, float64, 2-D) go straight to
    the network and give exactly what the general path gives; padding, other
    types and too many samples take the general path."""
    from sklstm import LSTMClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 12, 2))
    y = X[:, -1, 0] - X[:, :, 1].mean(axis=1)
    reg = LSTMRegressor(hidden_size=6, max_epochs=2, random_state=0).fit(X, y)
    clf = LSTMClassifier(hidden_size=6, max_epochs=2, random_state=0).fit(X, y > 0)
    uni = LSTMRegressor(hidden_size=6, max_epochs=2, random_state=0).fit(X[:, :, 0], y)
    half = LSTMRegressor(
        hidden_size=6, max_epochs=2, precision="bfloat16", random_state=0
    ).fit(X, y)
    requests = [
        (reg, X[:3]),
        (reg, X[:1].astype(np.float32)),
        (reg, X[5:9, 4:]),  # shorter sequences
        (clf, X[:2]),
        (uni, X[:2, :, 0]),  # 2-D: one channel
        (half, X[:2]),  # bfloat16 outputs read straight into float64
    ]
    short = [(m, x, m._plain_request(x)) for m, x in requests]
    assert all(out is not None for _, _, out in short)
    monkeypatch.setattr(LSTMRegressor, "_plain_request", lambda self, X: None)
    monkeypatch.setattr(LSTMClassifier, "_plain_request", lambda self, X: None)
    for model, x, out in short:
        np.testing.assert_array_equal(out, model._forward(x))
    monkeypatch.undo()
    padded = X[:2].copy()
    padded[0, :3] = np.nan  # leading padding: the general path reads it
    for x in (padded, X[:2].tolist(), np.repeat(X, 8, axis=0)):  # 320 > one batch
        assert reg._plain_request(x) is None
    assert reg._plain_request(X[:2].astype(np.int64)) is None
    assert reg._plain_request(X[:2, :, :1]) is None  # wrong channels: its error
    with pytest.raises(ValueError, match="channels"):
        reg.predict(X[:2, :, :1])
