import numpy as np
import pandas as pd
import pytest

from sklstm import LSTMRegressor, SequenceWindower, make_windows


def test_windower_keeps_rows_and_pads_the_start():
    """Check that window i holds rows i-w+1..i with NaN before the table."""
    table = np.arange(20.0).reshape(10, 2)
    out = SequenceWindower(3).fit_transform(table)
    assert out.shape == (10, 3, 2)
    for i in range(10):
        for k in range(3):
            row = i - 2 + k
            expected = table[row] if row >= 0 else [np.nan, np.nan]
            np.testing.assert_array_equal(out[i, k], expected)


def test_windower_memory_grows_with_the_table_not_the_window():
    """Check that windowing allocates about the table's size, not window times it."""
    import tracemalloc

    table = np.random.default_rng(0).normal(size=(100_000, 3))
    win = SequenceWindower(100).fit(table)
    tracemalloc.start()
    out = win.transform(table)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert out.shape == (100_000, 100, 3)
    # a materialised copy would take 100 x the table (240 MB here)
    assert peak < 1.5 * table.nbytes
    np.testing.assert_array_equal(out[-1], table[-100:])


def test_series_never_share_a_window():
    """Check that stacked series are windowed separately and the id is dropped."""
    df = pd.DataFrame(
        {"store": ["a", "b", "a", "b", "a"], "sales": [1.0, 10, 2, 20, 3]}
    )
    win = SequenceWindower(2, series_id="store").fit(df)
    out = win.transform(df)
    assert out.shape == (5, 2, 1)
    np.testing.assert_array_equal(
        out[:, :, 0], [[np.nan, 1], [np.nan, 10], [1, 2], [10, 20], [2, 3]]
    )
    assert list(win.get_feature_names_out()) == ["sales"]


def test_windower_feature_names_and_errors():
    """Check that the windower gives feature names out, and clear errors for a bad
    series_id and window."""
    df = pd.DataFrame({"a": [1.0, 2], "b": [3.0, 4]})
    assert list(SequenceWindower(2).fit(df).get_feature_names_out()) == ["a", "b"]
    with pytest.raises(ValueError, match="series_id='c' is not a column"):
        SequenceWindower(2, series_id="c").fit(df)
    with pytest.raises(ValueError, match="series_id=5 is not a column index"):
        SequenceWindower(2, series_id=5).fit(df.to_numpy())
    with pytest.raises(ValueError, match="'window' parameter"):
        SequenceWindower(0).fit(df)
    with pytest.raises(ValueError, match="Expected 2D"):
        SequenceWindower(2).fit(np.ones(5))


def test_make_windows_targets_line_up():
    """Check that make_windows' inputs line up with one-step and multi-step targets."""
    data = np.arange(10.0)
    X, y = make_windows(data, 3)
    assert X.shape == (7, 3, 1) and y.shape == (7,)
    np.testing.assert_array_equal(y, X[:, -1, 0] + 1)
    X, y = make_windows(data, 3, horizon=2, step=2)
    np.testing.assert_array_equal(X[:, 0, 0], [0, 2, 4])
    np.testing.assert_array_equal(y, [[3, 4], [5, 6], [7, 8]])


def test_make_windows_on_dataframe_target():
    """Check that make_windows takes a named target column in a DataFrame."""
    df = pd.DataFrame({"x": np.arange(6.0), "y": np.arange(6.0) * 10})
    X, y = make_windows(df, 2, target="y")
    assert X.shape == (4, 2, 2)
    np.testing.assert_array_equal(y, [20, 30, 40, 50])
    with pytest.raises(ValueError, match="target 'z' is not a column"):
        make_windows(df, 2, target="z")
    with pytest.raises(ValueError, match="needs at least 7"):
        make_windows(df, 6)


def test_window_longer_than_the_table_pads_and_still_trains():
    """Check that with window > rows each window ends at a real row, and trains."""
    table = np.arange(6.0).reshape(3, 2)
    out = SequenceWindower(5).fit_transform(table)
    assert out.shape == (3, 5, 2)
    assert np.isnan(out[0, :4]).all() and (out[0, 4] == table[0]).all()
    reg = LSTMRegressor(4, max_epochs=2, random_state=0).fit(out, [1.0, 2.0, 3.0])
    assert reg.predict(out).shape == (3,)


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.ones((0, 2)), "0 sample"),
        (
            np.ones((3, 2, 2)),
            r"2-D table \(n_rows, n_features\); got shape \(3, 2, 2\)",
        ),
    ],
)
def test_windower_refuses_what_is_not_a_table(bad, match):
    """Check that the windower refuses an empty or 3-D input, asking for a table."""
    with pytest.raises(ValueError, match=match):
        SequenceWindower(2).fit(bad)


