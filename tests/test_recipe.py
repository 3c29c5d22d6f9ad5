"""The training recipe: LSTM-FCN, input scaling, the validation split, the
learning-rate schedule, the adaptive budget and the defaults that use them."""

import re

import numpy as np
import pytest

from sklstm import LSTMClassifier, LSTMRegressor, load, save
from sklstm._recipe import (
    MAX_EPOCHS,
    MIN_EPOCHS,
    auto_epochs,
    channel_statistics,
    validation_last,
)

rng = np.random.default_rng(0)
FAST = dict(hidden_size=8, max_epochs=2, batch_size=16, random_state=0)
FCN = dict(fcn_channels=(4, 8, 4), fcn_kernel_sizes=(5, 3, 3))


def _ragged(n=24, channels=2):
    lengths = rng.integers(5, 30, size=n)
    return [rng.normal(size=(t, channels)) for t in lengths]


# -- LSTM-FCN --------------------------------------------------------------------------


@pytest.mark.parametrize("squeeze_excite", [False, True])
@pytest.mark.parametrize("pooling", ["last", "attention"])
def test_lstm_fcn_shapes_and_summary(squeeze_excite, pooling):
    """Check that the FCN branch sits beside the LSTM and the head reads both."""
    X = rng.normal(size=(30, 20, 3))
    clf = LSTMClassifier(
        squeeze_excite=squeeze_excite, pooling=pooling, **FCN, **FAST
    ).fit(X, rng.integers(0, 3, size=30))
    module = clf.module_
    assert module.head.in_features == 8 + 4  # LSTM features + last FCN block
    convs = module.fcn.convs
    assert [c.out_channels for c in convs.convs] == [4, 8, 4]
    assert [c.kernel_size[0] for c in convs.convs] == [5, 3, 3]
    assert len(convs.excite) == (2 if squeeze_excite else 0)
    assert clf.predict_proba(X).shape == (30, 3)
    table = clf.summary()
    assert "fcn_conv1d_2 (Conv1D k=3 + BatchNorm + ReLU)" in table
    assert ("fcn_se_1 (squeeze-excite)" in table) == squeeze_excite
    assert "concatenate (LSTM, FCN)" in table
    total = sum(p.numel() for p in module.parameters())
    assert f"Total params: {total:,}" in table


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("downsample", [1, 3])
@pytest.mark.parametrize("fcn_downsample", [1, 2])
def test_lstm_fcn_ignores_padding(bidirectional, downsample, fcn_downsample):
    """Check that a ragged sequence predicts the same alone and in a batch."""
    X = _ragged()
    reg = LSTMRegressor(
        bidirectional=bidirectional,
        downsample=downsample,
        fcn_downsample=fcn_downsample,
        squeeze_excite=True,
        scaling="sequence",
        **FCN,
        **FAST,
    ).fit(X, rng.normal(size=len(X)))
    together = reg.predict(X)
    for i in (0, 5, 17):
        np.testing.assert_allclose(reg.predict([X[i]]), together[i], atol=1e-5)


def test_lstm_fcn_round_trips_through_save(tmp_path):
    """Check that save/load keeps the branch, the scaling and the predictions."""
    X = _ragged()
    y = rng.integers(0, 2, size=len(X))
    clf = LSTMClassifier(
        squeeze_excite=True,
        scaling="sequence",
        downsample=2,
        fcn_downsample=3,
        **FCN,
        **FAST,
    ).fit(X, y)
    back = load(save(clf, tmp_path / "model.sklstm"))
    np.testing.assert_allclose(back.predict_proba(X), clf.predict_proba(X), atol=1e-6)
    assert back.module_.downsample == 2
    assert back.module_.fcn_downsample == 3
    assert back.summary() == clf.summary()


