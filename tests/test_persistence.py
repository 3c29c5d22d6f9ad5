"""sklstm.save / sklstm.load: one safetensors file, JSON metadata, no pickle."""

import json
import pickle
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, StandardScaler

import sklstm
from sklstm import (
    LSTMClassifier,
    LSTMRegressor,
    ModelFileError,
    SequenceScaler,
    SequenceWindower,
)
from sklstm._persistence import _digest

FAST = dict(hidden_size=6, max_epochs=2, batch_size=16, random_state=0)
rng = np.random.default_rng(0)
X3 = rng.normal(size=(40, 7, 2))
LABELS = np.where(X3[:, -1, 0] > 0, "up", "down")


def _tokens():
    T = rng.integers(1, 30, size=(40, 6))
    T[:5, :2] = 0
    return T, (T[:, 1] > 15).astype(int)


CONFIGS = {
    "regressor-last": lambda: (LSTMRegressor(**FAST), X3, X3[:, -1, 0]),
    "regressor-mean-bidirectional": lambda: (
        LSTMRegressor(pooling="mean", bidirectional=True, num_layers=2, **FAST),
        X3,
        X3[:, -1, 0],
    ),
    "regressor-multi-output": lambda: (
        LSTMRegressor(pooling="max", **FAST),
        X3,
        X3[:, -2:, 0],
    ),
    "regressor-attention-conv": lambda: (
        LSTMRegressor(pooling="attention", conv_channels=(4, 5), **FAST),
        X3,
        X3[:, 0, 1],
    ),
    "regressor-ragged": lambda: (
        LSTMRegressor(**FAST),
        [x[: 3 + i % 4] for i, x in enumerate(X3)],
        X3[:, 0, 0],
    ),
    "classifier-strings-class-weight": lambda: (
        LSTMClassifier(class_weight={"up": 2.0, "down": 1.0}, **FAST),
        X3,
        LABELS,
    ),
    "classifier-int-labels-balanced": lambda: (
        LSTMClassifier(class_weight="balanced", init="keras", **FAST),
        X3,
        (LABELS == "up").astype(int) * 3,
    ),
    "classifier-embedding": lambda: (
        LSTMClassifier(embedding_dim=4, **FAST),
        *_tokens(),
    ),
    "classifier-frames-flatten": lambda: (
        LSTMClassifier(conv_channels=(3,), frame_pooling="flatten", **FAST),
        rng.normal(size=(20, 3, 6, 6, 2)),
        np.arange(20) % 2,
    ),
    "regressor-conv-batch-norm": lambda: (
        LSTMRegressor(conv_channels=(3, 4), conv_batch_norm=True, **FAST),
        [x[: 3 + i % 4] for i, x in enumerate(X3)],
        X3[:, 0, 0],
    ),
    "regressor-dataframe": lambda: (
        LSTMRegressor(**FAST),
        pd.DataFrame(X3[:, :, 0], columns=[f"t{i}" for i in range(7)]),
        X3[:, -1, 1],
    ),
}


def _outputs(est, X):
    return est.predict_proba(X) if hasattr(est, "predict_proba") else est.predict(X)


@pytest.mark.parametrize("config", CONFIGS, ids=list(CONFIGS))
def test_round_trip_predicts_identically_and_trains_on(config, tmp_path):
    """Check that a saved and loaded estimator keeps its type, parameters, outputs,
    history, fitted attributes and summary, and that one more epoch of partial_fit
    gives the same outputs as the original's."""
    est, X, y = CONFIGS[config]()
    est.fit(X, y)
    path = sklstm.save(est, tmp_path / "model.sklstm")
    loaded = sklstm.load(path)
    assert type(loaded) is type(est)
    assert loaded.get_params() == est.get_params()
    np.testing.assert_array_equal(_outputs(loaded, X), _outputs(est, X))
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    assert loaded.history_ == est.history_
    for name in ("classes_", "feature_names_in_", "y_mean_"):
        if hasattr(est, name):
            np.testing.assert_array_equal(getattr(loaded, name), getattr(est, name))
            assert getattr(loaded, name).dtype == getattr(est, name).dtype
    assert loaded.summary() == est.summary()
    # optimizer and random state came along: one more epoch matches exactly
    est.partial_fit(X, y)
    loaded.partial_fit(X, y)
    np.testing.assert_array_equal(_outputs(loaded, X), _outputs(est, X))