def test_estimators_train_on_the_view_as_on_a_copy():
    """Check that reading windows through their table changes nothing."""
    series = np.sin(np.arange(300) / 5.0)[:, None]
    X = SequenceWindower(12).fit_transform(series)
    y = np.r_[series[1:, 0], 0.0]
    fast = dict(hidden_size=8, max_epochs=3, random_state=0)
    a = LSTMRegressor(**fast, bidirectional=True).fit(X, y).predict(X)
    b = LSTMRegressor(**fast, bidirectional=True).fit(np.array(X), y).predict(X)
    np.testing.assert_array_equal(a, b)


def test_partial_nan_in_a_window_names_sample_and_step():
    """Check that a step partly NaN in a window is refused, naming sample and step."""
    table = np.ones((10, 2))
    table[6, 1] = np.nan  # impute first, e.g. SimpleImputer before the windower
    X = SequenceWindower(4).fit_transform(table)
    with pytest.raises(ValueError, match="Sample 6 has NaN in some but not all"):
        LSTMRegressor(max_epochs=1).fit(X, np.ones(10))


def test_multi_step_forecast_from_make_windows():
    """Check that direct multi-step forecasting works: y (n, 12) in, (n, 12) out."""
    series = np.sin(np.arange(200) / 6.0)
    X, y = make_windows(series, 24, horizon=12)
    assert y.shape == (len(X), 12)
    reg = LSTMRegressor(16, max_epochs=40, lr=1e-2, random_state=0).fit(X, y)
    pred = reg.predict(X)
    assert pred.shape == (len(X), 12) and reg.n_outputs_ == 12
    assert np.mean((pred - y) ** 2) < 0.1 * y.var()


def test_fit_and_predict_do_not_copy_the_windows():
    """Check that the estimators read a window view through its table: numpy
    allocations during fit and predict stay near the table's size, far from the
    window array's (a check_array or ascontiguousarray on X would cost 100x)."""
    import tracemalloc

    series = np.random.default_rng(0).normal(size=(40_000, 1))
    X = SequenceWindower(100).fit_transform(series)
    y = np.r_[series[1:, 0], 0.0]
    reg = LSTMRegressor(2, max_epochs=1, batch_size=8192, random_state=0)
    tracemalloc.start()
    reg.fit(X, y)
    reg.predict(X)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    copied = X.shape[0] * X.shape[1] * 8  # the windows as float64: 32 MB
    assert peak < 10 * series.nbytes < copied / 5


def test_make_windows_targets_are_a_view_when_columns_are_adjacent():
    """Check that make_windows' targets are a view of the table when their columns are
    adjacent, and a copy otherwise."""
    table = np.arange(60.0).reshape(20, 3)
    for target in (None, 1, [1, 2]):
        _, y = make_windows(table, 4, target=target)
        assert np.shares_memory(y, table)
    _, y = make_windows(table, 4, target=[2, 0])
    assert not np.shares_memory(y, table)
    np.testing.assert_array_equal(y[0], [table[4, 2], table[4, 0]])


def test_pipelines_work_under_pandas_output():
    """Check that sklearn.set_config(transform_output="pandas"), set once for a
    session, leaves the 3-D windows as arrays ("Must pass 2-d input" before),
    and that Pipeline.set_output takes the sequence steps."""
    import sklearn
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from sklstm import LSTMRegressor, SequenceScaler

    rng = np.random.default_rng(0)
    table = rng.normal(size=(60, 2))
    with sklearn.config_context(transform_output="pandas"):
        pipe = make_pipeline(
            StandardScaler(),
            SequenceWindower(5),
            SequenceScaler(),
            LSTMRegressor(hidden_size=3, max_epochs=1, random_state=0),
        ).fit(table, table[:, 0])
        assert pipe.predict(table).shape == (60,)
        windows = pipe[:2].transform(table)
        assert isinstance(windows, np.ndarray) and windows.shape == (60, 5, 2)
    assert pipe[:3].set_output(transform="pandas") is not None
    with pytest.raises(ValueError, match="transform must be None"):
        SequenceWindower(3).set_output(transform="xarray")