def test_fcn_parameters_are_checked():
    """Check that bad branch settings get a clear error."""
    X = rng.normal(size=(10, 12))
    y = rng.integers(0, 2, size=10)
    with pytest.raises(ValueError, match="fcn_kernel_sizes needs one kernel size"):
        LSTMClassifier(fcn_channels=(4, 4), fcn_kernel_sizes=(3,), **FAST).fit(X, y)
    with pytest.raises(ValueError, match="fcn_channels must be a sequence of pos"):
        LSTMClassifier(fcn_channels=(4, 0), **FAST).fit(X, y)
    with pytest.raises(ValueError, match="'scaling' parameter of LSTMClassifier"):
        LSTMClassifier(scaling="window", **FAST).fit(X, y)  # a regressor's option


def test_auto_downsample_reads_long_sequences_coarsely():
    """Check that the LSTM reads at most LSTM_STEPS steps beside an FCN branch,
    and every step without one."""
    from sklstm._recipe import LSTM_STEPS

    X = rng.normal(size=(8, 3 * LSTM_STEPS + 1))
    y = rng.integers(0, 2, size=8)
    with_fcn = LSTMClassifier(**FCN, **FAST).fit(X, y)
    assert with_fcn.module_.downsample == 4
    plain = LSTMClassifier(fcn_channels=(), **FAST).fit(X, y)
    assert plain.module_.downsample == 1


def test_auto_fcn_downsample_reads_long_sequences_coarsely():
    """Check that the FCN branch reads at most FCN_STEPS (averaged) steps of
    the longest training sequence, every step of shorter ones, that the
    averaging changes what it computes, and that the budget counts the steps
    the branch reads."""
    from sklstm._recipe import FCN_STEPS

    long = rng.normal(size=(8, 2 * FCN_STEPS + 1))
    y = rng.integers(0, 2, size=8)
    coarse = LSTMClassifier(**FCN, **FAST).fit(long, y)
    assert coarse.module_.fcn_downsample == 3
    table = coarse.summary()  # 1,025 steps: the LSTM reads 114, the branch 342
    for row in (
        r"average \(9 steps\)\s+\(None, 114, 2\)",
        r"lstm_0 \(LSTM\)\s+\(None, 114, 8\)",
        r"fcn_average \(3 steps\)\s+\(None, 342, 2\)",
        r"fcn_conv1d_0 \(Conv1D k=5 \+ BatchNorm \+ ReLU\)\s+\(None, 342, 4\)",
    ):
        assert re.search(row, table), (row, table)
    fine = LSTMClassifier(fcn_downsample=1, **FCN, **FAST).fit(long, y)
    assert fine.module_.fcn_downsample == 1
    # the same weights read every step: other outputs
    fine.module_.load_state_dict(coarse.module_.state_dict())
    assert not np.allclose(fine.predict_proba(long), coarse.predict_proba(long))
    short = LSTMClassifier(**FCN, **FAST).fit(long[:, :FCN_STEPS], y)
    assert short.module_.fcn_downsample == 1
    budget = LSTMClassifier(**FCN, **{**FAST, "max_epochs": "auto"})
    budget._fcn_downsample = 3
    sequences = budget._validate_fit_data(long, y, None, True)[0]
    assert budget._epochs(sequences) == auto_epochs(8, 342, 16)
    budget.set_params(fcn_channels=())  # nothing averaged: every step counts
    assert budget._epochs(sequences) == auto_epochs(8, 1025, 16)


def test_models_fitted_before_fcn_downsample_read_every_step(tmp_path):
    """Check that a model whose file predates fcn_downsample keeps an FCN
    branch that reads every step, and can be trained on."""
    X = rng.normal(size=(12, 20, 2))
    y = rng.integers(0, 2, size=12)
    clf = LSTMClassifier(fcn_downsample=1, warm_start=True, **FCN, **FAST).fit(X, y)
    del clf._fcn_downsample
    del clf._fitted_architecture["fcn_downsample"]
    back = load(save(clf, tmp_path / "old.sklstm"))
    assert back.module_.fcn_downsample == 1
    np.testing.assert_allclose(back.predict_proba(X), clf.predict_proba(X), atol=1e-6)
    back.set_params(fcn_downsample=1).fit(X, y)  # a warm start: same architecture
    assert back.n_iter_ == 2 * FAST["max_epochs"]


