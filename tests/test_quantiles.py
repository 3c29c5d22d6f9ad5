"""Quantile forecasts: the pinball loss, predict_quantiles, predict_interval."""

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

import sklstm
from sklstm import LSTMRegressor, SequenceWindower, make_windows
from sklstm._losses import PinballLoss

FAST = dict(hidden_size=8, max_epochs=3, batch_size=32, random_state=0)


def _noisy(n=300, seed=0):
    """Windows of a seasonal series with unit Gaussian noise: the true 10 %
    and 90 % quantiles lie 1.28 from the signal."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    series = 3 * np.sin(2 * np.pi * t / 12) + rng.normal(size=n)
    return make_windows(series, 24, horizon=1)


@pytest.fixture(scope="module")
def fitted():
    X, y = _noisy()
    est = LSTMRegressor(**{**FAST, "max_epochs": 5}, loss="pinball").fit(X, y)
    return est, X, y


def test_pinball_loss_is_each_levels_check_function():
    """Check that the pinball loss weighs errors above the prediction by q and
    below it by 1 - q, for every output and level."""
    loss = PinballLoss([0.1, 0.5, 0.9])
    prediction = torch_tensor([[0.0, 0.0, 0.0, 1.0, 1.0, 1.0]])  # 2 outputs
    y = torch_tensor([[2.0, -1.0]])
    got = loss(prediction, y).numpy()
    above, below = got[0]  # y above the prediction by 2, then below it by 2
    np.testing.assert_allclose(above, [0.2, 1.0, 1.8], rtol=1e-6)  # q * 2
    np.testing.assert_allclose(below, [1.8, 1.0, 0.2], rtol=1e-6)  # (1 - q) * 2


def torch_tensor(values):
    import torch

    return torch.tensor(values)


def test_quantiles_are_sorted_and_the_median_is_predict(fitted):
    """Check that predict_quantiles returns every trained level, never crossing,
    and that predict returns the median among them."""
    est, X, _ = fitted
    np.testing.assert_array_equal(est.quantiles_, sklstm._regressor.QUANTILES)
    q = est.predict_quantiles(X)
    assert q.shape == (len(X), 9)
    assert np.all(np.diff(q, axis=1) >= 0)
    np.testing.assert_array_equal(est.predict(X), q[:, 4])
    interval = est.predict_interval(X, coverage=0.8)
    np.testing.assert_array_equal(interval, q[:, [2, 6]])


def test_levels_between_trained_ones_are_interpolated(fitted):
    """Check that a level between two trained ones lies on the line between
    their predictions, and a level beyond them is refused by name."""
    est, X, _ = fitted
    q = est.predict_quantiles(X)
    mid = est.predict_quantiles(X, 0.375)  # halfway from 0.25 to 0.5
    np.testing.assert_allclose(mid[:, 0], (q[:, 3] + q[:, 4]) / 2)
    outside = r"quantile 0.01 lies outside .* \(0.025 to 0.975"
    with pytest.raises(ValueError, match=outside):
        est.predict_quantiles(X, [0.01, 0.5])
    with pytest.raises(ValueError, match="coverage must be .* got 1.5"):
        est.predict_interval(X, coverage=1.5)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        est.predict_quantiles(X, [0.5, 1.0])


def test_intervals_cover_new_noise_near_their_level():
    """Check that 80 % intervals learned with the pinball loss hold about 80 %
    of new targets of a noisy series (seeded; bounds wide enough for 200
    points), and are about as wide as the noise's true interval (2.56)."""
    X, y = _noisy(700)
    est = LSTMRegressor(
        16, loss="pinball", max_epochs=40, random_state=0, quantiles=(0.1, 0.9)
    ).fit(X[:450], y[:450])
    lower, upper = est.predict_interval(X[450:], coverage=0.8).T
    held = np.mean((y[450:] >= lower) & (y[450:] <= upper))
    assert 0.7 <= held <= 0.9, held
    assert 1.8 < np.mean(upper - lower) < 3.6


