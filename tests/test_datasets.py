import numpy as np

from sklstm.datasets import (
    load_airline,
    load_basic_motions,
    load_gunpoint,
    load_japanese_vowels,
    load_sunspots,
)


def test_dataset_loaders():
    """Check that the bundled datasets load with the expected shapes and dtypes."""
    assert load_airline().shape == (144,)
    assert list(load_airline(as_frame=True).columns) == ["month", "passengers"]
    assert load_sunspots().shape == (309,)
    assert load_sunspots(frequency="monthly").shape == (3126,)
    X, y = load_gunpoint()
    assert X.shape == (50, 150) and X.dtype == np.float64 and set(y) == {"1", "2"}
    X, y = load_gunpoint(split="test")
    assert X.shape == (150, 150)
    X, y = load_japanese_vowels(split="test")
    assert len(X) == 370 == len(y) and X[0].shape[1] == 12
    assert {len(x) for x in X} <= set(range(7, 30))
    X, y = load_basic_motions(split="test")
    assert X.shape == (40, 100, 6) and X.dtype == np.float64
    assert sorted(set(y)) == ["badminton", "running", "standing", "walking"]
    long = load_basic_motions(as_frame=True)
    first = long[long["series_id"] == 3].sort_values("timestep")
    np.testing.assert_array_equal(load_basic_motions()[0][3], first.filter(like="dim_"))
