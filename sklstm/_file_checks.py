"""Checks that a model file describes a model sklstm could have written.

The SHA-256 in a model file catches damage, not forgery: anyone can edit the
metadata and recompute it. So ``load`` trusts nothing the file says. Before
anything is built, every parameter passes the estimator's own constraints,
only names ``fit`` sets are accepted as fitted attributes, arrays are plain
numbers or strings, and the network is laid out on the ``meta`` device (no
memory) so that every tensor's shape can be compared with the file's: what
is then built is exactly what the file holds. Non-finite weights and scales
are refused. Every refusal is a ``ModelFileError``.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch


class ModelFileError(ValueError):
    """A model file that cannot be loaded: foreign, truncated, tampered or too new."""


# What ``fit`` and ``partial_fit`` set on an estimator, besides ``module_``
# and the optimizer and random-number states (stored as tensors).
_COMMON = frozenset(
    {
        "_downsample",
        "_fitted_architecture",
        "_input_scaling",
        "_n_model_outputs",
        "_per_sequence",
        "_scheduler_state",
        "_seed",
        "_target_channels",
        "best_loss_",
        "feature_names_in_",
        "frame_shape_",
        "history_",
        "loss_curve_",
        "n_channels_in_",
        "n_features_in_",
        "n_iter_",
        "vocab_size_",
    }
)
FITTED_NAMES = {
    "LSTMClassifier": _COMMON | {"classes_", "_partial_classes"},
    "LSTMRegressor": _COMMON | {"_y_ndim", "n_outputs_", "y_mean_", "y_scale_"},
}
# The numeric dtypes an array in the metadata may have (strings separately).
_PLAIN_KINDS = "biuf"


def array_dtype(name, values):
    """The numpy dtype named ``name`` for ``values``, if it is a plain one.

    Plain numbers (bool, int, uint, float up to 8 bytes, no structure) and
    strings. A string dtype's width comes from the values, never from the
    file: ``"<U500000000"`` would otherwise allocate 2 GB per element.
    """
    if name == "object":
        return object
    try:
        dtype = np.dtype(name)
    except (TypeError, ValueError):
        raise ModelFileError(
            f"The model file holds an array of dtype {name!r}."
        ) from None
    if dtype.kind == "U" and dtype.names is None and dtype.shape == ():
        width = max((len(v) for v in values if isinstance(v, str)), default=1)
        return np.dtype(f"<U{max(width, 1)}")
    if (
        dtype.kind not in _PLAIN_KINDS
        or dtype.names is not None
        or dtype.shape != ()
        or dtype.itemsize > 8
    ):
        raise ModelFileError(
            f"The model file holds an array of dtype {name!r}; expected plain "
            "numbers (bool, int, float) or strings."
        )
    return dtype


def array_shape(shape, size):
    """``shape`` if it is a list of counts whose product is ``size``."""
    if (
        not isinstance(shape, list)
        or not all(type(n) is int and n >= 0 for n in shape)
        or math.prod(shape) != size
    ):
        raise ModelFileError(
            f"The model file gives an array of {size} values the shape {shape!r}."
        )
    return shape


def check_fitted_names(class_name, names):
    """Refuse fitted attributes ``fit`` never sets (a key named ``predict``
    would hide the method)."""
    odd = sorted(set(names) - FITTED_NAMES[class_name])
    if odd:
        raise ModelFileError(
            f"The model file sets attributes {odd[:5]} that an {class_name} never has."
        )


def check_fitted_values(estimator):
    """The fitted numbers that predictions are made of: counts and scales."""
    for name in ("n_iter_", "n_channels_in_", "_n_model_outputs"):
        value = getattr(estimator, name, None)
        if type(value) is not int or value < 0:
            raise ModelFileError(
                f"The model file's {name} is {value!r}; expected a count."
            )
    arrays = {
        "y_mean_": getattr(estimator, "y_mean_", 0.0),
        "y_scale_": getattr(estimator, "y_scale_", 1.0),
    }
    scaling = getattr(estimator, "_input_scaling", None)
    if scaling is not None:
        arrays.update(input_location=scaling[0], input_scale=scaling[1])
    for name, value in arrays.items():
        value = np.asarray(value)
        if value.dtype.kind not in "iuf" or not np.all(np.isfinite(value)):
            raise ModelFileError(
                f"The model file's {name} holds non-finite or non-numeric values; "
                "a model with them would predict NaN or infinity."
            )
    if np.any(np.asarray(arrays["y_scale_"]) <= 0):
        raise ModelFileError("The model file's y_scale_ is not positive.")
    state = getattr(estimator, "_scheduler_state", None)
    if state is not None and (
        not isinstance(state, dict) or not set(state) <= _scheduler_keys()
    ):
        raise ModelFileError(
            "The model file's learning-rate schedule state has unexpected entries."
        )


@functools.cache
def _scheduler_keys():
    """What torch's ReduceLROnPlateau keeps (``load_state_dict`` sets each as
    an attribute, so a forged ``step`` would hide its method)."""
    weight = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([weight])
    return frozenset(torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer).state_dict())


def check_module_arguments(stored, derived):
    """The network's arguments in the file agree with its parameters and fit."""
    if not isinstance(stored, dict):
        raise ModelFileError("The model file's network arguments are not a mapping.")
    differ = sorted(k for k in stored if k in derived and stored[k] != derived[k])
    if differ:
        raise ModelFileError(
            f"The model file's network arguments {differ[:5]} disagree with its "
            "parameters and fitted attributes."
        )


