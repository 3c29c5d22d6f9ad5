"""Regression tests for what a hostile test of the package found (issue 24):
non-finite statistics, weights that vanish, and errors that must be clear."""

import warnings

import numpy as np
import pytest

from sklstm import LSTMClassifier, LSTMRegressor, SequenceScaler

FAST = dict(hidden_size=4, max_epochs=2, random_state=0)
rng = np.random.default_rng(0)
X = rng.normal(size=(20, 5))
LABELS = np.arange(20) % 2


def test_huge_targets_are_refused_before_training():
    """Check that targets near float64's limit get a ValueError naming the
    column and the magnitude, and leave nothing fitted."""
    y = np.where(LABELS == 1, 1e308, -1e308)
    reg = LSTMRegressor(**FAST)
    with pytest.raises(ValueError, match=r"y holds a value of magnitude 1e\+308"):
        reg.fit(X, y)
    assert not hasattr(reg, "module_")
    y2 = np.c_[np.ones(20), y]
    with pytest.raises(ValueError, match="column 1 of y holds"):
        reg.fit(X, y2)


def test_large_but_finite_targets_predict_finite_values():
    """Check that targets of 1e155 (whose squares overflow) train and predict
    finite values: the statistics are computed in units of the largest."""
    y = np.where(LABELS == 1, 1e155, 0.0)
    reg = LSTMRegressor(**FAST).fit(X, y)
    assert np.isfinite(reg.y_scale_).all() and np.isfinite(reg.predict(X)).all()


def test_weights_near_float64s_limit_train():
    """Check that sample weights of 1e308 are read as equal weights, not as a
    divergence."""
    y = rng.normal(size=20)
    a = LSTMRegressor(**FAST).fit(X, y, sample_weight=np.full(20, 1e308))
    b = LSTMRegressor(**FAST).fit(X, y)
    np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-5)


def test_negligible_weights_count_as_zero():
    """Check that weights the float32 loss would read as 0 are dropped like 0,
    instead of collapsing the target scale into a divergence."""
    y = rng.normal(size=20)
    w = np.r_[np.zeros(17), [0, 0.5, 1e-300]]
    reg = LSTMRegressor(**FAST).fit(X, y, sample_weight=w)
    assert np.isfinite(reg.predict(X)).all()


@pytest.mark.parametrize(
    "class_weight, message",
    [
        ({0: 0, 1: 0}, "leaves every training sample a weight of 0"),
        ({0: np.nan, 1: 1}, "finite, non-negative weight; got nan for class 0"),
        ({0: -1, 1: 1}, "finite, non-negative weight; got -1.0 for class 0"),
    ],
)
def test_bad_class_weights_get_clear_errors(class_weight, message):
    """Check that class weights that leave nothing to learn are a ValueError,
    not a reported divergence."""
    with pytest.raises(ValueError, match=message):
        LSTMClassifier(class_weight=class_weight, **FAST).fit(X, LABELS)


def test_a_class_weight_of_zero_drops_that_class():
    """Check that a class weighted 0 is absent from training (as a sample weight
    of 0 is), while the classifier still knows it."""
    clf = LSTMClassifier(class_weight={0: 0, 1: 1}, **FAST).fit(X, LABELS)
    assert list(clf.classes_) == [0, 1] and np.isfinite(clf.predict_proba(X)).all()


def test_scaler_refuses_a_channel_whose_statistics_overflow():
    """Check that SequenceScaler names the channel and the magnitude instead of
    returning values that are not standardised (or NaN)."""
    X3 = np.stack([rng.normal(size=(2, 3)), np.array([[1e300, 1, 2], [3, 4, 5]])], 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's overflow note
        with pytest.raises(ValueError, match="channel 1 overflowed.*1e\\+300"):
            SequenceScaler().fit(X3)


def test_a_non_finite_prediction_is_an_error():
    """Check that predict never returns NaN or inf silently."""
    reg = LSTMRegressor(**FAST).fit(X, rng.normal(size=20))
    reg.y_scale_ = np.array([np.inf])  # as an overflow inside the network would
    with pytest.raises(FloatingPointError, match="prediction for sample 0 is not"):
        reg.predict(X)
