"""Forged model files (issue 24, part 4): metadata edited and the SHA-256
recomputed, as anyone can. ``load`` must refuse each one as ModelFileError,
before building anything larger than the file, and never hand back a model
that predicts NaN or has lost its methods."""

import json
import struct
import time

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file
from sklearn.pipeline import make_pipeline

import sklstm
from sklstm import LSTMClassifier, LSTMRegressor, ModelFileError, SequenceWindower
from sklstm._persistence import _digest

FAST = dict(hidden_size=4, max_epochs=2, random_state=0)
rng = np.random.default_rng(0)
X = rng.normal(size=(24, 6, 2))
Y = X[:, -1, 0]


@pytest.fixture(scope="module")
def regressor_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("forged") / "model.sklstm"
    return sklstm.save(LSTMRegressor(**FAST).fit(X, Y), path)


def _read(path):
    with safe_open(str(path), framework="pt") as f:
        document = json.loads(f.metadata()["sklstm"])
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    return document, tensors


def _forge(path, out, edit):
    """Copy ``path`` to ``out`` with ``edit(document, tensors)`` applied and
    the digest recomputed, as a forger would."""
    document, tensors = _read(path)
    edit(document, tensors)
    text = json.dumps(document, sort_keys=True)
    save_file(
        tensors, str(out), metadata={"sklstm": text, "sha256": _digest(text, tensors)}
    )
    return out


def _architecture(key, value):
    """Set ``key`` alike in the parameters, the fitted architecture and the
    network's arguments: a consistent forgery."""

    def edit(document, tensors):
        encoded = {"__tuple__": list(value)} if isinstance(value, tuple) else value
        document["params"][key] = encoded
        document["fitted"]["_fitted_architecture"]["__dict__"][key] = encoded
        document["module"]["__dict__"][key] = encoded

    return edit


def _refused(path, match, seconds=5.0):
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match=match):
        sklstm.load(path)
    assert time.perf_counter() - start < seconds


def test_an_untouched_re_signed_file_still_loads(regressor_file, tmp_path):
    """Check that a file re-signed without edits still loads: the forging helper itself
    changes nothing it is not told to."""
    out = _forge(regressor_file, tmp_path / "same.sklstm", lambda d, t: None)
    np.testing.assert_array_equal(
        sklstm.load(out).predict(X), sklstm.load(regressor_file).predict(X)
    )


@pytest.mark.parametrize(
    "key, value, match",
    [
        ("hidden_size", 8000, "size of 8,000 but holds only"),
        ("hidden_size", 10**9, "size of 1,000,000,000"),
        ("num_layers", 100000, "size of 100,000"),
        ("num_layers", 100, "100 layers but holds only 9"),
        ("hidden_size", 5, "weights do not match"),
        ("num_layers", 2, "weights do not match"),
    ],
)
def test_sizes_the_weights_do_not_have_are_refused_before_building(
    regressor_file, tmp_path, key, value, match
):
    """Check that sizes the weights do not have are refused at once, from the file's own
    tensors (hidden_size=8000 in a small file peaked at 1.3 GB, 10**9 tried tens of
    GB and num_layers=100000 ran past a minute)."""
    out = _forge(regressor_file, tmp_path / "m.sklstm", _architecture(key, value))
    _refused(out, match)


def test_convolutions_larger_than_the_file_are_refused(regressor_file, tmp_path):
    """Check that convolution sizes larger than the file holds, or not whole numbers,
    are refused."""
    out = _forge(
        regressor_file,
        tmp_path / "m.sklstm",
        _architecture("conv_channels", (10**5, 10**5)),
    )
    _refused(out, "holds only")
    out = _forge(
        regressor_file,
        tmp_path / "f.sklstm",
        _architecture("conv_channels", (1e5, 1e5)),
    )
    _refused(out, "conv_channels")  # the estimator's own constraint


