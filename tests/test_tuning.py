"""sklstm.tuning.search_space with Optuna and scikit-learn searches."""

import warnings

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, TimeSeriesSplit
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklstm import LSTMClassifier, LSTMRegressor, SequenceWindower
from sklstm.tuning import search_space

TINY = dict(hidden_size=4, max_epochs=2, batch_size=64, random_state=0)
t = np.arange(240)
TABLE = np.c_[np.sin(t / 8), np.cos(t / 13)]
Y = np.sin((t + 1) / 8)


def _pipe():
    return Pipeline(
        [
            ("scale", StandardScaler()),
            ("window", SequenceWindower(6)),
            ("lstm", LSTMRegressor(**TINY)),
        ]
    )


def test_optuna_space_names_and_kinds():
    """Check that the Optuna space has the expected names and kinds of distribution,
    and holds every default."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    space = search_space(LSTMRegressor())
    assert set(space) == {
        "hidden_size",
        "num_layers",
        "bidirectional",
        "dropout",
        "pooling",
        "lr",
        "batch_size",
        "scaling",
    }
    assert space["scaling"].choices == ("window", "channel", "sequence")
    assert (
        isinstance(space["hidden_size"], IntDistribution) and space["hidden_size"].log
    )
    assert isinstance(space["lr"], FloatDistribution) and space["lr"].log
    assert isinstance(space["pooling"], CategoricalDistribution)
    for name, dist in space.items():  # every default lies inside its own space
        assert dist._contains(dist.to_internal_repr(LSTMRegressor().get_params()[name]))


def test_front_end_options_join_the_space_when_present():
    """Check that convolution and embedding options join the space only when used."""
    conv = search_space(LSTMClassifier(conv_channels=(8,)))
    assert "conv_kernel_size" in conv and "conv_batch_norm" in conv
    assert "embedding_dim" in search_space(LSTMClassifier(embedding_dim=8))
    plain = search_space(LSTMClassifier())
    assert "conv_kernel_size" not in plain and "embedding_dim" not in plain
    assert "conv_batch_norm" not in plain


def test_prefix_and_pipelines():
    """Check that the space's names take a prefix or a pipeline step's name, and that
    grid sizes are as documented."""
    assert "lstm__lr" in search_space(_pipe())
    assert "model__lr" in search_space(LSTMRegressor(), prefix="model")
    assert "model__lr" in search_space(LSTMRegressor(), prefix="model__")
    assert "outer__lstm__lr" in search_space(_pipe(), prefix="outer")
    grid = search_space(_pipe(), flavour="grid")
    assert np.prod([len(v) for v in grid.values()]) == 288  # as the docstring says
    grid = search_space(LSTMClassifier(), flavour="grid")  # + squeeze-excite
    assert np.prod([len(v) for v in grid.values()]) == 576


def test_bad_requests_say_what_is_expected():
    """Check that bad requests to search_space say what is expected."""
    with pytest.raises(ValueError, match=r"include names \['units'\], not in the"):
        search_space(LSTMRegressor(), include=["units", "lr"])
    with pytest.raises(ValueError, match="flavour must be one of"):
        search_space(LSTMRegressor(), flavour="bayes")
    with pytest.raises(TypeError, match="got StandardScaler"):
        search_space(StandardScaler())
    with pytest.raises(
        ValueError, match="exactly one sklstm estimator step; this one has 0"
    ):
        search_space(Pipeline([("scale", StandardScaler())]))


def test_grid_search_with_time_series_split():
    """Check that a grid space drives GridSearchCV and TimeSeriesSplit on a pipeline."""
    space = search_space(_pipe(), flavour="grid", include=["hidden_size", "pooling"])
    search = GridSearchCV(_pipe(), space, cv=TimeSeriesSplit(3)).fit(TABLE, Y)
    assert len(search.cv_results_["params"]) == 6
    assert set(search.best_params_) == {"lstm__hidden_size", "lstm__pooling"}
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_randomized_search_with_time_series_split():
    """Check that a random space draws distinct hidden sizes in RandomizedSearchCV."""
    space = search_space(_pipe(), flavour="random", include=["hidden_size", "lr"])
    search = RandomizedSearchCV(
        _pipe(), space, n_iter=3, cv=TimeSeriesSplit(2), random_state=0
    ).fit(TABLE, Y)
    sizes = [p["lstm__hidden_size"] for p in search.cv_results_["params"]]
    assert all(16 <= s <= 256 for s in sizes) and len(set(sizes)) == 3


def test_optuna_search_in_a_pipeline_with_the_windower():
    """Check that OptunaSearchCV tunes a pipeline with the windower, then predicts."""
    import optuna
    from optuna_integration import OptunaSearchCV

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = search_space(_pipe(), include=["hidden_size", "lr", "pooling"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.simplefilter("ignore", FutureWarning)  # optuna-integration 5.0
        search = OptunaSearchCV(
            _pipe(), space, cv=TimeSeriesSplit(2), n_trials=3, random_state=0
        ).fit(TABLE, Y)
    assert len(search.trials_) == 3
    assert set(search.best_params_) == {
        "lstm__hidden_size",
        "lstm__lr",
        "lstm__pooling",
    }
    assert search.predict(TABLE).shape == (240,)


def test_halving_search_over_epochs():
    """Check that HalvingRandomSearchCV works with max_epochs as the resource."""
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingRandomSearchCV

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 6, 1))
    est = LSTMRegressor(batch_size=64, n_iter_no_change=50, random_state=0)
    search = HalvingRandomSearchCV(
        est,
        search_space(est, flavour="random", include=["hidden_size", "lr"]),
        resource="max_epochs",
        min_resources=2,
        max_resources=8,
        factor=2,
        cv=TimeSeriesSplit(2),
        random_state=0,
    ).fit(X, X[:, -1, 0])
    assert search.n_resources_ == [2, 4, 8] and search.n_candidates_ == [4, 2, 1]
    assert search.best_params_["max_epochs"] == 8


def test_a_diverging_candidate_is_reported_failed_not_scored():
    """Check that a NaN loss fails its candidate (FitFailedWarning, NaN score)."""
    from sklearn.exceptions import FitFailedWarning

    search = GridSearchCV(_pipe(), {"lstm__lr": [1e-3, 1e30]}, cv=TimeSeriesSplit(2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search.fit(TABLE, Y * 1e3)
    failed = [w for w in caught if issubclass(w.category, FitFailedWarning)]
    assert failed and "TrainingDivergedError" in str(failed[0].message)
    assert any("test scores are non-finite" in str(w.message) for w in caught)
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores[0]) and np.isnan(scores[1])
    assert search.best_params_ == {"lstm__lr": 1e-3}


def _optuna_search(pipe, prune, n_trials=8, max_iter=6):
    import optuna
    from optuna_integration import OptunaSearchCV

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=0),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1),
    )
    space = search_space(pipe, include=["hidden_size", "lr"])
    space["lstm__lr"] = type(space["lstm__lr"])(1e-5, 3e-2, log=True)  # some hopeless
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.simplefilter("ignore", FutureWarning)  # optuna-integration 5.0
        search = OptunaSearchCV(
            pipe,
            space,
            cv=TimeSeriesSplit(2),
            enable_pruning=prune,
            max_iter=max_iter,
            n_trials=n_trials,
            study=study,
            random_state=0,
        ).fit(TABLE, Y)
    return search, study


def test_pruning_drives_partial_fit_and_saves_training():
    """Check that a pruned study trains fewer epochs and still finds a good model."""
    import optuna

    from sklstm.tuning import PartialFitPipeline

    def pipe(epochs):
        return PartialFitPipeline(
            [
                ("scale", StandardScaler()),
                ("window", SequenceWindower(6)),
                ("lstm", LSTMRegressor(**{**TINY, "max_epochs": epochs})),
            ]
        )

    pruned, study = _optuna_search(pipe(6), prune=True)
    states = [t.state for t in study.trials]
    assert states.count(optuna.trial.TrialState.PRUNED) >= 1
    epochs_pruned = sum(len(t.intermediate_values) for t in study.trials)
    full, _ = _optuna_search(pipe(6), prune=False)
    epochs_full = 8 * 6  # per fold: every trial trains max_epochs
    assert epochs_pruned < epochs_full
    # each epoch of a pruned study is one partial_fit per fold
    assert max(len(t.intermediate_values) for t in study.trials) == 6
    assert pruned.best_score_ > 0.5 and pruned.best_score_ >= full.best_score_ - 0.2


def _threads_in_worker(estimator, X, y):
    """A 'score' that reports the worker's torch thread count."""
    import torch

    return float(torch.get_num_threads())


