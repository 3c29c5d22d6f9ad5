"""Regression tests for what a hostile test of the package found (issue 24):
non-finite statistics, weights that vanish, and errors that must be clear."""

import warnings

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from sklstm import (
    LSTMClassifier,
    LSTMRegressor,
    SequenceScaler,
    TrainingDivergedError,
)

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


def test_a_single_step_that_throws_the_weights_away_is_divergence():
    """Check that a single step that throws the weights away is divergence (lr=1e30 with
    SGD and one batch: the only loss is measured before the step, so nothing looked
    wrong and the model predicted about -3e30)."""
    Xs = rng.normal(size=(50, 8, 2))
    y = rng.normal(size=50)
    big = dict(lr=1e30, optimizer="sgd", batch_size=1000, max_epochs=1)
    with pytest.raises(TrainingDivergedError, match="a weight reached .* 1e\\+10"):
        LSTMRegressor(4, **big).fit(Xs, y)
    fitted = LSTMRegressor(**FAST).fit(Xs, y)
    before = fitted.predict(Xs)
    with pytest.raises(TrainingDivergedError, match="left as it was"):
        fitted.set_params(**big).fit(Xs, y)
    np.testing.assert_array_equal(fitted.predict(Xs), before)


@pytest.mark.parametrize(
    "device, message",
    [
        ("tpu", "'auto', 'cpu', 'cuda', optionally with an index.*Got 'tpu'"),
        ("", "'device' parameter of LSTMRegressor must be.*Got '' instead"),
        ("cuda:x", "Got 'cuda:x'"),
        (3, "Got 3"),
    ],
)
def test_unknown_devices_get_a_clear_error(device, message):
    """Check that a device torch would reject with its own error is refused
    first, by the parameter's constraint, naming the accepted ones; one set
    after fitting is refused by predict with the same words."""
    y = rng.normal(size=20)
    with pytest.raises(InvalidParameterError, match=message):
        LSTMRegressor(device=device, **FAST).fit(X, y)
    fitted = LSTMRegressor(**FAST).fit(X, y).set_params(device=device)
    with pytest.raises(ValueError, match="device must be 'auto', 'cpu' or 'cuda'"):
        fitted.predict(X)


def test_cpu_with_an_index_is_the_cpu():
    """Check that 'cpu:0', a valid torch device, trains as 'cpu' does."""
    y = rng.normal(size=20)
    a = LSTMRegressor(device="cpu:0", **FAST).fit(X, y).predict(X)
    np.testing.assert_array_equal(
        a, LSTMRegressor(device="cpu", **FAST).fit(X, y).predict(X)
    )


def test_a_learning_rate_beyond_float32_is_refused():
    """Check that lr=1e300 is a parameter error, not a torch overflow."""
    with pytest.raises(ValueError, match="'lr' parameter.*range"):
        LSTMRegressor(lr=1e300, **FAST).fit(X, rng.normal(size=20))


@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop"])
def test_partial_fit_after_changing_the_optimizer(optimizer):
    """Check that continuing Adam's state with another optimizer is a clear
    error that leaves the model as it was."""
    y = rng.normal(size=20)
    reg = LSTMRegressor(**FAST).fit(X, y)
    before = reg.predict(X)
    reg.set_params(optimizer=optimizer)
    with pytest.raises(ValueError, match=f"optimizer is now '{optimizer}'"):
        reg.partial_fit(X, y)
    np.testing.assert_array_equal(reg.predict(X), before)


def test_ragged_sequences_without_channels_are_refused():
    """Check that a ragged list whose sequences have 0 channels is refused."""
    with pytest.raises(ValueError, match="X has 0 channels"):
        LSTMRegressor(**FAST).fit([np.zeros((3, 0)), np.zeros((4, 0))], [1.0, 2.0])