def test_attention_weights_with_downsampling_cover_every_step():
    """Check that weights of averaged steps are spread back over their steps."""
    X = _ragged()
    reg = LSTMRegressor(pooling="attention", downsample=4, **FCN, **FAST)
    reg.fit(X, rng.normal(size=len(X)))
    w = reg.attention_weights(X)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-5)
    for i, seq in enumerate(X):
        assert (w[i, : len(seq)] > 0).all() and (w[i, len(seq) :] == 0).all()


# -- input scaling ---------------------------------------------------------------------


def test_channel_scaling_makes_the_units_irrelevant():
    """Check that inputs in other units (x 1000 + 50) give the same model."""
    X = rng.normal(size=(40, 10, 2))
    y = np.where(X[:, :, 0].mean(axis=1) > 0, "a", "b")
    a = LSTMClassifier(scaling="channel", **FAST).fit(X, y)
    b = LSTMClassifier(scaling="channel", **FAST).fit(X * 1000 + 50, y)
    np.testing.assert_allclose(
        a.predict_proba(X), b.predict_proba(X * 1000 + 50), atol=1e-4
    )


def test_sequence_scaling_ignores_each_sequences_level_and_gain():
    """Check that with per-sequence scaling a sequence shifted and stretched on
    its own predicts as before."""
    X = rng.normal(size=(40, 10, 2))
    y = rng.integers(0, 2, size=40)
    clf = LSTMClassifier(scaling="sequence", **FCN, **FAST).fit(X, y)
    moved = X.copy()
    moved[3] = moved[3] * 7 - 20
    np.testing.assert_allclose(
        clf.predict_proba(moved)[3], clf.predict_proba(X)[3], atol=1e-4
    )
    unscaled = LSTMClassifier(scaling=None, **FAST).fit(X, y)
    assert unscaled.module_.scaling is None


@pytest.mark.parametrize("scaling", ["sequence", "both"])
def test_sequence_scaling_normalises_traces_far_smaller_than_the_channel(scaling):
    """Check that a sequence 1e-4 the size of the channel's spread comes out of
    per-sequence scaling with unit variance (a floor of 1e-5 on its variance in
    the channel's units had shrunk it to 0.05) and predicts as itself
    stretched."""
    import torch

    X = rng.normal(size=(40, 30, 1)) * np.repeat([1e3, 1.0], 20)[:, None, None]
    y = rng.integers(0, 2, size=40)
    clf = LSTMClassifier(scaling=scaling, **FCN, **FAST).fit(X, y)
    tiny = X[25:26] * 0.1  # its own spread: 1.4e-4 of the channel's
    scaled, _ = clf.module_.scaling(torch.as_tensor(tiny, dtype=torch.float32))
    own = scaled[0, :, -1].numpy()  # the per-sequence channel comes last
    assert abs(own.std() - 1.0) < 1e-3 and abs(own.mean()) < 1e-3
    moved = X.copy()
    moved[25] = tiny[0]
    if scaling == "sequence":
        np.testing.assert_allclose(
            clf.predict_proba(moved)[25], clf.predict_proba(X)[25], atol=1e-4
        )


def test_models_saved_before_the_sequence_floor_keep_theirs(tmp_path):
    """Check that a fitted model without ``_sequence_eps`` (saved by an older
    sklstm) scales with the floor it was trained with, and that the window
    scaling keeps its floor."""
    from sklstm._architecture import module_kwargs
    from sklstm._recipe import LINKED_EPS, SEQUENCE_EPS

    clf = LSTMClassifier(scaling="sequence", **FAST).fit(
        rng.normal(size=(20, 8, 1)), rng.integers(0, 2, size=20)
    )
    assert clf.module_.scaling.eps == SEQUENCE_EPS
    save(clf, tmp_path / "m.sklstm")
    assert load(tmp_path / "m.sklstm").module_.scaling.eps == SEQUENCE_EPS
    del clf._sequence_eps
    assert module_kwargs(clf)["sequence_eps"] == LINKED_EPS
    from sklstm import make_windows

    reg = LSTMRegressor(**FAST).fit(*make_windows(rng.normal(size=200), 10))
    assert reg.module_.scaling.eps == LINKED_EPS