def test_parallel_search_does_not_oversubscribe():
    """Check that each GridSearchCV(n_jobs=2) worker runs torch on its share of
    the cores, and that sklstm never changes the thread count itself."""
    import os

    import torch

    before = torch.get_num_threads()
    search = GridSearchCV(
        LSTMRegressor(**TINY),
        {"hidden_size": [3, 4, 5, 6]},
        cv=TimeSeriesSplit(2),
        scoring=_threads_in_worker,
        n_jobs=2,
    )
    X = np.random.default_rng(0).normal(size=(60, 5, 1))
    search.fit(X, X[:, -1, 0])
    share = max(1, (os.cpu_count() or 1) // 2)
    assert set(search.cv_results_["mean_test_score"]) == {float(share)}
    assert torch.get_num_threads() == before
    LSTMRegressor(**TINY).fit(X, X[:, -1, 0])
    assert torch.get_num_threads() == before


@pytest.mark.parametrize(
    "cv, warns",
    [
        ("kfold-shuffle", True),
        ("kfold-shuffle-randomstate", True),
        ("shufflesplit", True),
        ("kfold-shuffle-int", False),
        ("timeseries", False),
        ("kfold", False),
    ],
)
def test_optuna_search_warns_when_pruning_would_leak(cv, warns):
    """Check that optuna_search warns of optuna-integration #317 and wraps pipelines."""
    from sklearn.model_selection import KFold, ShuffleSplit

    from sklstm.tuning import PartialFitPipeline, optuna_search

    splitter = {
        "kfold-shuffle": KFold(2, shuffle=True),
        "kfold-shuffle-randomstate": KFold(
            2, shuffle=True, random_state=np.random.RandomState(0)
        ),
        "shufflesplit": ShuffleSplit(2),
        "kfold-shuffle-int": KFold(2, shuffle=True, random_state=0),
        "timeseries": TimeSeriesSplit(2),
        "kfold": KFold(2),
    }[cv]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search = optuna_search(_pipe(), cv=splitter, enable_pruning=True, n_trials=1)
    leaks = [w for w in caught if "issue #317" in str(w.message)]
    assert bool(leaks) == warns
    assert isinstance(search.estimator, PartialFitPipeline)
    assert set(search.param_distributions) == set(search_space(_pipe()))


def test_optuna_search_prunes_a_pipeline():
    """Check that a pruning optuna_search trains a pipeline and reports each epoch."""
    import optuna

    from sklstm.tuning import optuna_search

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.simplefilter("ignore", FutureWarning)  # optuna-integration 5.0
        search = optuna_search(
            _pipe(),
            search_space(_pipe(), include=["hidden_size"]),
            cv=TimeSeriesSplit(2),
            enable_pruning=True,
            max_iter=3,
            n_trials=3,
            random_state=0,
        ).fit(TABLE, Y)
    steps = [len(t.intermediate_values) for t in search.study_.trials]
    assert max(steps) == 3  # trained and reported epoch by epoch


def test_hyperband_pruner_prunes_too():
    """Check that a Hyperband pruner also prunes trials and saves training."""
    import optuna

    from sklstm.tuning import optuna_search

    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=0),
        pruner=optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=6, reduction_factor=2
        ),
    )
    space = search_space(_pipe(), include=["hidden_size", "lr"])
    space["lstm__lr"] = type(space["lstm__lr"])(1e-5, 3e-2, log=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optuna_search(
            _pipe(),
            space,
            cv=TimeSeriesSplit(2),
            enable_pruning=True,
            max_iter=6,
            n_trials=8,
            study=study,
            random_state=0,
        ).fit(TABLE, Y)
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    assert pruned and sum(len(t.intermediate_values) for t in study.trials) < 8 * 6


def test_a_diverging_optuna_trial_is_failed():
    """Check that a NaN loss makes the Optuna trial FAIL, never COMPLETE."""
    import optuna
    from optuna.distributions import CategoricalDistribution

    from sklstm.tuning import optuna_search

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    space = {"lstm__lr": CategoricalDistribution([1e-3, 1e30])}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search = optuna_search(
            _pipe(), space, cv=TimeSeriesSplit(2), n_trials=4, random_state=0
        ).fit(TABLE, Y * 1e3)
    states = {t.params["lstm__lr"]: t.state for t in search.study_.trials}
    assert states[1e30] == optuna.trial.TrialState.FAIL
    assert states[1e-3] == optuna.trial.TrialState.COMPLETE
    assert search.best_params_ == {"lstm__lr": 1e-3}


def test_optuna_search_refuses_unknown_names_up_front():
    """Check that optuna_search refuses unknown parameter names before searching."""
    from optuna.distributions import IntDistribution

    from sklstm.tuning import optuna_search

    with pytest.raises(
        ValueError, match=r"'lstm__hiden_size' \(closest: \['lstm__hidden_size'"
    ):
        optuna_search(_pipe(), {"lstm__hiden_size": IntDistribution(4, 8)})
    with pytest.raises(ValueError, match="'units'"):
        optuna_search(LSTMRegressor(), {"units": IntDistribution(4, 8)})