def test_a_flat_list_of_numbers_is_not_sequences():
    """Check that a list of floats as X says what was expected."""
    with pytest.raises(ValueError, match="flat list of 3 numbers; expected a list"):
        LSTMRegressor(**FAST).fit([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])


def test_a_missing_series_id_is_named():
    """Check that a NaN id in the windower's id column names the row."""
    from sklstm import SequenceWindower

    table = np.c_[[0, 0, np.nan, 1, 1], np.arange(5.0)]
    with pytest.raises(ValueError, match="series_id column 0 is missing in row 2"):
        SequenceWindower(3, series_id=0).fit_transform(table)


def test_make_windows_refuses_a_boolean_window():
    """Check that True is not read as a window of 1."""
    from sklstm import make_windows

    with pytest.raises(ValueError, match="window must be an integer >= 1; got True"):
        make_windows(np.arange(10.0), True)


def test_labels_of_mixed_types_are_refused():
    """Check that labels mixing strings and integers are a TypeError saying so."""
    y = np.array(["a", 1] * 10, dtype=object)
    with pytest.raises(TypeError, match=r"mixes label types \['int', 'str'\]"):
        LSTMClassifier(**FAST).fit(X, y)


def test_categorical_targets_are_refused_by_the_regressor():
    """Check that a pandas Categorical y points to the classifier."""
    import pandas as pd

    y = pd.Series(pd.Categorical(list("ab") * 10))
    with pytest.raises(ValueError, match="needs numeric targets.*LSTMClassifier"):
        LSTMRegressor(**FAST).fit(X, y)


@pytest.mark.parametrize(
    "params, what",
    [
        (dict(hidden_size=10**5), "hidden_size=100000"),
        (
            dict(conv_channels=(32,), conv_kernel_size=10**8),
            "conv_kernel_size=100000000",
        ),
    ],
)
def test_networks_far_beyond_memory_are_refused_before_allocating(params, what):
    """Check that sizes that follow a number, not the data, are a ValueError
    saying how much they would take, before torch allocates anything."""
    params = {**FAST, **params}
    with pytest.raises(ValueError, match=r"would take [\d.]+ GiB, more than half"):
        LSTMRegressor(**params).fit(X, rng.normal(size=20))


def test_a_token_id_far_above_the_others_is_refused(monkeypatch):
    """Check that one id of 2**24 - 1 (an embedding of a billion weights, 16 GiB
    to train) is a ValueError on a machine with 8 GiB free, not an allocation."""
    from sklstm import _memory

    monkeypatch.setattr(_memory, "available_bytes", lambda: 8 * 2**30)
    T = rng.integers(1, 5, size=(20, 6))
    T[0, 0] = 2**24 - 1
    with pytest.raises(ValueError, match="vocab_size_=16777216.*would take 16 GiB"):
        LSTMRegressor(embedding_dim=64, **FAST).fit(T, rng.normal(size=20))


def test_a_window_far_longer_than_the_table_is_refused():
    """Check that window=10**9 over 10 rows is refused, while a window somewhat
    longer than the table still works (its steps before the table are padding)."""
    from sklstm import SequenceWindower

    table = rng.normal(size=(10, 1))
    with pytest.raises(ValueError, match="longer than the table .10 rows.*7629 MiB"):
        SequenceWindower(window=10**9).fit_transform(table)
    assert SequenceWindower(window=50).fit_transform(table).shape == (10, 50, 1)


def test_pruned_searches_train_the_estimators_epochs():
    """Check that optuna_search with pruning trains max_epochs per trial, not
    optuna-integration's 1,000, unless max_iter is given."""
    from sklearn.pipeline import make_pipeline

    from sklstm import SequenceWindower
    from sklstm.tuning import PRUNED_EPOCHS, optuna_search

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # OptunaSearchCV is "experimental"
        assert (
            optuna_search(LSTMRegressor(max_epochs=3), enable_pruning=True).max_iter
            == 3
        )
        pipe = make_pipeline(SequenceWindower(3), LSTMRegressor())
        assert optuna_search(pipe, enable_pruning=True).max_iter == PRUNED_EPOCHS
        given = optuna_search(
            LSTMRegressor(max_epochs=3), enable_pruning=True, max_iter=7
        )
        assert given.max_iter == 7