def test_channel_statistics_weigh_samples_and_skip_padding():
    """Check that the statistics match numpy's: padding skipped, a weight of 2 the same
    as the sample twice, windows read through their shared table."""
    from sklstm._sequences import read_array, read_ragged

    X = rng.normal(loc=1e6, size=(6, 5, 2))  # far from zero: no cancellation
    X[0, :2] = np.nan  # leading padding of sample 0
    weight = np.array([1.0, 2.0, 1.0, 1.0, 1.0, 3.0])
    loc, scale = channel_statistics(read_array(X), weight)
    repeated = np.repeat(X, weight.astype(int), axis=0).reshape(-1, 2)
    np.testing.assert_allclose(loc, np.nanmean(repeated, axis=0), rtol=1e-7)
    np.testing.assert_allclose(scale, np.nanstd(repeated, axis=0), rtol=1e-4)
    seqs = [rng.normal(size=(n, 1)) for n in (3, 8)]
    loc, scale = channel_statistics(read_ragged(seqs))
    np.testing.assert_allclose(loc, [np.concatenate(seqs).mean()], rtol=1e-5)
    from sklstm import make_windows

    series = rng.normal(size=50)
    windows, _ = make_windows(series, 10)  # a view: samples share rows
    loc, _ = channel_statistics(read_array(windows))
    np.testing.assert_allclose(loc, [np.mean(windows)], rtol=1e-5)
    flat = read_array(np.zeros((4, 3, 1)) + 7.0)
    assert channel_statistics(flat)[1][0] == 1.0  # no spread: scale 1


def test_window_scaling_follows_the_level_of_a_series():
    """Check that the regressor's per-window scaling predicts a series shifted
    far outside the training range at its own level, where global scaling
    cannot."""
    t = np.arange(400)
    series = np.sin(t / 4) + 0.01 * rng.normal(size=400)
    from sklstm import make_windows

    X, y = make_windows(series, 16)
    shifted = X + 50.0
    for scaling, links, close in (("window", [0], True), ("channel", None, False)):
        reg = LSTMRegressor(16, scaling=scaling, max_epochs=30, random_state=0)
        reg.fit(X, y)
        assert reg.module_.target_channels == links
        error = np.abs(reg.predict(shifted) - (y + 50.0)).mean()
        assert (error < 0.3) == close, (scaling, error)


def test_window_scaling_links_each_output_to_its_own_channel():
    """Check that outputs are linked to the channel holding their past and that
    an unrelated target is linked to none."""
    table = np.cumsum(rng.normal(size=(300, 3)), axis=0)
    from sklstm import make_windows

    X, y = make_windows(table, 12, target=[2, 0])
    reg = LSTMRegressor(**FAST).fit(X, y)
    assert reg.module_.target_channels == [2, 0]
    noise = rng.normal(size=len(X))
    reg = LSTMRegressor(**FAST).fit(X, noise)
    assert reg.module_.target_channels is None
    assert reg.module_.scaling.any_per_sequence is False


# -- the validation split --------------------------------------------------------------


