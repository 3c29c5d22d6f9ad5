"""Sizes checked against memory before anything is allocated: a request that
follows a number (a window, a hidden size, a token id) rather than the data is
refused with what it would take."""

from __future__ import annotations

# a request may take at most this share of the memory available now
SHARE = 0.5


def available_bytes() -> int:
    import psutil

    return int(psutil.virtual_memory().available)


def _size(nbytes: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if nbytes < 1024 or unit == "PiB":
            return f"{nbytes:.3g} {unit}"
        nbytes /= 1024
    raise AssertionError  # unreachable


def check_allocation(nbytes: float, what: str, hint: str) -> None:
    """Raise a ValueError when ``nbytes`` exceed SHARE of the available memory."""
    available = available_bytes()
    if nbytes > SHARE * available:
        raise ValueError(
            f"{what} would take {_size(nbytes)}, more than half the memory "
            f"available now ({_size(available)}); {hint}"
        )


def network_bytes(module_kwargs: dict) -> int:
    """Memory of training a network of these arguments: its parameters, their
    gradients and an optimiser's two moments (float32), counted on torch's
    meta device, where nothing is allocated."""
    import torch

    from ._network import LSTMNetwork

    # the input scaling holds buffers, not parameters: left out here
    kwargs = dict(module_kwargs, input_scaling=False, per_sequence=())
    kwargs.pop("target_channels", None)
    with torch.device("meta"):
        net = LSTMNetwork(**kwargs)
    return 4 * 4 * sum(p.numel() for p in net.parameters())


def block_bytes(arch: dict, batch: int, steps: int) -> int:
    """A rough upper bound of the largest block one step of the network with
    arguments ``arch`` asks of the allocator: the LSTM's workspace over a batch
    (four gates and their states per unit, layer and direction) or a
    convolution's unfolded input. It only decides whether the heap pad is
    worth making."""
    units = arch["hidden_size"] * arch["num_layers"] * (1 + arch["bidirectional"])
    lstm = batch * steps * units * 32
    channels = max((*arch["fcn_channels"], *arch["conv_channels"]), default=0)
    kernel = max((*arch["fcn_kernel_sizes"], arch["conv_kernel_size"]))
    return max(lstm, batch * steps * channels * kernel * 4)