def test_pickle_keeps_working_beside_save(tmp_path):
    """Check that a fitted estimator still predicts identically after a pickle round
    trip."""
    est = LSTMRegressor(**FAST).fit(X3, X3[:, -1, 0])
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X3), est.predict(X3))


def test_load_leaves_torchs_random_state_alone(tmp_path):
    """Check that loading a model file leaves torch's global random state unchanged."""
    path = sklstm.save(LSTMRegressor(**FAST).fit(X3, X3[:, 0, 0]), tmp_path / "m")
    before = torch.get_rng_state()
    sklstm.load(path)
    assert torch.equal(before, torch.get_rng_state())


class _Payload:
    """Unpickling this touches a marker file: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_a_pickle_payload_is_refused_without_running(tmp_path):
    """Check that a pickle or a torch checkpoint holding a code-running payload is
    refused as not an sklstm model file, without the payload running."""
    marker = tmp_path / "pwned"
    path = tmp_path / "model.sklstm"
    path.write_bytes(pickle.dumps(_Payload(str(marker))))
    with pytest.raises(ModelFileError, match="is not an sklstm model file"):
        sklstm.load(path)
    assert not marker.exists()
    torch.save({"x": _Payload(str(marker))}, path)  # a torch checkpoint: pickle too
    with pytest.raises(ModelFileError, match="is not an sklstm model file"):
        sklstm.load(path)
    assert not marker.exists()


@pytest.fixture
def saved(tmp_path):
    est = LSTMClassifier(**FAST).fit(X3, LABELS)
    return sklstm.save(est, tmp_path / "model.sklstm")


def test_a_truncated_file_is_refused(saved):
    """Check that a model file cut short at any point is refused as not an sklstm
    model file."""
    data = saved.read_bytes()
    for cut in (4, len(data) // 2, len(data) - 1):
        saved.write_bytes(data[:cut])
        with pytest.raises(ModelFileError, match="not an sklstm model file"):
            sklstm.load(saved)


def test_altered_weights_are_refused(saved):
    """Check that a model file with a flipped byte in its weights is refused as
    altered or damaged."""
    data = bytearray(saved.read_bytes())
    data[-3] ^= 0xFF  # a bit of the last tensor
    saved.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="altered or damaged"):
        sklstm.load(saved)


def _header(path):
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def _rewrite(path, header, body):
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + body)


def test_altered_metadata_is_refused(saved):
    """Check that a model file whose metadata was edited is refused as altered or
    damaged."""
    header, body = _header(saved)
    document = json.loads(header["__metadata__"]["sklstm"])
    document["params"]["hidden_size"] = 7
    header["__metadata__"]["sklstm"] = json.dumps(document, sort_keys=True)
    _rewrite(saved, header, body)
    with pytest.raises(ModelFileError, match="altered or damaged"):
        sklstm.load(saved)


def test_a_newer_format_says_so(saved):
    """Check that a model file of a newer format version is refused with a message
    naming that version as newer."""
    header, body = _header(saved)
    document = json.loads(header["__metadata__"]["sklstm"])
    document["format_version"] = 99
    header["__metadata__"]["sklstm"] = json.dumps(document, sort_keys=True)
    _rewrite(saved, header, body)
    with pytest.raises(ModelFileError, match="format version 99, newer than"):
        sklstm.load(saved)


def test_foreign_files_are_refused(tmp_path):
    """Check that a safetensors file with no 'sklstm' entry and a plain text file are
    refused, and that a missing path raises FileNotFoundError."""
    other = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(3)}, other, metadata={"framework": "x"})
    with pytest.raises(ModelFileError, match="has no 'sklstm' entry"):
        sklstm.load(other)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ModelFileError, match="not an sklstm model file"):
        sklstm.load(text)
    with pytest.raises(FileNotFoundError, match="No model file"):
        sklstm.load(tmp_path / "missing.sklstm")


def test_what_cannot_be_saved_says_why(tmp_path):
    """Check that save refuses an unfitted estimator, a RandomState random_state, a
    pipeline with a step it cannot save or a foreign last step, and a non-sklstm
    estimator, saying why each time and writing no file."""
    with pytest.raises(NotFittedError):
        sklstm.save(LSTMRegressor(), tmp_path / "m")
    est = LSTMRegressor(**FAST).fit(X3, X3[:, 0, 0])
    est.set_params(random_state=np.random.RandomState(0))
    with pytest.raises(TypeError, match="parameter random_state is a RandomState"):
        sklstm.save(est, tmp_path / "m")
    table = X3[:, 0, :]
    pipe = make_pipeline(
        FunctionTransformer(np.tanh), SequenceWindower(3), LSTMRegressor(**FAST)
    ).fit(table, table[:, 0])
    with pytest.raises(TypeError, match="'functiontransformer', a FunctionTransformer"):
        sklstm.save(pipe, tmp_path / "m")
    pipe = make_pipeline(StandardScaler(), Ridge()).fit(table, table[:, 0])
    with pytest.raises(TypeError, match="last step 'ridge' is a Ridge"):
        sklstm.save(pipe, tmp_path / "m")
    with pytest.raises(TypeError, match="got StandardScaler"):
        sklstm.save(StandardScaler().fit(table), tmp_path / "m")
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_pipelines_round_trip(tmp_path):
    """Check that a pipeline of whitelisted steps comes back whole and exact."""
    table = pd.DataFrame(X3[:, 0, :] * 50 + 7, columns=["a", "b"])
    forecaster = make_pipeline(
        StandardScaler(), "passthrough", SequenceWindower(4), LSTMRegressor(**FAST)
    ).fit(table, table["a"].shift(-1).fillna(0))
    classifier = make_pipeline(
        SequenceScaler(MinMaxScaler((-1, 1))), LSTMClassifier(**FAST)
    ).fit(X3, LABELS)
    for pipe, X in ((forecaster, table), (classifier, X3)):
        back = sklstm.load(sklstm.save(pipe, tmp_path / "p.sklstm"))
        assert [n for n, _ in back.steps] == [n for n, _ in pipe.steps]
        assert [type(s) for _, s in back.steps] == [type(s) for _, s in pipe.steps]
        np.testing.assert_array_equal(back.predict(X), pipe.predict(X))
    scaler = sklstm.load(tmp_path / "p.sklstm")[0]
    assert isinstance(scaler.scaler, MinMaxScaler) and scaler.scaler.feature_range == (
        -1,
        1,
    )


def test_a_pipeline_file_with_a_foreign_step_is_refused(tmp_path):
    """Check that a re-signed pipeline file whose step names an unknown class or
    carries unexpected fitted attributes is refused on load."""
    pipe = make_pipeline(StandardScaler(), SequenceWindower(3), LSTMRegressor(**FAST))
    pipe.fit(X3[:, 0, :], X3[:, 0, 0])
    path = sklstm.save(pipe, tmp_path / "p.sklstm")
    with safe_open(str(path), framework="pt") as f:
        document = json.loads(f.metadata()["sklstm"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}

    def _write(path, document, tensors):  # re-signed: the digest matches
        text = json.dumps(document, sort_keys=True)
        metadata = {"sklstm": text, "sha256": _digest(text, tensors)}
        save_file(tensors, str(path), metadata=metadata)

    document["steps"][0][1]["class"] = "FunctionTransformer"
    _write(path, document, tensors)
    with pytest.raises(ModelFileError, match="unknown class 'FunctionTransformer'"):
        sklstm.load(path)
    document["steps"][0][1]["class"] = "StandardScaler"
    document["steps"][0][1]["fitted"]["transform"] = "boom"
    _write(path, document, tensors)
    with pytest.raises(ModelFileError, match="unexpected attributes"):
        sklstm.load(path)


def test_a_failed_save_keeps_the_old_file(saved, monkeypatch):
    """Check that a save that fails part-way leaves the existing model file unchanged
    and no other file beside it."""
    before = saved.read_bytes()
    est = LSTMRegressor(**FAST).fit(X3, X3[:, 0, 0])

    def broken(*args, **kwargs):
        Path(args[1]).write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr("safetensors.torch.save_file", broken)
    with pytest.raises(OSError, match="disk full"):
        sklstm.save(est, saved)
    assert saved.read_bytes() == before
    assert [p.name for p in saved.parent.iterdir()] == [saved.name]