@pytest.mark.parametrize("order", ["sorted", "shuffled"])
def test_stratified_split_keeps_every_class(order):
    """Check that the classifier validates on every class whatever the row
    order, where the tail of rows sorted by label holds one class."""
    y = np.repeat(["a", "b", "c", "d"], 15)
    if order == "shuffled":
        y = rng.permutation(y)
    X = rng.normal(size=(60, 6))
    clf = LSTMClassifier(early_stopping=True, validation_fraction=0.2, **FAST)
    seen = []
    import sklstm._base as base

    real = base.validation_last

    def spy(groups, fraction, how, seed):
        order_, n_valid = real(groups, fraction, how, seed)
        seen.append(np.asarray(groups)[order_[-n_valid:]])
        return order_, n_valid

    base.validation_last = spy
    try:
        clf.fit(X, y)
    finally:
        base.validation_last = real
    (valid,) = seen
    assert sorted(set(clf.classes_[valid])) == ["a", "b", "c", "d"]
    assert len(valid) == 12 and "valid_loss" in clf.history_[0]


def test_validation_last_shares_classes_and_is_seeded():
    """Check that the split gets class shares, order, seeding and lone samples right."""
    groups = np.array([0] * 10 + [1] * 5 + [2])
    order, n_valid = validation_last(groups, 0.2, "stratified", seed=1)
    valid = groups[order[-n_valid:]]
    assert sorted(valid) == [0, 0, 1]  # a lone sample of class 2 stays to train
    assert sorted(order) == list(range(16))
    train = order[:-n_valid]
    assert list(train) == sorted(train)  # training samples keep their order
    again, _ = validation_last(groups, 0.2, "stratified", seed=1)
    np.testing.assert_array_equal(order, again)
    other, _ = validation_last(groups, 0.2, "stratified", seed=2)
    assert not np.array_equal(order, other)
    order, n_valid = validation_last(np.zeros(10), 0.3, "shuffle", seed=0)
    assert n_valid == 3 and sorted(order) == list(range(10))
    with pytest.raises(ValueError, match="at least one training and one valid"):
        validation_last(np.array([0, 1]), 0.5, "stratified", seed=0)


def test_regressor_validates_on_the_tail_by_default():
    """Check that the regressor's validation set is its most recent windows."""
    X = rng.normal(size=(50, 5))
    y = np.arange(50.0)
    reg = LSTMRegressor(early_stopping=True, validation_fraction=0.2, **FAST)
    assert reg.validation_split == "tail"
    reg.fit(X, y)
    assert "valid_loss" in reg.history_[0]
    with pytest.raises(ValueError, match="validation_split"):
        LSTMRegressor(validation_split="stratified", **FAST).fit(X, y)


# -- the learning-rate schedule --------------------------------------------------------


def _plateau(**params):
    """A fit in which no epoch improves on the first by tol: a plateau."""
    X = rng.normal(size=(32, 5))
    y = np.where(X[:, 0] > 0, 1, 0)
    return X, y, dict(lr_schedule="plateau", tol=1e9, n_iter_no_change=6, **params)


def test_plateau_schedule_halves_the_learning_rate():
    """Check that the rate halves after n_iter_no_change // 2 epochs without
    improvement, and that training stops after n_iter_no_change."""
    X, y, params = _plateau()
    clf = LSTMClassifier(8, max_epochs=50, lr=0.01, random_state=0, **params)
    clf.fit(X, y)
    lrs = [h["lr"] for h in clf.history_]
    assert lrs[:5] == [0.01] * 5 and lrs[5] == 0.005
    assert clf.n_iter_ == 7 and clf.history_[-1]["stopped"] == "converged"
    without = LSTMClassifier(8, max_epochs=50, lr=0.01, random_state=0)
    without.set_params(**{**params, "lr_schedule": None}).fit(X, y)
    assert {h.get("lr", 0.01) for h in without.history_} == {0.01}


def test_plateau_schedule_carries_over_partial_fit_calls():
    """Check that one-epoch partial_fit calls lower the rate as one fit would."""
    X, y, params = _plateau()
    clf = LSTMClassifier(8, lr=0.01, random_state=0, **params)
    for _ in range(8):
        clf.partial_fit(X, y, classes=[0, 1])
    lrs = [h["lr"] for h in clf.history_]
    assert lrs[:5] == [0.01] * 5 and lrs[5] == 0.005


