"""Searches and cross-validation on a real Dask cluster (``sklstm[dask]``).

A ``distributed.LocalCluster`` of two worker processes, one thread each, runs
scikit-learn's searches over sklstm pipelines under
``joblib.parallel_backend("dask")``; every result must equal loky's.
"""

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

import joblib  # noqa: E402
from sklearn.experimental import enable_halving_search_cv  # noqa: E402, F401
from sklearn.model_selection import (  # noqa: E402
    GridSearchCV,
    HalvingRandomSearchCV,
    RandomizedSearchCV,
    TimeSeriesSplit,
    cross_validate,
)
from sklearn.pipeline import make_pipeline  # noqa: E402

from sklstm import LSTMRegressor, SequenceWindower  # noqa: E402

pytestmark = pytest.mark.xdist_group("dask")  # one cluster per run (loadgroup)
SERIES = np.sin(np.arange(240) / 5) + np.arange(240) / 240
X, Y = SERIES[:-1, None], SERIES[1:]
GRID = {"lstmregressor__hidden_size": [4, 8], "lstmregressor__lr": [1e-3, 1e-2]}


def pipeline():
    lstm = LSTMRegressor(hidden_size=4, max_epochs=2, random_state=0)
    return make_pipeline(SequenceWindower(8), lstm)


@pytest.fixture(scope="module")
def client():
    """Two worker processes, one thread each, started as docs/dask.md advises
    (without Dask's MALLOC_TRIM_THRESHOLD_); closed even when a test fails."""
    import dask

    key = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
    with dask.config.set({key: None}):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
    try:
        with distributed.Client(cluster) as c:
            yield c
    finally:
        cluster.close()


def _both(make_search):
    """The search fitted under Dask and under loky (two processes)."""
    with joblib.parallel_backend("dask"):
        on_dask = make_search().fit(X, Y)
    with joblib.parallel_backend("loky", n_jobs=2):
        on_loky = make_search().fit(X, Y)
    return on_dask, on_loky


def _same(a, b):
    np.testing.assert_allclose(
        a.cv_results_["mean_test_score"], b.cv_results_["mean_test_score"], rtol=1e-6
    )
    assert a.best_params_ == b.best_params_


def test_grid_and_randomized_search_equal_lokys(client):
    """Check that GridSearchCV and RandomizedSearchCV on the cluster give
    loky's scores and choices, and that both workers did work."""
    with distributed.get_task_stream(client) as stream:
        _same(*_both(lambda: GridSearchCV(pipeline(), GRID, cv=TimeSeriesSplit(2))))
    assert len({task["worker"] for task in stream.data}) == 2  # both worked
    _same(
        *_both(
            lambda: RandomizedSearchCV(
                pipeline(), GRID, n_iter=3, cv=TimeSeriesSplit(2), random_state=0
            )
        )
    )


def test_halving_search_and_cross_validate_equal_lokys(client):
    """Check successive halving and cross_validate on the cluster."""
    a, b = _both(
        lambda: HalvingRandomSearchCV(
            pipeline(),
            GRID,
            resource="lstmregressor__max_epochs",
            min_resources=1,
            max_resources=3,
            factor=2,
            cv=TimeSeriesSplit(2),
            random_state=0,
        )
    )
    _same(a, b)
    with joblib.parallel_backend("dask"):
        on_dask = cross_validate(pipeline(), X, Y, cv=TimeSeriesSplit(3))
    on_loky = cross_validate(pipeline(), X, Y, cv=TimeSeriesSplit(3), n_jobs=2)
    np.testing.assert_allclose(on_dask["test_score"], on_loky["test_score"], rtol=1e-6)


def test_workers_run_torch_at_one_thread_until_told_otherwise(client):
    """Check what docs/dask.md says: Dask's workers start torch at one thread
    (the nanny sets OMP_NUM_THREADS=1), and client.run(torch.set_num_threads, k)
    gives each worker k."""
    import os

    import torch

    assert set(client.run(torch.get_num_threads).values()) == {1}
    # the docs' advice took effect: glibc trims as it does outside Dask
    trim = client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_", "unset"))
    assert set(trim.values()) == {"unset"}
    client.run(torch.set_num_threads, 2)
    try:
        assert set(client.run(torch.get_num_threads).values()) == {2}
    finally:
        client.run(torch.set_num_threads, 1)
