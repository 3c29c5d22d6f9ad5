import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from sklstm import LSTMClassifier, SequenceScaler


def test_scales_each_channel_over_valid_steps_only():
    """Check that per-channel standardisation ignores padding and keeps it."""
    rng = np.random.default_rng(0)
    X = rng.normal(loc=[5.0, -100.0], scale=[2.0, 30.0], size=(40, 10, 2))
    X[:5, :3] = np.nan  # leading padding
    Xs = SequenceScaler().fit_transform(X)
    assert Xs.shape == X.shape
    assert np.isnan(Xs[:5, :3]).all() and not np.isnan(Xs[5:]).any()
    valid = Xs[~np.isnan(Xs[:, :, 0])]
    np.testing.assert_allclose(valid.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(valid.std(axis=0), 1, atol=1e-12)


def test_ragged_in_ragged_out_and_any_scaler():
    """Check that a ragged list comes back as a list of the same shapes."""
    seqs = [np.arange(3.0), np.arange(5.0) * 2]
    out = SequenceScaler(MinMaxScaler()).fit_transform(seqs)
    assert [o.shape for o in out] == [(3,), (5,)]
    assert out[1].max() == 1.0 and out[0].min() == 0.0


def test_test_fold_uses_training_statistics():
    """Check that transform applies what fit learned, not the new data's stats."""
    train = np.ones((4, 3, 1))
    train[:, :, 0] = [[0, 1, 2], [1, 2, 3], [2, 3, 4], [0, 2, 4]]
    scaler = SequenceScaler().fit(train)
    test = np.full((1, 3, 1), 100.0)
    assert scaler.transform(test)[0, 0, 0] > 10
    with pytest.raises(ValueError, match="fitted with 1"):
        scaler.transform(np.ones((1, 3, 2)))


def test_in_a_pipeline_with_the_classifier():
    """Check that SequenceScaler works before an LSTMClassifier on raw-scale panels."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 8, 2)) * [1.0, 1000.0] + [0.0, 5000.0]
    y = np.where(X[:, :, 0].mean(axis=1) > 0, 1, 0)
    pipe = make_pipeline(
        SequenceScaler(), LSTMClassifier(8, max_epochs=3, random_state=0)
    ).fit(X, y)
    assert pipe.predict_proba(X).shape == (60, 2)
