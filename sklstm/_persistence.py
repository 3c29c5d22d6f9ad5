"""Save and load fitted estimators without pickle: JSON metadata + safetensors.

One file in the safetensors format: the tensors (the network's weights, the
optimizer's state, the random-number state) and, in the format's own
string-to-string header, one JSON document with the class, the parameters, the
fitted attributes, the versions and a SHA-256 of everything else in the file.
Loading parses JSON and reads raw tensors: no pickle, no import by name, no
code from the file ever runs.
"""

from __future__ import annotations

import functools
import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import torch

from . import _file_checks as checks
from ._architecture import architecture, module_kwargs
from ._file_checks import ModelFileError
from ._files import replacing

FORMAT = "sklstm-model"
FORMAT_VERSION = 1
_MODULE = "module."
_OPTIMIZER = "optimizer."
_RNG = "rng."


@functools.cache
def _classes():
    from ._classifier import LSTMClassifier
    from ._regressor import LSTMRegressor

    return {"LSTMClassifier": LSTMClassifier, "LSTMRegressor": LSTMRegressor}


@functools.cache
def _steps():
    """Transformers a saved Pipeline may hold before its sklstm step.

    A fixed table: loading looks names up here and never imports by name.
    """
    from sklearn.preprocessing import (
        MaxAbsScaler,
        MinMaxScaler,
        RobustScaler,
        StandardScaler,
    )

    from ._scaler import SequenceScaler
    from ._windows import SequenceWindower

    return {
        c.__name__: c
        for c in (
            MaxAbsScaler,
            MinMaxScaler,
            RobustScaler,
            StandardScaler,
            SequenceScaler,
            SequenceWindower,
        )
    }


# -- JSON encoding of parameters and fitted attributes --------------------------------


def _encode(value, where):
    """``value`` as JSON-ready data; tuples, arrays and odd dicts are tagged."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, where) for v in value]}
    if isinstance(value, list):
        return [_encode(v, where) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {"__dict__": {k: _encode(v, where) for k, v in value.items()}}
        return {
            "__pairs__": [
                [_encode(k, where), _encode(v, where)] for k, v in value.items()
            ]
        }
    if _steps().get(type(value).__name__) is type(value):
        return {"__estimator__": _transformer_document(value, where)}
    if isinstance(value, np.ndarray):
        kind = value.dtype.kind
        if kind not in "biufUO" or (kind == "O" and not _plain_objects(value)):
            raise TypeError(
                f"{where}: an array of dtype {value.dtype} cannot be saved."
            )
        dtype = "object" if kind == "O" else value.dtype.str
        return {
            "__ndarray__": [_encode(v, where) for v in value.ravel().tolist()],
            "dtype": dtype,
            "shape": list(value.shape),
        }
    raise TypeError(
        f"{where} is a {type(value).__name__}, which sklstm.save cannot store "
        "without pickle; use an int or None for random_state, and plain "
        "numbers, strings, lists or dicts for other parameters."
    )


def _plain_objects(array):
    return all(
        isinstance(v, (str, int, float, bool, np.generic)) for v in array.ravel()
    )


def _decode(data):
    if isinstance(data, list):
        return [_decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    if "__tuple__" in data:
        return tuple(_decode(v) for v in data["__tuple__"])
    if "__dict__" in data:
        return {k: _decode(v) for k, v in data["__dict__"].items()}
    if "__pairs__" in data:
        return {_hashable(_decode(k)): _decode(v) for k, v in data["__pairs__"]}
    if "__estimator__" in data:
        return _transformer_from(data["__estimator__"])
    if "__ndarray__" in data:
        values = [_decode(v) for v in data["__ndarray__"]]
        dtype = checks.array_dtype(data.get("dtype"), values)
        shape = checks.array_shape(data.get("shape"), len(values))
        array = np.empty(len(values), dtype=dtype)
        array[:] = values
        return array.reshape(shape)
    raise ModelFileError(f"Unexpected entry {sorted(data)[:3]} in the model file.")


def _hashable(key):
    return tuple(key) if isinstance(key, list) else key


def _transformer_document(step, where):
    """A whitelisted scikit-learn or sklstm transformer as JSON-ready data."""
    params = step.get_params(deep=False)
    fitted = {k: v for k, v in vars(step).items() if k not in params}
    return {
        "class": type(step).__name__,
        "params": {k: _encode(v, f"{where}: parameter {k}") for k, v in params.items()},
        "fitted": {k: _encode(v, f"{where}: attribute {k}") for k, v in fitted.items()},
    }


def _transformer_from(document):
    cls = _steps().get(document.get("class"))
    params = set(document.get("params", ()))
    if cls is None:
        raise ModelFileError(
            f"The model file holds a step of unknown class {document.get('class')!r}."
        )
    step = cls(**{k: _decode(v) for k, v in document["params"].items()})
    step._validate_params()
    fitted = {k: _decode(v) for k, v in document["fitted"].items()}
    odd = [k for k in fitted if not k.endswith("_") or k.startswith("_") or k in params]
    if odd:
        raise ModelFileError(f"The model file sets unexpected attributes {odd}.")
    step.__dict__.update(fitted)
    return step


# -- tensors ------------------------------------------------------------------------


def _optimizer_tensors(state):
    """The optimizer's state dict as flat tensors plus JSON for the rest."""
    tensors, meta = {}, {}
    for index, entries in state["state"].items():
        for key, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{_OPTIMIZER}{index}.{key}"] = (
                    value.detach().cpu().contiguous()
                )
            else:
                meta[f"{index}.{key}"] = _encode(value, "optimizer state")
    groups = _encode(state["param_groups"], "optimizer param_groups")
    return tensors, {"groups": groups, "values": meta}


