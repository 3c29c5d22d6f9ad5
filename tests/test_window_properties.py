"""Property tests (hypothesis) for SequenceWindower, make_windows and the way
the estimators read windows through the table under them."""

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sklstm import SequenceWindower, make_windows
from sklstm._sequences import pad_ragged, read_array, read_list, read_ragged

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
    """Check that each window from SequenceWindower holds the table rows up to and
    including its own row, in order, with all-NaN steps before the table's start."""
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
    """Check that, with a series_id column, each window holds only rows of its own
    series, in order, with all-NaN steps before the series' start, and that the id
    column is dropped."""
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
    """Check that make_windows yields every window that fits at the given step, each
    paired with the next horizon values of the target column, and none that would run
    past the data."""
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


def _padded(seqs):
    """Left-aligned ``(n, steps, c)`` values of a ``Sequences`` (zeros after
    each sample's valid steps) and the lengths: what the estimators read."""
    starts, lengths = seqs.bounds()
    offsets = np.arange(seqs.steps)
    pad = offsets >= lengths[:, None]
    rows = np.where(pad, 0, starts[:, None] + offsets)
    values = seqs.table[rows].astype(np.float32)
    values[pad] = 0.0
    return values, lengths


def _as_read(X):
    return _padded(read_array(X))


@SETTINGS
@given(table=tables(), window=st.integers(1, 12), step=st.integers(1, 3))
def test_a_window_view_reads_like_its_copy(table, window, step):
    """Check that the estimators read a window view through its table and get the
    same samples as from a copy."""
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


def _reference(X):
    """Left-align sample by sample, the plain way; or the error it must raise."""
    nan = np.isnan(X)
    pad = nan.all(axis=2)
    for i, t in zip(*np.nonzero(nan.any(axis=2) & ~pad), strict=False):
        return f"Sample {i} has NaN in some but not all channels at time step {t}"
    for i in range(len(X)):
        if pad[i].all():
            return f"Sample {i} has no valid time step"
    for i in range(len(X)):
        valid = np.flatnonzero(~pad[i])
        if valid[-1] - valid[0] + 1 != len(valid):
            t = valid[0] + np.flatnonzero(pad[i, valid[0] :])[0]
            return f"Sample {i} has an all-NaN time step {t} between"
    lengths = (~pad).sum(axis=1)
    values = np.zeros(X.shape, dtype=np.float32)
    for i in range(len(X)):
        values[i, : lengths[i]] = X[i, ~pad[i]]
    return values, lengths


@SETTINGS
@given(
    table=tables(min_rows=2),
    window=st.integers(1, 6),
    step=st.integers(1, 3),
    data=st.data(),
)
def test_padding_is_found_as_sample_by_sample(table, window, step, data):
    """Check that, with random NaN cells and rows, the table-wide search agrees with
    a per-sample reference on every sample, or raises the same error."""
    rows = len(table)
    nan_rows = data.draw(st.lists(st.integers(0, rows - 1), max_size=rows))
    nan_cells = data.draw(st.lists(st.integers(0, rows - 1), max_size=2))
    table = table.copy()
    table[nan_rows] = np.nan
    table[nan_cells, 0] = np.nan
    for X in (
        SequenceWindower(window).fit_transform(table)[::step],  # a view
        np.array(SequenceWindower(window).fit_transform(table)),  # a copy
    ):
        expected = _reference(X)
        if isinstance(expected, str):
            with pytest.raises(ValueError, match=re.escape(expected)):
                read_array(X)
        else:
            values, lengths = _padded(read_array(X))
            np.testing.assert_array_equal(lengths, expected[1])
            np.testing.assert_array_equal(values, expected[0])


@SETTINGS
@given(
    lengths=st.lists(st.integers(1, 8), min_size=2, max_size=6),
    channels=st.integers(1, 2),
    data=st.data(),
)
def test_ragged_lists_read_like_their_padded_array(lengths, channels, data):
    """Check that a ragged list of sequences reads into the same left-aligned values
    and lengths as its NaN-padded array, or raises the same error."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    seqs = [rng.normal(size=(n, channels)) for n in lengths]
    for s in seqs:  # some all-NaN steps, anywhere
        s[data.draw(st.lists(st.integers(0, len(s) - 1), max_size=2))] = np.nan
    expected = _reference(pad_ragged(seqs))
    if len(set(lengths)) == 1:
        return  # equal lengths stack into one array: not the ragged path
    if isinstance(expected, str):
        with pytest.raises(ValueError, match=re.escape(expected)):
            read_ragged(read_list(seqs))
    else:
        values, got = _padded(read_ragged(read_list(seqs)))
        np.testing.assert_array_equal(got, expected[1])
        np.testing.assert_array_equal(values, expected[0])