def test_network_arguments_must_agree_with_the_parameters(regressor_file, tmp_path):
    """Check that network arguments that disagree with the parameters are refused."""

    def edit(document, tensors):
        document["module"]["__dict__"]["hidden_size"] = 8000

    _refused(_forge(regressor_file, tmp_path / "m.sklstm", edit), "disagree")


@pytest.mark.parametrize("name", ["predict", "_validate_params", "__class__", "fit_"])
def test_only_attributes_fit_sets_are_accepted(regressor_file, tmp_path, name):
    """Check that only attributes fit sets are accepted (a fitted key named "predict"
    loaded and broke predict)."""

    def edit(document, tensors):
        document["fitted"][name] = 1

    _refused(_forge(regressor_file, tmp_path / "m.sklstm", edit), "never has")


def test_non_finite_weights_are_refused(regressor_file, tmp_path):
    """Check that a file whose weights hold NaN or infinity is refused."""

    def edit(document, tensors):
        tensors["module.head.weight"][0, 0] = float("nan")

    _refused(_forge(regressor_file, tmp_path / "m.sklstm", edit), "NaN or infinity")


@pytest.mark.parametrize("value", [float("inf"), 0.0, float("nan")])
def test_a_target_scale_that_is_not_finite_and_positive_is_refused(
    regressor_file, tmp_path, value
):
    """Check that a target scale that is not finite and positive is refused."""

    def edit(document, tensors):
        document["fitted"]["y_scale_"]["__ndarray__"] = [value]

    _refused(_forge(regressor_file, tmp_path / "m.sklstm", edit), "y_scale_")


@pytest.mark.parametrize("channels", [[], [2], [0, 0]])
def test_target_channels_must_name_one_input_channel_per_target(
    regressor_file, tmp_path, channels
):
    """Check that linked target channels are refused unless there is one per
    target and each is an input channel (an empty tuple once reached a
    division by zero in ``load``; found by test_fuzz)."""

    def edit(document, tensors):
        document["fitted"]["_target_channels"] = {"__tuple__": channels}

    _refused(_forge(regressor_file, tmp_path / "m.sklstm", edit), "_target_channels")


def test_optimizer_state_must_fit_its_parameters(regressor_file, tmp_path):
    """Check that optimizer state of the wrong shape, or for a parameter the model does
    not have, is refused."""

    def edit(document, tensors):
        tensors["optimizer.0.exp_avg"] = torch.zeros(3, 3)

    _refused(_forge(regressor_file, tmp_path / "m.sklstm", edit), "optimizer state")

    def extra(document, tensors):
        tensors["optimizer.99.exp_avg"] = torch.zeros(1)

    _refused(_forge(regressor_file, tmp_path / "n.sklstm", extra), "parameter '99'")


def test_random_states_and_unknown_tensors_are_refused(regressor_file, tmp_path):
    """Check that stored random-number states and unknown tensors are refused."""

    def edit(document, tensors):
        tensors["rng.cpu"] = torch.zeros(10**6, dtype=torch.uint8)

    _refused(_forge(regressor_file, tmp_path / "m.sklstm", edit), "random-number")

    def extra(document, tensors):
        tensors["payload"] = torch.zeros(4)

    _refused(_forge(regressor_file, tmp_path / "n.sklstm", extra), "unknown tensors")


def test_a_scheduler_state_cannot_hide_methods(regressor_file, tmp_path):
    """Check that a scheduler state that would shadow one of its methods is refused."""

    def edit(document, tensors):
        document["fitted"]["_scheduler_state"]["__dict__"]["step"] = 1

    _refused(_forge(regressor_file, tmp_path / "m.sklstm", edit), "schedule")


@pytest.mark.parametrize(
    "dtype", ["(1000000000,)f8", "V100", "c16", "[('a', '<f8')]", 7]
)
def test_arrays_of_exotic_dtypes_are_refused(regressor_file, tmp_path, dtype):
    """Check that exotic array dtypes (subarray, void, complex, record) are refused."""

    def edit(document, tensors):
        document["fitted"]["y_mean_"]["dtype"] = dtype

    _refused(_forge(regressor_file, tmp_path / "m.sklstm", edit), "dtype")