def _optimizer_state(tensors, meta):
    state = {}
    for name, value in tensors.items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = value
    for name, value in meta["values"].items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = _decode(value)
    return {"state": state, "param_groups": _decode(meta["groups"])}


def _digest(metadata_json: str, tensors: dict) -> str:
    h = hashlib.sha256(metadata_json.encode())
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        h.update(name.encode())
        h.update(str(t.dtype).encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(
            t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        )
    return h.hexdigest()


# -- save and load ------------------------------------------------------------------


def _estimator_parts(estimator):
    """An sklstm estimator's JSON document and tensors."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    params = estimator.get_params(False)
    if params.get("callbacks"):  # objects with their own state, files, loggers
        warnings.warn(
            "sklstm.save does not store the estimator's skorch callbacks; the "
            "loaded model has callbacks=None (set them again to train on).",
            UserWarning,
            stacklevel=3,
        )
        params["callbacks"] = None
    params = {k: _encode(v, f"parameter {k}") for k, v in params.items()}
    state = dict(estimator.__dict__)
    module = state.pop("module_")
    optimizer = state.pop("_optimizer_state", None)
    rng = state.pop("_rng_state", None)
    for key in estimator.get_params(False):
        state.pop(key, None)
    fitted = {k: _encode(v, f"fitted attribute {k}") for k, v in state.items()}
    architecture = module_kwargs(estimator)  # as fitted
    tensors = {
        _MODULE + k: v.detach().cpu().contiguous()
        for k, v in module.state_dict().items()
    }
    optimizer_meta = None
    if optimizer is not None:
        extra, optimizer_meta = _optimizer_tensors(optimizer)
        tensors.update(extra)
    for key, value in (rng or {}).items():
        tensors[_RNG + key] = value.detach().cpu().contiguous()
    document = {
        "class": type(estimator).__name__,
        "params": params,
        "fitted": fitted,
        "module": _encode(architecture, "the network's arguments"),
        "optimizer": optimizer_meta,
    }
    return document, tensors


def _pipeline_steps(pipeline):
    """``[(name, transformer document or None)]`` and the final sklstm step."""
    from sklearn.utils.validation import check_is_fitted

    *transformers, (last_name, last) = pipeline.steps
    if _classes().get(type(last).__name__) is not type(last):
        raise TypeError(
            "sklstm.save stores a Pipeline whose last step is an LSTMRegressor or "
            f"an LSTMClassifier; its last step {last_name!r} is a "
            f"{type(last).__name__}."
        )
    steps = []
    for name, step in transformers:
        if step is None or step == "passthrough":
            steps.append([name, None])
            continue
        if _steps().get(type(step).__name__) is not type(step):
            raise TypeError(
                f"sklstm.save cannot store the Pipeline step {name!r}, a "
                f"{type(step).__name__}, without pickle; it stores "
                f"{sorted(_steps())} before the sklstm step."
            )
        check_is_fitted(step)
        steps.append([name, _transformer_document(step, f"step {name!r}")])
    return steps, last_name, last


def save(estimator, path) -> Path:
    """Write a fitted sklstm estimator or pipeline to one file, without pickle.

    The file is in the safetensors format: the network's weights, the
    optimizer's state and the random-number state as tensors, and one JSON
    document with the class, the parameters, the fitted attributes, the format
    and library versions and a SHA-256 of the contents. ``sklstm.load`` reads
    it back without running any code from it. The file is written to a
    temporary name and renamed, so a failure never leaves half a file in
    ``path``.

    Parameters
    ----------
    estimator : LSTMRegressor, LSTMClassifier or Pipeline
        A fitted estimator. Its parameters must be plain values (numbers,
        strings, tuples, lists, dicts, None); ``random_state`` an int or None.
        A fitted ``Pipeline`` ending in one is stored whole when its other
        steps are among ``StandardScaler``, ``MinMaxScaler``,
        ``MaxAbsScaler``, ``RobustScaler``, ``SequenceScaler`` and
        ``SequenceWindower`` (or ``"passthrough"``).
    path : str or path-like
        Where to write (conventionally ``*.sklstm``).

    Returns
    -------
    path : pathlib.Path
        The file written.
    """
    from safetensors.torch import save_file
    from sklearn.pipeline import Pipeline

    from ._version import __version__

    name = type(estimator).__name__
    if type(estimator) is Pipeline:
        steps, last_name, last = _pipeline_steps(estimator)
        inner, tensors = _estimator_parts(last)
        document = {
            "class": "Pipeline",
            "steps": steps,
            "final_step": last_name,
            "estimator": inner,
        }
    elif _classes().get(name) is type(estimator):
        document, tensors = _estimator_parts(estimator)
    else:
        raise TypeError(
            "sklstm.save stores LSTMRegressor, LSTMClassifier and a Pipeline "
            f"ending in one; got {name}."
        )
    document.update(
        format=FORMAT,
        format_version=FORMAT_VERSION,
        versions={"sklstm": __version__, "torch": torch.__version__},
    )
    text = json.dumps(document, sort_keys=True)
    metadata = {"sklstm": text, "sha256": _digest(text, tensors)}
    from safetensors import SafetensorError

    try:
        with replacing(path) as tmp:
            save_file(tensors, tmp, metadata=metadata)
    except SafetensorError as e:  # a full disk, say: an OSError by nature
        raise OSError(f"Could not write the model file {str(path)!r}: {e}") from e
    return Path(path)


def load(path):
    """Read an estimator written by ``sklstm.save``; never runs code from the file.

    The file's header is parsed as JSON and its tensors are read as raw
    numbers onto the CPU (a model fitted on a GPU loads on a machine without
    one; set ``device`` afterwards to move it). A file that is not an sklstm
    model (a pickle, any other file), a truncated or altered one (its SHA-256
    no longer matches), or one written by a newer file format is refused with
    ``ModelFileError``, a ``ValueError``.

    Parameters
    ----------
    path : str or path-like
        A file written by ``sklstm.save``.

    Returns
    -------
    estimator : LSTMRegressor, LSTMClassifier or Pipeline
        The fitted estimator (or pipeline, as saved); it predicts exactly as
        the saved one did and can go on training (``partial_fit``,
        ``warm_start``).
    """
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.exists() and not path.is_symlink():
        raise FileNotFoundError(f"No model file at {str(path)!r}.")
    if not path.is_file():  # a folder, a FIFO, a device, a dangling link
        raise ModelFileError(
            f"{str(path)!r} is not a regular file; expected a model file written "
            "by sklstm.save."
        )
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            metadata = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise ModelFileError(
            f"{str(path)!r} is not an sklstm model file (expected a file written "
            f"by sklstm.save, in the safetensors format; reading it said: {e})."
        ) from None
    text = metadata.get("sklstm")
    if text is None:
        raise ModelFileError(
            f"{str(path)!r} is a safetensors file but not an sklstm model (its "
            "header has no 'sklstm' entry)."
        )
    document = _read_document(text, path)
    if _digest(text, tensors) != metadata.get("sha256"):
        raise ModelFileError(
            f"{str(path)!r} has been altered or damaged since sklstm.save wrote "
            "it: its contents no longer match the SHA-256 recorded in it."
        )
    try:
        if document.get("class") == "Pipeline":
            from sklearn.pipeline import Pipeline

            steps = [
                (name, "passthrough" if doc is None else _transformer_from(doc))
                for name, doc in document["steps"]
            ]
            last = _estimator_from(document["estimator"], tensors, path)
            return Pipeline([*steps, (document["final_step"], last)])
        return _estimator_from(document, tensors, path)
    except ModelFileError as e:
        raise ModelFileError(f"{str(path)!r}: {e}") from None
    except (
        TypeError,
        ValueError,
        KeyError,
        IndexError,
        AttributeError,
        RuntimeError,
        RecursionError,
        OverflowError,
    ) as e:  # whatever else a forged but re-signed document trips over
        raise ModelFileError(
            f"{str(path)!r} does not describe a valid model: {type(e).__name__}: {e}"
        ) from None


def _read_document(text, path):
    """The JSON document of a model file's header, checked before the hash.

    Everything here runs on unverified text, so each failure is refused
    plainly: bad or deeply nested JSON, a huge integer, a version that is
    not an integer.
    """
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as e:  # JSONDecodeError is a ValueError
        raise ModelFileError(
            f"{str(path)!r}: its metadata is not JSON sklstm can read "
            f"({type(e).__name__}: {str(e)[:200]})."
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelFileError(f"{str(path)!r} is not an sklstm model file.")
    version = document.get("format_version")
    if type(version) is not int or version < 1:
        raise ModelFileError(
            f"{str(path)!r} gives its model-file format version as {version!r}; "
            f"expected a whole number such as {FORMAT_VERSION}."
        )
    if version > FORMAT_VERSION:
        from ._version import __version__

        versions = document.get("versions")
        writer = versions.get("sklstm") if isinstance(versions, dict) else None
        raise ModelFileError(
            f"{str(path)!r} uses model-file format version {version}, newer than "
            f"this sklstm ({__version__}) reads (up to {FORMAT_VERSION}); it was "
            f"written by sklstm {writer!r}. Upgrade sklstm to load it."
        )
    return document


def _estimator_from(document, tensors, path):
    """The estimator a checked document describes (see ``_file_checks``)."""
    from ._network import LSTMNetwork

    name = document.get("class")
    cls = _classes().get(name)
    if cls is None:
        raise ModelFileError(f"The model file holds an unknown class {name!r}.")
    estimator = cls(**{k: _decode(v) for k, v in document["params"].items()})
    estimator._validate_params()
    architecture(estimator)  # the element-wise checks of conv_channels and kin
    checks.check_fitted_names(name, document["fitted"])
    estimator.__dict__.update({k: _decode(v) for k, v in document["fitted"].items()})
    checks.check_fitted_values(estimator)
    kwargs = _decode(document["module"])
    checks.check_module_arguments(kwargs, module_kwargs(estimator))
    weights = {
        k[len(_MODULE) :]: v for k, v in tensors.items() if k.startswith(_MODULE)
    }
    estimator.module_ = checks.build_module(LSTMNetwork, kwargs, weights)
    optimizer = {
        k[len(_OPTIMIZER) :]: v for k, v in tensors.items() if k.startswith(_OPTIMIZER)
    }
    checks.check_optimizer(optimizer, estimator.module_)
    estimator._optimizer_state = (
        None
        if document["optimizer"] is None
        else _optimizer_state(optimizer, document["optimizer"])
    )
    rng = {k[len(_RNG) :]: v for k, v in tensors.items() if k.startswith(_RNG)}
    checks.check_rng(rng)
    estimator._rng_state = rng or None
    unknown = sorted(
        k for k in tensors if not k.startswith((_MODULE, _OPTIMIZER, _RNG))
    )
    if unknown:
        raise ModelFileError(f"The model file holds unknown tensors {unknown[:3]}.")
    return estimator