def test_plateau_schedule_survives_save_and_load(tmp_path):
    """Check that a saved model resumes its schedule where it stopped."""
    X, y, params = _plateau()
    clf = LSTMClassifier(8, lr=0.01, random_state=0, **params)
    for _ in range(5):
        clf.partial_fit(X, y, classes=[0, 1])
    back = load(save(clf, tmp_path / "m.sklstm"))
    for model in (clf, back):
        for _ in range(2):
            model.partial_fit(X, y)
    assert [h["lr"] for h in back.history_] == [h["lr"] for h in clf.history_]
    assert back.history_[5]["lr"] == 0.005


# -- the budget ------------------------------------------------------------------------


def test_auto_epochs_adapts_to_the_data():
    """Check that small data get more epochs than large, within the bounds."""
    small = auto_epochs(50, 100, 32)
    large = auto_epochs(1000, 500, 32)
    assert MIN_EPOCHS <= large < small <= MAX_EPOCHS
    assert auto_epochs(10**7, 1000, 32) == MIN_EPOCHS
    assert auto_epochs(1, 1, 32) == MAX_EPOCHS
    # a step of varying lengths costs RAGGED_COST steps of equal ones
    from sklstm._recipe import RAGGED_COST

    assert auto_epochs(1000, 300, 32, ragged=True) == auto_epochs(
        1000, 300 * RAGGED_COST, 32
    )
    assert auto_epochs(1000, 300, 32, ragged=True) < auto_epochs(1000, 300, 32)
    ragged = [rng.normal(size=n) for n in (5, 7, 9, 5)] * 5
    clf = LSTMClassifier(max_epochs="auto", hidden_size=4, fcn_channels=())
    sequences = clf._validate_fit_data(ragged, [0, 1] * 10, None, True)[0]
    assert clf._epochs(sequences) == auto_epochs(20, 6.5, 32, ragged=True)
    X = rng.normal(size=(20, 5))
    clf = LSTMClassifier(max_epochs="auto", tol=1e9, n_iter_no_change=10**6)
    clf.set_params(hidden_size=4, fcn_channels=(), random_state=0)
    clf.fit(X, rng.integers(0, 2, size=20))
    assert clf.n_iter_ == auto_epochs(20, 5, clf.batch_size)


def test_auto_epochs_fill_the_middle_up_to_the_largest_fit():
    """Check that data between the budget's sizes get the epochs the 1,000 x 500
    fit's work allows (at most FILL_EPOCHS), that the two sizes themselves and
    the short data keep the epochs of the rule before, and that the STEPS cap
    still holds."""
    import math

    from sklstm import _recipe

    def before(n, steps, batch):  # the rule without the filling
        by_steps = math.ceil(_recipe.STEPS / math.ceil(n / batch))
        epochs = min(by_steps, int(_recipe.WORK / (n * steps) ** _recipe.SIZE_POWER))
        return min(max(epochs, MIN_EPOCHS), MAX_EPOCHS)

    for n, steps in [(100, 100), (1000, 500), (50, 150), (270, 15)]:
        assert auto_epochs(n, steps, 32) == before(n, steps, 32)
    # FILL is the 1,000 x 500 fit's work: a change of WORK must move it too
    assert int(_recipe.FILL / (1000 * 500)) == before(1000, 500, 32)
    assert _recipe.FILL_EPOCHS == before(100, 100, 32)  # the epochs of 100 x 100
    long_data = auto_epochs(537, 324, 32)  # PLAID's size
    assert long_data == int(_recipe.FILL / (537 * 324)) > before(537, 324, 32)
    assert auto_epochs(100, 275, 32) == _recipe.FILL_EPOCHS  # Trace's: capped
    assert auto_epochs(100, 1460, 32) * 100 * 1460 <= _recipe.FILL
    assert auto_epochs(3000, 40, 32) == math.ceil(_recipe.STEPS / 94)  # STEPS cap


