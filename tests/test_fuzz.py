"""Fuzz tests (hypothesis) over what reads untrusted input: the estimators'
input normaliser, the windower and ``load``. The only allowed outcomes are a
finite result of the right shape or a ValueError/TypeError (ModelFileError is
a ValueError): never another exception, a hang, NaN where data was, or a
model that predicts NaN."""

import json
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays
from safetensors import safe_open
from safetensors.torch import save_file

import sklstm
from sklstm import LSTMClassifier, LSTMRegressor, SequenceWindower
from sklstm._persistence import _digest

SETTINGS = settings(
    max_examples=int(os.environ.get("SKLSTM_FUZZ_EXAMPLES", 150)),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
CLEAR = (ValueError, TypeError)

# numbers a user's data can hold, hostile ones included
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**70), 2**70),
    st.sampled_from([0.0, -0.0, 1e-320, 1e308, -1e308, 1e300]),
)
SCALARS = st.one_of(NUMBERS, st.booleans(), st.none(), st.text(max_size=3))


def _ragged(draw_elements):
    rows = st.lists(st.lists(draw_elements, min_size=0, max_size=3), max_size=6)
    return st.lists(st.one_of(rows, draw_elements), max_size=6)


INPUTS = st.one_of(
    arrays(
        st.sampled_from(
            [np.float64, np.float32, np.int64, np.uint8, np.bool_, np.complex64]
        ),
        array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5),
    ),
    arrays(
        np.float64,
        array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6),
        elements=st.floats(allow_nan=True, allow_infinity=True),
    ),
    arrays(object, array_shapes(max_dims=3, max_side=4), elements=SCALARS),
    arrays(np.str_, array_shapes(max_dims=2, max_side=4)),
    _ragged(SCALARS),
    _ragged(NUMBERS),
    st.lists(
        arrays(np.float64, array_shapes(min_dims=1, max_dims=3, max_side=5)),
        max_size=5,
    ),
    st.builds(
        pd.DataFrame,
        arrays(np.float64, st.tuples(st.integers(0, 5), st.integers(0, 4))),
    ),
    SCALARS,
)


def _valid_values(sequences):
    """Every value inside a sample's valid steps."""
    starts, lengths = sequences.bounds()
    rows = [sequences.table[s : s + n] for s, n in zip(starts, lengths, strict=True)]
    return np.concatenate(rows) if rows else np.empty((0, 1))


@SETTINGS
@given(X=INPUTS, classifier=st.booleans())
def test_the_input_normaliser_reads_or_refuses_clearly(X, classifier):
    """Check that the estimators' input normaliser reads any input into valid sequences
    or refuses it with a ValueError or TypeError."""
    est = LSTMClassifier() if classifier else LSTMRegressor()
    try:
        sequences = est._check_X(X, reset=True)
    except CLEAR:
        return
    n, steps, channels = sequences.shape
    assert n >= 1 and steps >= 1 and channels >= 1
    assert est.n_channels_in_ == channels
    values = _valid_values(sequences)
    assert values.shape[1] == channels
    assert not np.isinf(sequences.table).any()
    # NaN is padding: a valid step has at least one value
    assert not np.isnan(values).all(axis=1).any()


TABLES = st.one_of(
    arrays(
        np.float64,
        st.tuples(st.integers(0, 30), st.integers(0, 3)),
        elements=st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.sampled_from([1e300, -1e308, 0.0]),
        ),
    ),
    arrays(object, st.tuples(st.integers(1, 12), st.integers(1, 3)), elements=SCALARS),
    _ragged(NUMBERS),
)


@SETTINGS
@given(
    table=TABLES,
    window=st.one_of(st.integers(-3, 40), st.sampled_from([10**9, 2**62])),
    series_id=st.one_of(st.none(), st.integers(-2, 3)),
)
def test_the_windower_windows_or_refuses_clearly(table, window, series_id):
    """Check that the windower windows any table to the right shape or refuses it with a
    ValueError or TypeError."""
    windower = SequenceWindower(window, series_id=series_id)
    try:
        out = windower.fit_transform(table)
    except CLEAR:
        return
    rows, columns = np.shape(table)
    channels = columns - (series_id is not None)
    assert out.shape == (rows, window, channels)
    assert not np.isinf(out).any() or np.isinf(np.asarray(table, float)).any()


# -- load ------------------------------------------------------------------------

rng = np.random.default_rng(0)
X3 = rng.normal(size=(20, 5, 2))


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "model.sklstm"
    return sklstm.save(
        LSTMRegressor(hidden_size=3, max_epochs=1, random_state=0).fit(
            X3, X3[:, -1, 0]
        ),
        path,
    )


def _loads_to_a_working_model_or_refuses(path):
    try:
        model = sklstm.load(path)
    except ValueError:  # ModelFileError is one
        return
    prediction = model.predict(X3)
    assert prediction.shape == (len(X3),) and np.isfinite(prediction).all()


@SETTINGS
@given(data=st.data())
def test_load_survives_damaged_bytes(model_file, tmp_path, data):
    """Check that load refuses a file with damaged bytes or gives a working model."""
    raw = bytearray(model_file.read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        at = data.draw(st.integers(0, len(raw) - 1))
        if kind == "flip":
            raw[at] ^= 1 << data.draw(st.integers(0, 7))
        elif kind == "cut":
            del raw[at:]
            if not raw:
                break
        else:
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=8))
    path = tmp_path / "damaged.sklstm"
    path.write_bytes(bytes(raw))
    _loads_to_a_working_model_or_refuses(path)


JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**20), 10**20),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=5),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(max_size=8), inner, max_size=3),
    ),
    max_leaves=8,
)


def _paths(node, prefix=()):
    """Every place in a JSON document a value could be swapped."""
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


@SETTINGS
@given(data=st.data())
def test_load_survives_forged_documents(model_file, tmp_path, data):
    """Check that load survives a forger's edits, re-signed so that the hash passes: any
    value of the document swapped for any JSON value."""
    with safe_open(str(model_file), framework="pt") as f:
        document = json.loads(f.metadata()["sklstm"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    places = [p for p in _paths(document) if p]
    for _ in range(data.draw(st.integers(1, 3))):
        place = data.draw(st.sampled_from(places))
        node = document
        try:
            for key in place[:-1]:
                node = node[key]
            node[place[-1]] = data.draw(JSON)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier swap removed this place
    text = json.dumps(document)
    path = tmp_path / "forged.sklstm"
    save_file(
        tensors, str(path), metadata={"sklstm": text, "sha256": _digest(text, tensors)}
    )
    _loads_to_a_working_model_or_refuses(path)