def _integers(value):
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        yield value
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _integers(v)


def build_module(network, kwargs, weights):
    """``network(**kwargs)`` with ``weights``, after checking that they fit.

    The layout is first built on the ``meta`` device, which allocates
    nothing; it is bounded beforehand by what the file holds (no size above
    its number of weights, no more layers than its tensors), so a forged
    ``num_layers=100000`` is refused at once rather than laid out.
    """
    total = sum(t.numel() for t in weights.values())
    big = max(_integers(list(kwargs.values())), default=0)
    if big > max(total, 1):
        raise ModelFileError(
            f"The model file asks for a network with a size of {big:,} but holds "
            f"only {total:,} weights."
        )
    layers = kwargs.get("num_layers", 1)
    if isinstance(layers, int) and layers > len(weights):
        raise ModelFileError(
            f"The model file asks for {layers:,} layers but holds only "
            f"{len(weights)} weight tensors."
        )
    with torch.device("meta"):
        layout = network(**kwargs).state_dict()
    expected = {k: (tuple(v.shape), v.dtype) for k, v in layout.items()}
    found = {k: (tuple(v.shape), v.dtype) for k, v in weights.items()}
    if expected != found:
        wrong = sorted(set(expected) ^ set(found)) or sorted(
            k for k in expected if expected[k] != found[k]
        )
        raise ModelFileError(
            f"The model file's weights do not match the network it describes "
            f"(first differences: {wrong[:3]})."
        )
    for name, tensor in weights.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise ModelFileError(
                f"The model file's weight {name} holds NaN or infinity; the model "
                "would predict NaN."
            )
    with torch.random.fork_rng(devices=[]):  # building draws random weights
        module = network(**kwargs)
    module.load_state_dict(weights, strict=True)
    return module.eval()


def check_optimizer(tensors, module):
    """Optimizer state: one entry per parameter, shaped like it, finite."""
    shapes = [tuple(p.shape) for p in module.parameters()]
    for name, tensor in tensors.items():
        index = name.split(".", 1)[0]
        if not index.isdigit() or int(index) >= len(shapes):
            raise ModelFileError(
                f"The model file's optimizer state names a parameter {index!r} "
                f"of {len(shapes)}."
            )
        if tensor.dim() and tuple(tensor.shape) != shapes[int(index)]:
            raise ModelFileError(
                f"The model file's optimizer state {name} has shape "
                f"{tuple(tensor.shape)}; its parameter has {shapes[int(index)]}."
            )
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise ModelFileError(
                f"The model file's optimizer state {name} holds NaN or infinity."
            )


def check_rng(tensors):
    """Random-number states are byte strings of the sizes torch uses."""
    cpu = torch.get_rng_state().numel()
    sizes = {"cpu": cpu, "generator": cpu, "cuda": cpu}  # at most, for CUDA
    for name, tensor in tensors.items():
        if name not in sizes or tensor.dtype != torch.uint8 or tensor.dim() != 1:
            raise ModelFileError(
                f"The model file's random-number state {name!r} is not one "
                "torch writes."
            )
        if tensor.numel() > cpu or (name != "cuda" and tensor.numel() != cpu):
            raise ModelFileError(
                f"The model file's random-number state {name!r} has "
                f"{tensor.numel()} bytes; expected {sizes[name]}."
            )
