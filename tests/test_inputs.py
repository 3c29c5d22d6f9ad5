"""Input conventions and the catalogue of bad inputs."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.utils._param_validation import InvalidParameterError

from sklstm import LSTMClassifier, LSTMRegressor

FAST = dict(hidden_size=6, max_epochs=2, batch_size=16, random_state=0)
rng = np.random.default_rng(0)
X3 = rng.normal(size=(12, 5, 2))
y = rng.normal(size=12)


def _with(X, index, value):
    X = X.copy()
    X[index] = value
    return X


BAD_FIT = [
    ("inf in X", _with(X3, (3, 1, 0), np.inf), y, ValueError, "infinity"),
    (
        "inf in a window view",
        np.lib.stride_tricks.sliding_window_view(_with(np.ones(15), 6, np.inf), 4),
        y,
        ValueError,
        "infinity in sample 3 at time step 3",
    ),
    (
        "beyond float32",
        _with(X3, (1, 1, 1), 1e39),
        y,
        ValueError,
        "beyond float32's range",
    ),
    (
        "NaN step inside a sequence",
        _with(X3, (2, 2), np.nan),
        y,
        ValueError,
        "Sample 2 has an all-NaN time step 2 between valid steps",
    ),
    (
        "partly-NaN step",
        _with(X3, (4, 1, 1), np.nan),
        y,
        ValueError,
        "Sample 4 has NaN in some but not all channels at time step 1",
    ),
    (
        "all-NaN sample",
        _with(X3, 0, np.nan),
        y,
        ValueError,
        "Sample 0 has no valid time step",
    ),
    ("empty X", np.empty((0, 5, 2)), np.empty(0), ValueError, "0 sample"),
    ("no time steps", np.empty((12, 0)), y, ValueError, "0 feature"),
    ("y too short", X3, y[:7], ValueError, "inconsistent numbers of samples"),
    ("NaN in y", X3, _with(y, 0, np.nan), ValueError, "y contains NaN"),
    ("y missing", X3, None, ValueError, "requires y to be passed"),
    (
        "strings in X",
        np.array([["a", "b"], ["c", "d"]]),
        [1.0, 2.0],
        ValueError,
        "X must hold numbers",
    ),
    ("sparse X", sp.csr_matrix(X3[:, :, 0]), y, TypeError, "Sparse data"),
    (
        "4-D without conv front end",
        rng.normal(size=(12, 5, 3, 3)),
        y,
        ValueError,
        "need a convolutional front end",
    ),
    (
        "5-D without conv front end",
        rng.normal(size=(12, 5, 3, 3, 2)),
        y,
        ValueError,
        "Got 5-D input .* need a convolutional front end",
    ),
    ("6-D X", np.zeros((12, 5, 3, 3, 2, 1)), y, ValueError, "got 6-D input of shape"),
    ("1-D X", X3[:, 0, 0], y, ValueError, "Expected 2D array"),
    ("no channels", np.zeros((12, 5, 0)), y, ValueError, "X has 0 channels"),
    ("empty list", [], [], ValueError, "X is an empty list"),
    (
        "ragged channel counts",
        [np.ones((3, 2)), np.ones((4, 3))],
        y[:2],
        ValueError,
        "share one channel count; got channel counts \\[2, 3\\]",
    ),
    (
        "empty sequence in a ragged list",
        [np.ones((3, 2)), np.ones((0, 2))],
        y[:2],
        ValueError,
        "Sequence 1 is empty",
    ),
]


@pytest.mark.parametrize(
    "X, y_, error, match", [c[1:] for c in BAD_FIT], ids=[c[0] for c in BAD_FIT]
)
@pytest.mark.parametrize("Estimator", [LSTMRegressor, LSTMClassifier])
def test_bad_fit_input_is_refused_clearly(Estimator, X, y_, error, match):
    """Check that bad fit input raises the documented error and message."""
    if Estimator is LSTMClassifier and y_ is not None and len(y_):
        y_ = np.where(np.arange(len(y_)) % 2 == 0, "a", "b")
        if match == "y contains NaN":
            y_ = np.array([np.nan] + [1.0] * (len(y_) - 1))
            error, match = ValueError, "NaN"
    with pytest.raises(error, match=match):
        Estimator(**FAST).fit(X, y_)


@pytest.mark.parametrize("Estimator", [LSTMRegressor, LSTMClassifier])
def test_channel_count_must_match_at_predict(Estimator):
    """Check that a different channel count at predict names both shapes."""
    target = y if Estimator is LSTMRegressor else (y > 0).astype(int)
    est = Estimator(**FAST).fit(X3, target)
    with pytest.raises(ValueError, match="X has 1 channels .* fitted with 2 channels"):
        est.predict(X3[:, :, :1])
    with pytest.raises(ValueError, match="infinity"):
        est.predict(_with(X3, (0, 0, 0), np.inf))


@pytest.mark.parametrize(
    "weight, match",
    [
        (-np.ones(12), "Negative values"),
        (_with(np.ones(12), 3, np.nan), "NaN"),
        (_with(np.ones(12), 3, np.inf), "infinity"),
        (np.zeros(12), "at least one non-zero"),
        (np.ones(5), "sample_weight.shape"),
    ],
)
def test_bad_sample_weight(weight, match):
    """Check that negative, non-finite, all-zero or mis-sized weights are refused."""
    with pytest.raises(ValueError, match=match):
        LSTMRegressor(**FAST).fit(X3, y, sample_weight=weight)


@pytest.mark.parametrize(
    "param, value",
    [
        ("hidden_size", 0),
        ("num_layers", 0),
        ("dropout", 1.0),
        ("pooling", "avg"),
        ("loss", "hinge"),
        ("lr", 0.0),
        ("optimizer", "lbfgs"),
        ("batch_size", 0),
        ("validation_fraction", 1.0),
        ("clip_grad_norm", -1.0),
    ],
)
def test_bad_parameters_use_sklearn_constraints(param, value):
    """Check that bad hyperparameters get scikit-learn's parameter error."""
    with pytest.raises(InvalidParameterError, match=f"'{param}' parameter"):
        LSTMRegressor(**{**FAST, param: value}).fit(X3, y)


