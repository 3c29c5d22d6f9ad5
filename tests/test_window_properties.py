"""Property tests (hypothesis) for SequenceWindower, make_windows and the way
the estimators read windows through the table under them."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sklstm import SequenceWindower, make_windows
from sklstm._sequences import read_array

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def tables(draw, min_rows=1):
    rows = draw(st.integers(min_rows, 40))
    cols = draw(st.integers(1, 3))
    return draw(
        arrays(np.float64, (rows, cols), elements=st.floats(-1e6, 1e6, width=32))
    )


@SETTINGS
@given(table=tables(), window=st.integers(1, 12))
def test_every_window_holds_the_rows_it_claims(table, window):
    out = SequenceWindower(window).fit_transform(table)
    assert out.shape == (len(table), window, table.shape[1])
    for i in range(len(table)):
        for t in range(window):
            row = i - window + 1 + t
            if row < 0:
                assert np.isnan(out[i, t]).all()
            else:
                np.testing.assert_array_equal(out[i, t], table[row])


@SETTINGS
@given(
    table=tables(),
    window=st.integers(1, 8),
    data=st.data(),
)
def test_no_window_crosses_a_series_boundary(table, window, data):
    ids = np.array(
        data.draw(
            st.lists(
                st.sampled_from([7, 8, 9]), min_size=len(table), max_size=len(table)
            )
        )
    )
    with_id = np.column_stack([table[:, :1], ids, table[:, 1:]])
    out = SequenceWindower(window, series_id=1).fit_transform(with_id)
    assert out.shape == (len(table), window, table.shape[1])
    for i in range(len(table)):
        own = np.flatnonzero(ids == ids[i])  # rows of this series, in order
        position = int(np.searchsorted(own, i))
        for t in range(window):
            p = position - window + 1 + t
            if p < 0:
                assert np.isnan(out[i, t]).all()
            else:
                np.testing.assert_array_equal(out[i, t], table[own[p]])


@SETTINGS
@given(
    table=tables(min_rows=2),
    window=st.integers(1, 10),
    horizon=st.integers(1, 5),
    step=st.integers(1, 4),
    data=st.data(),
)
def test_make_windows_targets_line_up(table, window, horizon, step, data):
    rows, cols = table.shape
    if rows < window + horizon:
        return
    target = data.draw(st.integers(0, cols - 1))
    X, y = make_windows(table, window, horizon=horizon, target=target, step=step)
    n = (rows - window - horizon) // step + 1
    assert X.shape == (n, window, cols)
    assert y.shape == ((n,) if horizon == 1 else (n, horizon))
    y2 = y.reshape(n, horizon)
    for k in range(n):
        np.testing.assert_array_equal(X[k], table[k * step : k * step + window])
        ahead = table[k * step + window : k * step + window + horizon, target]
        np.testing.assert_array_equal(y2[k], ahead)
    # the next window would run past the data
    assert (n * step) + window + horizon > rows


def _as_read(X):
    seqs = read_array(X)
    values, lengths = seqs.padded()
    return values, lengths


@SETTINGS
@given(table=tables(), window=st.integers(1, 12), step=st.integers(1, 3))
def test_a_window_view_reads_like_its_copy(table, window, step):
    """The estimators read a view through its table: same samples as a copy."""
    view = SequenceWindower(window).fit_transform(table)[::step]
    v1, l1 = _as_read(view)
    v2, l2 = _as_read(np.array(view))
    np.testing.assert_array_equal(l1, l2)
    np.testing.assert_array_equal(v1, v2)
    if len(view) > 1 and step < window:
        # read through the table, not copied: one row per step of the view
        assert len(read_array(view).table) == (len(view) - 1) * step + window
    # left-aligned: valid steps first, in order, then zeros
    for i, row in enumerate(range(0, len(table), step)):
        valid = table[max(0, row - window + 1) : row + 1].astype(np.float32)
        assert l1[i] == len(valid)
        np.testing.assert_array_equal(v1[i, : l1[i]], valid)
        assert not v1[i, l1[i] :].any()