def test_a_string_arrays_width_comes_from_its_values(tmp_path):
    """Check that a string array's width comes from its values ('<U500000000' took 2.2
    GB; the width now follows the labels)."""
    labels = np.where(Y > 0, "up", "down")
    path = sklstm.save(LSTMClassifier(**FAST).fit(X, labels), tmp_path / "c.sklstm")

    def edit(document, tensors):
        document["fitted"]["classes_"]["dtype"] = "<U500000000"

    back = sklstm.load(_forge(path, tmp_path / "m.sklstm", edit))
    assert back.classes_.dtype.itemsize <= 16
    assert set(back.predict(X)) <= {"up", "down"}


def test_an_array_shape_must_match_its_values(regressor_file, tmp_path):
    """Check that an array whose stated shape does not match its values is refused."""

    def edit(document, tensors):
        document["fitted"]["y_mean_"]["shape"] = [10**6, 10**6]

    _refused(_forge(regressor_file, tmp_path / "m.sklstm", edit), "shape")


def test_a_pipelines_windower_is_validated(tmp_path):
    """Check that a pipeline's windower is validated: window=-5 (which loaded and failed
    in numpy) is refused by load, and window=10**9 (which loaded and tried 15 GiB at
    predict) by the windower's size check at predict."""
    table = rng.normal(size=(40, 2))
    pipe = make_pipeline(SequenceWindower(4), LSTMRegressor(**FAST))
    path = sklstm.save(pipe.fit(table, table[:, 0]), tmp_path / "p.sklstm")

    def window(value):
        def edit(document, tensors):
            document["steps"][0][1]["params"]["window"] = value

        return edit

    _refused(_forge(path, tmp_path / "neg.sklstm", window(-5)), "window")
    big = sklstm.load(_forge(path, tmp_path / "big.sklstm", window(10**9)))
    with pytest.raises(ValueError, match="window=1000000000"):
        big.predict(table)


def _header(path):
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def _rewrite_document(path, out, text):
    """Replace the document's text without re-signing: these are read
    before the hash is checked."""
    header, body = _header(path)
    header["__metadata__"]["sklstm"] = text
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    out.write_bytes(struct.pack("<Q", len(raw)) + raw + body)
    return out


@pytest.mark.parametrize(
    "text, match",
    [
        (
            '{"format": "sklstm-model", "format_version": 99, "versions": "oops"}',
            "format version 99, newer",
        ),
        ("[" * 100000 + "]" * 100000, "not JSON"),
        (
            '{"format": "sklstm-model", "format_version": ' + "9" * 100000 + "}",
            "not JSON",
        ),
        ('{"format": "sklstm-model", "format_version": "1"}', "whole number"),
        ('{"format": "sklstm-model", "format_version": 1.0}', "whole number"),
        ('{"format": "sklstm-model", "format_version": true}', "whole number"),
    ],
)
def test_metadata_read_before_the_hash_is_refused_cleanly(
    regressor_file, tmp_path, text, match
):
    """Check that bad metadata read before the hash check is refused cleanly."""
    out = _rewrite_document(regressor_file, tmp_path / "m.sklstm", text)
    _refused(out, match)


def test_damaged_documents_of_any_shape_are_model_file_errors(regressor_file, tmp_path):
    """Check that re-signed documents with wrong types where structure is expected are
    refused as ModelFileError."""
    edits = [
        lambda d, t: d.update(params=[1, 2]),
        lambda d, t: d.update(fitted={"n_iter_": "many"}),
        lambda d, t: d.update(module={"__dict__": 5}),
        lambda d, t: d["fitted"].update(_fitted_architecture=3),
        lambda d, t: d.update({"class": "Pipeline", "steps": 4}),
        lambda d, t: d["fitted"].update(loss_curve_={"__mystery__": 1}),
    ]
    for i, edit in enumerate(edits):
        _refused(_forge(regressor_file, tmp_path / f"m{i}.sklstm", edit), "")