def test_2d_univariate_equals_3d_single_channel():
    """Check that (n, t) input means the same as (n, t, 1)."""
    a = LSTMRegressor(**FAST).fit(X3[:, :, 0], y).predict(X3[:, :, 0])
    b = LSTMRegressor(**FAST).fit(X3[:, :, :1], y).predict(X3[:, :, :1])
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("where", ["leading", "trailing", "ragged"])
def test_padding_never_changes_a_prediction(pooling, bidirectional, where):
    """Check that a sequence predicts the same alone and padded in a batch."""
    reg = LSTMRegressor(
        **FAST, pooling=pooling, bidirectional=bidirectional, num_layers=2
    ).fit(X3, y)
    short = X3[:, :3]  # 3 valid steps per sequence
    alone = reg.predict(short)
    pad = np.full((12, 4, 2), np.nan)
    if where == "leading":
        padded = np.concatenate([pad, short], axis=1)
    elif where == "trailing":
        padded = np.concatenate([short, pad], axis=1)
    else:
        padded = [short[i] if i % 2 else X3[i, :3] for i in range(12)] + [X3[0]]
        alone = np.r_[alone, reg.predict(X3[:1])]
    np.testing.assert_allclose(reg.predict(padded), alone, atol=1e-5)


def test_ragged_list_trains_like_padded_array():
    """Check that a ragged list equals the same data NaN-padded at the end."""
    seqs = [X3[i, : 2 + i % 4] for i in range(12)]
    padded = np.full((12, 5, 2), np.nan)
    for i, s in enumerate(seqs):
        padded[i, : len(s)] = s
    a = LSTMRegressor(**FAST).fit(seqs, y).predict(seqs)
    b = LSTMRegressor(**FAST).fit(padded, y).predict(padded)
    np.testing.assert_array_equal(a, b)
