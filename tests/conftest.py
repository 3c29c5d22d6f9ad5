import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def _seed():
    """Seed numpy and torch so that every test sees the same random numbers."""
    np.random.seed(0)  # noqa: NPY002 -- random_state=None draws from this global RNG
    torch.manual_seed(0)


@pytest.fixture
def sine_windows():
    """The seed article's task: windows of 10 of sin(0..100) and the next value."""
    series = np.sin(np.arange(0, 100, 0.1))
    X = np.lib.stride_tricks.sliding_window_view(series, 10)[:-1]
    y = series[10:]
    return X, y


@pytest.fixture
def small_regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 8, 2))
    y = X[:, -3:, 0].sum(axis=1) - X[:, :, 1].mean(axis=1)
    return X, y


@pytest.fixture
def small_classification():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 8, 2))
    y = np.where(X[:, :, 0].mean(axis=1) > 0, "up", "down")
    return X, y


def pytest_configure(config):
    """Under pytest-xdist (``make test`` runs two workers on two cores), each
    worker keeps torch to one thread, so the workers do not fight for cores."""
    import os

    if os.environ.get("PYTEST_XDIST_WORKER"):
        torch.set_num_threads(1)