def test_a_pandas_series_target_trains_without_torch_warnings():
    """Check that pandas' read-only arrays (copy-on-write) do not make torch
    warn about non-writable memory."""
    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        LSTMRegressor(**FAST).fit(X, pd.Series(rng.normal(size=20)))
        LSTMClassifier(**FAST).fit(X, pd.Series(LABELS))


def _fitted():
    return LSTMRegressor(**FAST).fit(X, rng.normal(size=20))


def test_load_refuses_what_is_not_a_regular_file(tmp_path):
    """Check that a folder, a FIFO and a dangling link are ModelFileError, and a
    missing path FileNotFoundError."""
    import os

    from sklstm import ModelFileError, load

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    dangling = tmp_path / "link"
    dangling.symlink_to(tmp_path / "gone")
    for path in (tmp_path, fifo, dangling):
        with pytest.raises(ModelFileError, match="is not a regular file"):
            load(path)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.sklstm")


def test_save_writes_through_a_symlink(tmp_path):
    """Check that saving to a symlink replaces its target and keeps the link."""
    from sklstm import load, save

    target = tmp_path / "real.sklstm"
    target.write_text("old")
    link = tmp_path / "model.sklstm"
    link.symlink_to(target)
    reg = _fitted()
    save(reg, link)
    assert link.is_symlink() and link.resolve() == target.resolve()
    np.testing.assert_array_equal(load(target).predict(X), reg.predict(X))


def test_save_refuses_a_path_that_is_not_a_file(tmp_path):
    """Check that saving onto a folder is refused and leaves it alone."""
    from sklstm import save

    folder = tmp_path / "model.sklstm"
    folder.mkdir()
    with pytest.raises(OSError, match="not a regular file"):
        save(_fitted(), folder)
    assert folder.is_dir()


def test_save_removes_temporaries_of_killed_writes(tmp_path):
    """Check that an old temporary left by a killed save of the same file is
    removed, while a recent one (maybe another save under way) stays."""
    import os
    import time

    from sklstm import save

    old = tmp_path / "model.sklstm.abc123.tmp"
    new = tmp_path / "model.sklstm.def456.tmp"
    other = tmp_path / "other.sklstm.abc123.tmp"
    for f in (old, new, other):
        f.write_bytes(b"x" * 10)
    hours_ago = time.time() - 7200
    os.utime(old, (hours_ago, hours_ago))
    os.utime(other, (hours_ago, hours_ago))
    save(_fitted(), tmp_path / "model.sklstm")
    assert not old.exists() and new.exists() and other.exists()


def test_a_failed_safetensors_write_is_an_oserror(tmp_path, monkeypatch):
    """Check that safetensors' own error (a full disk) reaches the user as the
    OSError it is, which the command line reports, and leaves no file."""
    import safetensors.torch
    from safetensors import SafetensorError

    from sklstm import save

    def full_disk(*args, **kwargs):
        raise SafetensorError("No space left on device (os error 28)")

    monkeypatch.setattr(safetensors.torch, "save_file", full_disk)
    with pytest.raises(OSError, match="No space left"):
        save(_fitted(), tmp_path / "model.sklstm")
    assert list(tmp_path.iterdir()) == []


def test_a_ragged_list_beyond_float32_names_the_magnitude():
    """Check that 1e300 in a ragged list is named as such, not as infinity
    after a silent cast (the fuzz test found it)."""
    X = [np.array([[1.0], [1e300]]), np.array([[2.0]])]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="magnitude 1e\\+300, beyond float32"):
            LSTMRegressor(**FAST).fit(X, [1.0, 2.0])