def test_several_horizons_have_their_own_quantiles():
    """Check that a model of several outputs predicts levels per output, the
    window's target channel used by each of an output's levels (so that a shift
    of the series shifts every quantile by as much)."""
    rng = np.random.default_rng(1)
    series = np.cumsum(rng.normal(size=200))
    X, y = make_windows(series, 16, horizon=3)
    est = LSTMRegressor(**FAST, loss="pinball", quantiles=(0.2, 0.8)).fit(X, y)
    q = est.predict_quantiles(X)
    assert q.shape == (len(X), 3, 3) and est.quantiles_.tolist() == [0.2, 0.5, 0.8]
    assert est.module_.target_channels == [0] * 9
    interval = est.predict_interval(X, coverage=0.6)
    assert interval.shape == (len(X), 3, 2)
    shifted = est.predict_quantiles(X + 1000.0)
    np.testing.assert_allclose(shifted, q + 1000.0, atol=1e-3)  # float32


def test_point_models_and_bad_levels_get_clear_errors(fitted):
    """Check that quantiles of a model fitted with a point loss, and levels
    outside (0, 1) at fit, are errors that say what to do."""
    _, X, y = fitted
    point = LSTMRegressor(**FAST).fit(X, y)
    assert point.quantiles_ is None
    with pytest.raises(ValueError, match="fitted with loss='pinball'; this one .*mse"):
        point.predict_interval(X)
    with pytest.raises(ValueError, match="quantiles must be levels .* got"):
        LSTMRegressor(**FAST, loss="pinball", quantiles=(0.5, 2)).fit(X, y)
    with pytest.raises(ValueError, match="quantiles must be levels"):
        LSTMRegressor(**FAST, loss="pinball", quantiles=["a"]).fit(X, y)


def test_continued_training_keeps_the_levels(fitted):
    """Check that partial_fit continues a quantile model, that warm_start may
    not change its levels (the fitted model survives the refusal), and that
    quantiles set after fit do not change what it predicts."""
    _, X, y = fitted
    est = LSTMRegressor(**FAST, loss="pinball").fit(X, y)  # its own: it changes
    before = est.predict_quantiles(X)
    est.set_params(quantiles=(0.1, 0.9), warm_start=True)
    with pytest.raises(ValueError, match="must keep the quantiles"):
        est.fit(X, y)
    np.testing.assert_array_equal(est.predict_quantiles(X), before)
    est.set_params(quantiles=sklstm._regressor.QUANTILES)
    est.partial_fit(X, y)
    after = est.predict_quantiles(X)
    assert after.shape == before.shape and not np.array_equal(after, before)


def test_a_pipeline_gives_quantiles_and_intervals():
    """Check that predict_quantiles and predict_interval run a Pipeline's
    transformers before its quantile regressor, and refuse anything else."""
    rng = np.random.default_rng(2)
    table = rng.normal(size=(120, 2)).cumsum(axis=0)
    y = table[:, 0]
    pipe = make_pipeline(
        SequenceWindower(8), LSTMRegressor(**FAST, loss="pinball")
    ).fit(table, y)
    q = sklstm.predict_quantiles(pipe, table, [0.25, 0.5])
    np.testing.assert_array_equal(q[:, 1], pipe.predict(table))
    np.testing.assert_array_equal(
        sklstm.predict_interval(pipe, table, 0.5),
        sklstm.predict_quantiles(pipe, table, [0.25, 0.75]),
    )
    with pytest.raises(TypeError, match="got a Pipeline ending in Ridge"):
        from sklearn.linear_model import Ridge

        sklstm.predict_interval(make_pipeline(Ridge()).fit(table, y), table)


def test_quantile_models_save_and_load(fitted, tmp_path):
    """Check that a saved quantile model loads with its levels and predicts the
    same quantiles, and that a file whose levels were forged is refused."""
    import json

    from safetensors import safe_open
    from safetensors.torch import save_file

    from sklstm._persistence import _digest

    est, X, _ = fitted
    path = sklstm.save(est, tmp_path / "q.sklstm")
    back = sklstm.load(path)
    np.testing.assert_array_equal(back.quantiles_, est.quantiles_)
    np.testing.assert_array_equal(back.predict_quantiles(X), est.predict_quantiles(X))
    with safe_open(str(path), framework="pt") as f:
        document = json.loads(f.metadata()["sklstm"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    for i, forged in enumerate([[0.9, 0.5, 0.1] * 3, [0.5] * 9, [0.1] * 8 + [1.5]]):
        document["fitted"]["quantiles_"]["__ndarray__"] = forged
        text = json.dumps(document, sort_keys=True)
        out = tmp_path / f"forged{i}.sklstm"
        metadata = {"sklstm": text, "sha256": _digest(text, tensors)}
        save_file(tensors, str(out), metadata=metadata)
        with pytest.raises(sklstm.ModelFileError, match="quantiles_ .* expected"):
            sklstm.load(out)