# -- the defaults ----------------------------------------------------------------------


@pytest.mark.parametrize("form", ["2-D", "3-D", "ragged", "sorted"])
def test_defaults_learn_a_separable_problem(form):
    """Check that the untouched defaults learn an easy problem perfectly, on
    every input form, with rows sorted by label and no scaler in front."""
    n, steps = 60, 40
    t = np.linspace(0, 1, steps)
    y = np.repeat(["low", "high"], n // 2)
    freq = np.where(y == "low", 2.0, 5.0)
    X = np.sin(2 * np.pi * freq[:, None] * t) * 300 + 1000  # raw units
    X = X + rng.normal(scale=30, size=X.shape)
    if form == "3-D":
        X = np.stack([X, -X], axis=2)
    if form == "ragged":
        X = [x[: rng.integers(25, steps + 1)] for x in X]
    if form != "sorted":
        keep = rng.permutation(n)
        X = [X[i] for i in keep] if form == "ragged" else X[keep]
        y = y[keep]
    clf = LSTMClassifier(random_state=0).fit(X, y)
    assert clf.score(X, y) == 1.0


# -- ensembles -------------------------------------------------------------------------


def _two_frequencies(n=32, steps=24):
    t = np.linspace(0, 1, steps)
    y = np.repeat([0, 1], n // 2)
    X = np.sin(2 * np.pi * np.where(y == 0, 2.0, 5.0)[:, None] * t)
    return X + rng.normal(scale=0.1, size=X.shape), y


def test_a_soft_vote_of_seeds_averages_their_probabilities():
    """Check that the documented ensemble recipe, scikit-learn's VotingClassifier over
    sklstm classifiers of different seeds with soft voting, averages their
    probabilities."""
    from sklearn.ensemble import VotingClassifier

    X, y = _two_frequencies()
    members = [
        (f"s{s}", LSTMClassifier(8, max_epochs=3, random_state=s)) for s in (0, 1)
    ]
    vote = VotingClassifier(members, voting="soft").fit(X, y)
    mean = np.mean([m.predict_proba(X) for m in vote.estimators_], axis=0)
    np.testing.assert_allclose(vote.predict_proba(X), mean, rtol=1e-6)
    assert set(vote.predict(X)) <= {0, 1}


def test_bagging_takes_an_lstm_on_2d_input():
    """Check that BaggingClassifier fits sklstm classifiers on bootstrap samples of
    2-D input, each member trained on its own rows."""
    from sklearn.ensemble import BaggingClassifier

    X, y = _two_frequencies()
    bag = BaggingClassifier(
        LSTMClassifier(8, max_epochs=2), n_estimators=2, random_state=0
    ).fit(X, y)
    assert len(bag.estimators_) == 2
    assert bag.predict_proba(X).shape == (len(X), 2)


def test_a_channel_constant_up_to_rounding_noise_is_not_scaled_up():
    """Check that an input channel and a target whose training spread is rounding
    noise on a constant (1e-16) are read as having none, as scikit-learn's
    StandardScaler reads them: a later input of 0.1 must not be multiplied by
    1e15 (a forecast of 1e13 came out of such a fold of ``sklstm forecast``)."""
    from sklstm._recipe import NO_SPREAD, usable_scale

    noise = np.random.default_rng(0).normal(scale=1e-16, size=(30, 12, 1))
    reg = LSTMRegressor(hidden_size=4, max_epochs=2, random_state=0)
    reg.fit(noise, noise[:, -1, 0])
    assert float(reg.module_.scaling.scale[0]) == 1.0 and reg.y_scale_[0] == 1.0
    later = np.full((3, 12, 1), 0.1)
    assert np.all(np.abs(reg.predict(later)) < 10)
    assert list(usable_scale([0.0, NO_SPREAD / 2, NO_SPREAD, np.inf, 2.0])) == [
        1.0, 1.0, NO_SPREAD, 1.0, 2.0,
    ]  # fmt: skip
