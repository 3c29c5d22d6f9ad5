"""The estimators inside scikit-learn's machinery."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from sklstm import LSTMClassifier, LSTMRegressor, SequenceWindower

FAST = dict(hidden_size=6, max_epochs=3, batch_size=32, random_state=0)


def _table(n=120):
    t = np.arange(n)
    return np.c_[np.sin(t / 5), np.cos(t / 7)], np.sin((t + 1) / 5)


def test_pipeline_with_windower_and_time_series_split():
    """Check that scaling, windowing and the LSTM work as one Pipeline under
    TimeSeriesSplit."""
    X, y = _table()
    pipe = make_pipeline(StandardScaler(), SequenceWindower(8), LSTMRegressor(**FAST))
    scores = cross_val_score(pipe, X, y, cv=TimeSeriesSplit(3), scoring="r2")
    assert scores.shape == (3,) and np.isfinite(scores).all()
    fitted = pipe.fit(X, y)
    assert fitted[-1].n_channels_in_ == 2 and fitted[-1].n_features_in_ == 8
    assert fitted.predict(X).shape == (120,)


def test_grid_search_with_time_series_split():
    """Check that GridSearchCV tunes LSTM hyperparameters with TimeSeriesSplit(3)."""
    X, y = _table()
    pipe = make_pipeline(SequenceWindower(6), LSTMRegressor(**FAST))
    grid = GridSearchCV(
        pipe,
        {
            "lstmregressor__hidden_size": [4, 8],
            "lstmregressor__pooling": ["last", "mean"],
        },
        cv=TimeSeriesSplit(3),
        error_score="raise",
    ).fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    assert grid.best_estimator_[-1].hidden_size in (4, 8)


def test_classifier_in_pipeline_and_search(small_classification):
    """Check that the classifier works in Pipeline, cross_val_score and GridSearchCV."""
    X, y = small_classification
    flat = FunctionTransformer(lambda a: a[:, :, 0])
    pipe = make_pipeline(flat, LSTMClassifier(**FAST))
    assert cross_val_score(pipe, X, y, cv=3).shape == (3,)
    grid = GridSearchCV(LSTMClassifier(**FAST), {"lr": [1e-3, 1e-2]}, cv=3).fit(X, y)
    assert grid.predict(X).shape == (60,)


def test_clone_of_fitted_pipeline_is_unfitted():
    """Check that clone gives an unfitted copy with equal parameters."""
    X, y = _table()
    pipe = make_pipeline(SequenceWindower(4), LSTMRegressor(**FAST)).fit(X, y)
    copy = clone(pipe)
    assert copy.get_params()["lstmregressor__hidden_size"] == 6
    assert not hasattr(copy[-1], "module_")


def test_pipeline_pickles(tmp_path):
    """Check that a fitted pipeline survives pickling with identical output."""
    import pickle

    X, y = _table()
    pipe = make_pipeline(SequenceWindower(4), LSTMRegressor(**FAST)).fit(X, y)
    back = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(pipe.predict(X), back.predict(X))


@pytest.mark.parametrize("n_jobs", [2])
def test_parallel_search_matches_serial(n_jobs):
    """Check that n_jobs>1 gives the same search results as serial."""
    X, y = _table(80)
    params = {"hidden_size": [4, 6]}
    Xw = SequenceWindower(5).fit_transform(X)
    serial = GridSearchCV(LSTMRegressor(**FAST), params, cv=TimeSeriesSplit(2)).fit(
        Xw, y
    )
    parallel = GridSearchCV(
        LSTMRegressor(**FAST), params, cv=TimeSeriesSplit(2), n_jobs=n_jobs
    ).fit(Xw, y)
    np.testing.assert_allclose(
        serial.cv_results_["mean_test_score"], parallel.cv_results_["mean_test_score"]
    )


def _worker_uses_psutil():
    from joblib.externals.loky import process_executor

    return process_executor._USE_PSUTIL


def test_search_workers_check_memory_instead_of_collecting_garbage():
    """Check that search workers use psutil instead of collecting garbage (joblib's
    workers without psutil run gc.collect() after tasks, at most once a second, 0.18
    s each with torch loaded; psutil is a dependency so they do not)."""
    from joblib import Parallel, delayed

    in_workers = Parallel(n_jobs=2)(delayed(_worker_uses_psutil)() for _ in range(2))
    assert in_workers == [True, True]
