"""The network's shape as the estimator's parameters give it: which parameters
shape the module (a warm start cannot change them), their element checks, and
``module_kwargs``: the fitted model's ``LSTMNetwork`` arguments. Functions of
an estimator (they read its parameters and fitted attributes)."""

from __future__ import annotations

import numbers

from ._recipe import AUTO_FCN, LINKED_EPS

# parameters that shape the module; a warm start cannot change them
ARCHITECTURE = (
    "hidden_size",
    "num_layers",
    "bidirectional",
    "cell",
    "pooling",
    "conv_channels",
    "conv_kernel_size",
    "conv_batch_norm",
    "frame_pooling",
    "embedding_dim",
    "fcn_channels",
    "fcn_kernel_sizes",
    "squeeze_excite",
    "scaling",
    "downsample",
    "fcn_downsample",
)


def module_kwargs(est) -> dict:
    """The fitted model's ``LSTMNetwork`` arguments: its architecture as
    fitted, whatever ``set_params`` changed since."""
    arch = est._fitted_architecture
    return {
        "input_size": est.n_channels_in_,
        "output_size": est._n_model_outputs,
        "hidden_size": arch["hidden_size"],
        "num_layers": arch["num_layers"],
        "bidirectional": arch["bidirectional"],
        "cell": arch.get("cell", "lstm"),  # models saved before GRU: LSTM
        "dropout": est.dropout,
        "pooling": arch["pooling"],
        "conv_channels": arch["conv_channels"],
        "conv_kernel_size": arch["conv_kernel_size"],
        "conv_batch_norm": arch["conv_batch_norm"],
        "frame_pooling": arch["frame_pooling"],
        "frame_shape": est.frame_shape_,
        "vocab_size": est.vocab_size_,
        "embedding_dim": arch["embedding_dim"],
        "init": est.init,
        # models saved before the FCN branch and the scaling lack these
        "fcn_channels": arch.get("fcn_channels", ()),
        "fcn_kernel_sizes": arch.get("fcn_kernel_sizes", (8, 5, 3)),
        "squeeze_excite": arch.get("squeeze_excite", False),
        "input_scaling": getattr(est, "_input_scaling", None) is not None,
        "per_sequence": tuple(getattr(est, "_per_sequence", ())),
        "target_channels": _per_output(est, getattr(est, "_target_channels", None)),
        "downsample": getattr(est, "_downsample", 1),
        # models saved before it: the FCN branch read every step
        "fcn_downsample": getattr(est, "_fcn_downsample", 1),
        "both_scalings": arch.get("scaling") == "both",
        # models saved before SEQUENCE_EPS divided by sqrt(variance + 1e-5)
        "sequence_eps": getattr(est, "_sequence_eps", LINKED_EPS),
        "anchor": "last" if arch.get("scaling") == "window" else "mean",
    }


def conv_channels(est) -> tuple:
    """``conv_channels`` as a tuple of positive ints, or a clear error."""
    return positive_ints(
        est.conv_channels,
        "conv_channels",
        "output channels of each convolution, e.g. (32, 64)",
    )


def check_same_architecture(est):
    # models fitted before the GRU option have no "cell": they are LSTMs;
    # before fcn_downsample, the FCN branch read every step
    fitted = {"cell": "lstm", "fcn_downsample": 1, **est._fitted_architecture}
    now = architecture(est)
    changed = [p for p in ARCHITECTURE if now[p] != fitted[p]]
    if changed:
        raise ValueError(
            f"warm_start=True cannot change {', '.join(changed)} of a fitted "
            f"model (fitted with "
            f"{', '.join(f'{p}={fitted[p]!r}' for p in changed)}); set "
            "warm_start=False to train a new model."
        )


def architecture(est) -> dict:
    return {p: getattr(est, p) for p in ARCHITECTURE} | {
        "conv_channels": conv_channels(est),
        "fcn_channels": fcn_channels(est),
        "fcn_kernel_sizes": fcn_kernel_sizes(est),
    }


def fcn_channels(est) -> tuple:
    """``fcn_channels`` as a tuple of positive ints, or a clear error;
    ``"auto"``: AUTO_FCN for numeric sequences, none for token ids and
    image sequences (their front ends embed or convolve already)."""
    if isinstance(est.fcn_channels, str):  # "auto", checked by then
        plain = est.embedding_dim is None and not getattr(est, "frame_shape_", None)
        return AUTO_FCN if plain else ()
    return positive_ints(
        est.fcn_channels,
        "fcn_channels",
        "output channels of each block of the convolutional branch, e.g. "
        "(128, 256, 128), or () for none",
    )


def fcn_kernel_sizes(est) -> tuple:
    kernels = positive_ints(
        est.fcn_kernel_sizes,
        "fcn_kernel_sizes",
        "one kernel size per block of the convolutional branch, e.g. (8, 5, 3)",
    )
    channels = fcn_channels(est)
    if channels and len(kernels) != len(channels):
        raise ValueError(
            f"fcn_kernel_sizes needs one kernel size per entry of fcn_channels: "
            f"got {len(kernels)} kernel sizes {kernels} for {len(channels)} "
            f"blocks {channels}."
        )
    return kernels


def positive_ints(value, name: str, meaning: str) -> tuple:
    """``value`` as a tuple of positive ints, or a ValueError naming ``name``."""
    values = tuple(value)
    if not all(isinstance(v, numbers.Integral) and v >= 1 for v in values):
        raise ValueError(
            f"{name} must be a sequence of positive ints ({meaning}); got {value!r}."
        )
    return tuple(int(v) for v in values)


def _per_output(est, channels):
    """Each target's channel (``_target_channels``) once per network output
    of that target: a quantile model predicts several levels of each."""
    if channels is None:
        return None
    repeat = est._n_model_outputs // len(channels)
    return tuple(int(c) for c in channels for _ in range(repeat))
