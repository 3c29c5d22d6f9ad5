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
        "_fcn_downsample",
        "_fitted_architecture",
        "_input_scaling",
        "_n_model_outputs",
        "_per_sequence",
        "_scheduler_state",
        "_seed",
        "_sequence_eps",
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
    "LSTMRegressor": _COMMON
    | {"_y_ndim", "n_outputs_", "y_mean_", "y_scale_", "quantiles_"},
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


def _count(value, least=0):
    return type(value) is int and value >= least


def _counts(value):
    return isinstance(value, tuple) and all(_count(v) for v in value)


def _finite_vector(value, size):
    return (
        isinstance(value, np.ndarray)
        and value.dtype.kind in "iuf"
        and value.shape == (size,)
        and bool(np.all(np.isfinite(value)))
    )


def _number_or_none(value):
    return value is None or (type(value) in (int, float) and not math.isnan(value))


def _quantile_levels(v) -> bool:
    return (
        _finite_vector(v, len(v) if isinstance(v, np.ndarray) else -1)
        and v.dtype.kind == "f"
        and bool(np.all((v > 0) & (v < 1)))
        and bool(np.all(np.diff(v) > 0))
        and 0.5 in v
    )


def _levels_of(e) -> int:
    """Network outputs per target: the quantile levels, or 1."""
    levels = getattr(e, "quantiles_", None)
    return 1 if levels is None else len(levels) or 1


def _targets_of(e) -> int:
    return e._n_model_outputs // _levels_of(e)


# What each fitted attribute must be, given the estimator (``e``) it is on.
_FITTED_RULES = {
    "n_iter_": (lambda v, e: _count(v), "a count"),
    "n_channels_in_": (lambda v, e: _count(v, 1), "a positive count"),
    "n_features_in_": (lambda v, e: _count(v, 1), "a positive count"),
    "_n_model_outputs": (lambda v, e: _count(v, 1), "a positive count"),
    "_downsample": (lambda v, e: _count(v, 1), "a positive count"),
    "_fcn_downsample": (lambda v, e: _count(v, 1), "a positive count"),
    "_seed": (lambda v, e: _count(v), "a seed"),
    "vocab_size_": (lambda v, e: v is None or _count(v, 1), "None or a count"),
    "frame_shape_": (
        lambda v, e: v is None or (_counts(v) and len(v) == 3),
        "None or (height, width, channels)",
    ),
    "_per_sequence": (lambda v, e: _counts(v), "a tuple of channels"),
    "_target_channels": (
        lambda v, e: (
            v is None
            or (
                _counts(v)
                and len(v) == _targets_of(e)
                and all(c < e.n_channels_in_ for c in v)
            )
        ),
        "None or one input channel per target",
    ),
    "_sequence_eps": (
        lambda v, e: isinstance(v, float) and 0 < v < 1,
        "a number between 0 and 1",
    ),
    "best_loss_": (lambda v, e: _number_or_none(v), "None or a number"),
    "loss_curve_": (
        lambda v, e: isinstance(v, list) and all(_number_or_none(x) for x in v),
        "a list of numbers",
    ),
    "history_": (
        lambda v, e: isinstance(v, list) and all(isinstance(x, dict) for x in v),
        "a list of dicts",
    ),
    "_fitted_architecture": (lambda v, e: isinstance(v, dict), "a dict"),
    "_scheduler_state": (
        lambda v, e: v is None or (isinstance(v, dict) and set(v) <= _scheduler_keys()),
        "None or the state of torch's ReduceLROnPlateau",
    ),
    "_input_scaling": (
        lambda v, e: (
            v is None
            or (
                isinstance(v, tuple)
                and len(v) == 2
                and all(_finite_vector(x, e.n_channels_in_) for x in v)
                and bool(np.all(v[1] > 0))
            )
        ),
        "None or a finite location and positive scale per channel",
    ),
    "feature_names_in_": (
        lambda v, e: (
            isinstance(v, np.ndarray)
            and v.ndim == 1
            and all(isinstance(x, str) for x in v)
        ),
        "an array of column names",
    ),
    # the classifier's
    "classes_": (
        lambda v, e: (
            isinstance(v, np.ndarray)
            and v.ndim == 1
            and len(v) == e._n_model_outputs >= 2
        ),
        "one label per output, at least two",
    ),
    "_partial_classes": (
        lambda v, e: v is None or isinstance(v, np.ndarray),
        "None or the labels given to partial_fit",
    ),
    # the regressor's
    "_y_ndim": (lambda v, e: v in (1, 2) and type(v) is int, "1 or 2"),
    "n_outputs_": (
        lambda v, e: _count(v, 1) and v * _levels_of(e) == e._n_model_outputs,
        "the network's number of outputs (per quantile level)",
    ),
    "quantiles_": (
        lambda v, e: v is None or _quantile_levels(v),
        "None or increasing levels strictly between 0 and 1, 0.5 among them",
    ),
    "y_mean_": (
        lambda v, e: _finite_vector(v, _targets_of(e)),
        "one finite number per output",
    ),
    "y_scale_": (
        lambda v, e: _finite_vector(v, _targets_of(e)) and bool(np.all(v > 0)),
        "one finite, positive number per output",
    ),
}
# what every fitted estimator of the class has (older files may lack the rest)
_REQUIRED = {
    "LSTMClassifier": ("n_iter_", "n_channels_in_", "_n_model_outputs", "classes_"),
    "LSTMRegressor": (
        "n_iter_",
        "n_channels_in_",
        "_n_model_outputs",
        "n_outputs_",
        "y_mean_",
        "y_scale_",
    ),
}


def check_fitted_values(estimator):
    """Each fitted attribute is what ``fit`` makes: counts, finite scales of
    the right length, labels for every output; a model with anything else
    could predict NaN or the wrong shape."""
    name = type(estimator).__name__
    missing = [k for k in _REQUIRED[name] if k not in estimator.__dict__]
    if missing:
        raise ModelFileError(f"The model file lacks the fitted attributes {missing}.")
    order = sorted(estimator.__dict__, key=lambda k: k not in _REQUIRED[name])
    for key in order:  # the counts first: the other rules read them
        rule = _FITTED_RULES.get(key)
        if rule is None:
            continue
        try:
            good = rule[0](estimator.__dict__[key], estimator)
        except (TypeError, ValueError, AttributeError):
            good = False
        if not good:
            value = repr(estimator.__dict__[key])
            value = value if len(value) <= 60 else value[:57] + "..."
            raise ModelFileError(
                f"The model file's {key} is {value}; expected {rule[1]}."
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
