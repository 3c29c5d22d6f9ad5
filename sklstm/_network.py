"""The torch module behind the estimators. Knows nothing of scikit-learn."""

from __future__ import annotations

import contextlib
import warnings

import torch
from torch import nn
from torch.func import functional_call

from ._layers import (
    AdditiveAttention,
    FCNBranch,
    FrameEncoder,
    InputScaling,
    TimeConv,
    TokenEmbedding,
    average_windows,
    valid_mask,
    window_counts,
)

POOLINGS = ("last", "mean", "max", "attention")


class LSTMNetwork(nn.Module):
    """LSTM layers, a pooling over time and a linear head; optionally a fully
    convolutional branch beside the LSTM (LSTM-FCN) and input scaling.

    Sequences arrive left-aligned: the valid steps of sample ``i`` are
    ``x[i, :lengths[i]]`` and whatever follows is padding. ``lengths=None`` means
    every sequence fills the whole tensor.

    Parameters
    ----------
    input_size : int
        Channels per time step.
    output_size : int
        Outputs of the linear head (regression targets or class logits).
    hidden_size, num_layers, bidirectional, dropout :
        As in :class:`torch.nn.LSTM`; ``dropout`` is also applied to the pooled
        features before the head.
    cell : {"lstm", "gru"}
        The recurrent layers: LSTM, or GRU (three gates instead of four, no
        cell state). Either is ``self.lstm``, so that saved weights keep their
        names.
    pooling : {"last", "mean", "max", "attention"}
        How the per-step outputs of the last layer become one vector: the output
        at the last valid step (the first step for the backward direction), the
        mean or maximum over valid steps, or additive attention over them.
    conv_channels : sequence of int
        A convolutional front end: Conv1d layers over time, or, with
        ``frame_shape``, a per-frame Conv2d encoder.
    conv_kernel_size : int
        Kernel size of every convolution.
    conv_batch_norm : bool
        Batch normalisation after every convolution, before its ReLU.
    frame_pooling : {"average", "flatten"}
        How the per-frame encoder turns its last feature map into a vector.
    frame_shape : (height, width, channels) or None
        Input steps are images, flattened channels-last.
    vocab_size, embedding_dim : int or None
        Input steps are token ids (0 = padding), embedded before the rest.
    init : {"pytorch", "keras"}
        Initial weights: torch's defaults, or Keras's (see :func:`keras_init`).
    fcn_channels : sequence of int
        A fully convolutional branch in parallel with the LSTM (Conv1d +
        BatchNorm + ReLU blocks of these channels, global average pooling),
        its features joined to the LSTM's before the head: LSTM-FCN. Empty:
        none.
    fcn_kernel_sizes : sequence of int
        One kernel size per FCN block.
    squeeze_excite : bool
        Squeeze-and-excite blocks between the FCN blocks (MLSTM-FCN).
    input_scaling : bool
        Standardise the input channels first (:class:`InputScaling`; its
        ``loc`` and ``scale`` buffers are set by whoever trains the network).
    per_sequence : sequence of int
        Input channels also standardised over each sequence's own steps.
    target_channels : sequence of int or None
        One input channel per output, or None: output ``j`` is read relative to
        its channel's per-sequence mean and spread (RevIN), so the head
        predicts the shape and the level comes from the input.
    both_scalings : bool
        The channels in ``per_sequence`` reach the layers twice: standardised
        globally and over their own sequence.
    anchor : {"mean", "last"}
        Per-sequence scaling centres each sequence on its mean, or on its last
        valid value (what a forecast continues from).
    sequence_eps : float
        Per-sequence scaling divides by ``sqrt(variance + sequence_eps)``, the
        variance in globally standardised units.
    downsample : int
        The LSTM reads each run of this many steps averaged into one: long
        sequences cost the LSTM that many times fewer sequential steps.
    fcn_downsample : int
        The FCN branch reads each run of this many steps averaged into one.
    """

    def __init__(
        self,
        input_size: int,
        output_size: int,
        hidden_size: int = 64,
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        pooling: str = "last",
        conv_channels=(),
        conv_kernel_size: int = 3,
        conv_batch_norm: bool = False,
        frame_pooling: str = "average",
        frame_shape=None,
        vocab_size: int | None = None,
        embedding_dim: int | None = None,
        init: str = "pytorch",
        fcn_channels=(),
        fcn_kernel_sizes=(8, 5, 3),
        squeeze_excite: bool = False,
        input_scaling: bool = False,
        per_sequence=(),
        target_channels=None,
        downsample: int = 1,
        both_scalings: bool = False,
        anchor: str = "mean",
        cell: str = "lstm",
        sequence_eps: float = 1e-5,
        fcn_downsample: int = 1,
    ) -> None:
        super().__init__()
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        self.hidden_size = hidden_size
        self.bidirectional = bidirectional
        self.pooling = pooling
        self.downsample = int(downsample)
        self.fcn_downsample = int(fcn_downsample)
        self.scaling = None
        if input_scaling:
            self.scaling = InputScaling(
                input_size,
                per_sequence,
                eps=sequence_eps,
                both=both_scalings,
                anchor=anchor,
            )
            input_size = self.scaling.out_features
        self.target_channels = None
        if target_channels is not None:
            if len(target_channels) != output_size:
                raise ValueError(
                    f"target_channels names {len(target_channels)} channels for "
                    f"{output_size} outputs"
                )
            self.target_channels = [int(c) for c in target_channels]
        # front ends, in the order they apply: embedding, then convolutions
        front = []
        if embedding_dim is not None:
            front.append(TokenEmbedding(vocab_size, embedding_dim))
            input_size = embedding_dim
        if frame_shape is not None:
            front.append(
                FrameEncoder(
                    frame_shape,
                    conv_channels,
                    conv_kernel_size,
                    frame_pooling,
                    conv_batch_norm,
                )
            )
        elif conv_channels:
            front.append(
                TimeConv(input_size, conv_channels, conv_kernel_size, conv_batch_norm)
            )
        self.front = nn.ModuleList(front)
        if front:
            input_size = front[-1].out_features
        recurrent, lent = CELLS[cell]
        self.lstm = recurrent(  # "lstm" whatever the cell: the weights' names
            input_size,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=bidirectional,
            # torch warns when dropout is set on a single layer: it would do nothing
            dropout=dropout if num_layers > 1 else 0.0,
        )
        # one-layer, one-way shells that run this LSTM's weights (through
        # functional_call) on variable-length input; a plain list, so they are
        # neither parameters nor part of the state_dict
        self._single_layers = [
            lent(
                input_size if i == 0 else 2 * hidden_size,
                hidden_size,
                batch_first=True,
                device="meta",  # holds no memory and draws no random numbers
            )
            for i in range(num_layers if bidirectional else 0)
        ]
        self.dropout = nn.Dropout(dropout)
        features = hidden_size * (2 if bidirectional else 1)
        self.attention = AdditiveAttention(features) if pooling == "attention" else None
        self.fcn = None
        if len(fcn_channels):
            self.fcn = FCNBranch(
                input_size, fcn_channels, fcn_kernel_sizes, squeeze_excite
            )
            features += self.fcn.out_features
        self.head = nn.Linear(features, output_size)
        if init == "keras":
            keras_init(self)
        elif init != "pytorch":
            raise ValueError(f"init must be 'pytorch' or 'keras', got {init!r}")

    def __setstate__(self, state):
        super().__setstate__(state)
        for part in ("scaling", "fcn", "target_channels"):  # older sklstm
            if not hasattr(self, part):
                setattr(self, part, None)
        self.__dict__.setdefault("downsample", 1)
        self.__dict__.setdefault("fcn_downsample", 1)
        # an older sklstm pickled its shells as plain nn.LSTMs, which move the
        # weights lent to them on a GPU (_LentWeightsLSTM)
        lent = _LentWeightsGRU if isinstance(self.lstm, nn.GRU) else _LentWeightsLSTM
        self._single_layers = [
            lent(s.input_size, s.hidden_size, batch_first=True, device="meta")
            for s in self._single_layers
        ]

    def forward(
        self, x: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> torch.Tensor:
        x, stats = self._scale(x, lengths)
        x = self._front(x, lengths)
        coarse, coarse_lengths = average_windows(x, lengths, self.downsample)
        features = self.pool(self._lstm(coarse, coarse_lengths), coarse_lengths)
        if self.fcn is not None:
            fine, fine_lengths = average_windows(x, lengths, self.fcn_downsample)
            features = torch.cat([features, self.fcn(fine, fine_lengths)], dim=1)
        if self.training:  # dropout does nothing in evaluation but cost a call
            features = self.dropout(features)
        out = self.head(features)
        if self.target_channels is not None:
            mean, spread = stats
            out = out * spread[:, self.target_channels] + mean[:, self.target_channels]
        return out

    def not_streamable(self) -> str | None:
        """Why ``step`` cannot reproduce ``forward`` one step at a time (a
        part that reads a whole sequence at once), or None when it can."""
        reasons = [
            (self.bidirectional, "bidirectional=True (reads each sequence backwards)"),
            (self.pooling != "last", f"pooling={self.pooling!r} (needs 'last')"),
            (self.fcn is not None, "an FCN branch (pools over the whole sequence)"),
            (getattr(self, "downsample", 1) != 1, "downsample > 1 (averages steps)"),
            (
                self.scaling is not None and self.scaling.any_per_sequence,
                "per-window or per-sequence input scaling (the statistics of the "
                "whole window)",
            ),
            (
                any(not isinstance(p, TokenEmbedding) for p in self.front),
                "a convolutional front end (reads neighbouring steps)",
            ),
        ]
        found = [why for bad, why in reasons if bad]
        return "; ".join(found) or None

    def step(self, x: torch.Tensor, state=None):
        """One new time step ``x`` (``(batch, channels)``, or ``(batch,)`` token
        ids) after the recurrent ``state`` of the steps before (None: none):
        ``(outputs, state)``, the outputs ``forward`` gives for the whole
        sequence so far. Only where ``not_streamable()`` is None."""
        x, _ = self._scale(x.unsqueeze(1), None)
        x = self._front(x, None)
        out, state = self.lstm(x, state)
        return self.head(self.dropout(out[:, -1])), state

    def encode(
        self, x: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Per-step outputs of the last LSTM layer, ``(batch, steps, features)``
        (``steps / downsample`` of them, rounded up)."""
        x, _ = self._scale(x, lengths)
        coarse, lengths = average_windows(
            self._front(x, lengths), lengths, self.downsample
        )
        return self._lstm(coarse, lengths)

    def _scale(self, x: torch.Tensor, lengths: torch.Tensor | None):
        if self.scaling is None:
            return x, None
        return self.scaling(x, lengths)

    def _front(self, x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
        for part in self.front:
            x = part(x, lengths)
        return x

    def _lstm(
        self, x: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> torch.Tensor:
        if lengths is not None and self.bidirectional:
            return self._encode_both_ways(x, lengths)
        # A unidirectional layer never looks ahead, so trailing padding cannot
        # change the outputs at valid steps: running over it is exact and cheap.
        out, _ = self.lstm(x)
        return out

    def _encode_both_ways(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Bidirectional layers over left-aligned sequences of differing lengths.

        The backward direction must start at each sequence's own last step.
        Instead of packing (about 3x slower on a CPU), each layer runs the
        backward weights over every sequence reversed within its length, then
        reverses the outputs back; padding then trails in both directions.
        """
        lengths = lengths.to(x.device)
        steps = torch.arange(x.shape[1], device=x.device)
        last = lengths.unsqueeze(1) - 1
        # reversing within the length; padding steps stay where they are
        order = torch.where(steps <= last, last - steps, steps)
        for layer, single in enumerate(self._single_layers):
            if layer:
                x = nn.functional.dropout(x, self.lstm.dropout, self.training)
            with _copies_lent_weights(x.device):
                forward, _ = functional_call(single, self._weights(layer, ""), (x,))
                backward, _ = functional_call(
                    single, self._weights(layer, "_reverse"), (_gather(x, order),)
                )
            x = torch.cat([forward, _gather(backward, order)], dim=2)
        return x

    def _weights(self, layer: int, suffix: str) -> dict[str, torch.Tensor]:
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        return {f"{n}_l0": getattr(self.lstm, f"{n}_l{layer}{suffix}") for n in names}

    def pool(
        self, out: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Reduce ``(batch, steps, features)`` to ``(batch, features)``."""
        if self.pooling == "attention":
            return self.attention(out, lengths)
        if self.pooling == "last":
            if lengths is None:
                last = out[:, -1]
            else:
                rows = torch.arange(out.shape[0], device=out.device)
                last = out[rows, lengths.to(out.device) - 1]
            if not self.bidirectional:
                return last
            # the backward direction has read the whole sequence at step 0
            return torch.cat(
                [last[:, : self.hidden_size], out[:, 0, self.hidden_size :]], dim=1
            )
        if lengths is None:
            return out.mean(dim=1) if self.pooling == "mean" else out.amax(dim=1)
        mask = valid_mask(lengths.to(out.device), out.shape[1]).unsqueeze(-1)
        if self.pooling == "mean":
            total = out.masked_fill(~mask, 0.0).sum(dim=1)
            return total / lengths.to(out.device, out.dtype).unsqueeze(-1)
        return out.masked_fill(~mask, float("-inf")).amax(dim=1)


def attention_weights(
    module: LSTMNetwork, x: torch.Tensor, lengths: torch.Tensor | None = None
) -> torch.Tensor:
    """``(batch, steps)`` attention weights of a ``pooling="attention"`` network;
    a downsampled step's weight is shared evenly by the steps it averaged."""
    k = getattr(module, "downsample", 1)
    coarse = lengths if lengths is None or k == 1 else (lengths + k - 1) // k
    weights = module.attention.weights(module.encode(x, lengths), coarse)
    if k == 1:
        return weights
    counts = window_counts(lengths, x.shape[1], k, weights.device)
    shared = weights / counts.clamp(min=1).to(weights.dtype)
    return shared.repeat_interleave(k, dim=1)[:, : x.shape[1]].masked_fill(
        _beyond(lengths, x.shape[1], weights.device), 0.0
    )


def _beyond(lengths, steps: int, device) -> torch.Tensor:
    """True at padding steps, ``(batch, steps)`` (all False for None)."""
    if lengths is None:
        return torch.zeros(1, steps, dtype=torch.bool, device=device)
    return torch.arange(steps, device=device) >= lengths.to(device).unsqueeze(1)


class _LentWeightsLSTM(nn.LSTM):
    """A one-layer, one-way LSTM that runs weights lent to it by
    ``functional_call``: one direction of one layer of another LSTM.

    ``nn.LSTM`` flattens weights it is given into one buffer of its own, and on a
    GPU cuDNN does that by moving the given tensors into the new buffer: the
    lending LSTM's parameters would move on every call, losing their own buffer,
    and a CUDA graph recorded on them would read freed memory. These weights stay
    where their owner keeps them; cuDNN copies them for the call instead.
    """

    def flatten_parameters(self) -> None:
        pass


class _LentWeightsGRU(nn.GRU):
    """:class:`_LentWeightsLSTM` for GRU layers."""

    def flatten_parameters(self) -> None:
        pass


# the recurrent layer of each ``cell`` and its one-layer shell for lent weights
CELLS = {"lstm": (nn.LSTM, _LentWeightsLSTM), "gru": (nn.GRU, _LentWeightsGRU)}


@contextlib.contextmanager
def _copies_lent_weights(device: torch.device):
    """Silence cuDNN's warning that weights outside a flat buffer are copied for
    each call: for lent weights that copy is intended. Nothing on the CPU."""
    if device.type != "cuda":
        yield
        return
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="RNN module weights are not part", category=UserWarning
        )
        yield


def _gather(x: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
    """``x[i, order[i, t]]`` for every sample ``i`` and step ``t``."""
    return x.gather(1, order.unsqueeze(-1).expand(-1, -1, x.shape[2]))


def autocast(device, dtype: torch.dtype | None, cache: bool = True):
    """``torch.autocast`` to ``dtype`` on ``device``'s type (mixed precision);
    a no-op for None. ``cache=False`` casts weights afresh on every use."""
    if dtype is None:  # entering a disabled autocast still costs every batch
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=dtype, cache_enabled=cache)


@torch.no_grad()
def keras_init(module: nn.Module) -> None:
    """Re-initialise ``module``'s weights as Keras initialises its layers.

    LSTM input weights Glorot-uniform and recurrent weights orthogonal, over all
    four gates at once as Keras's kernels are; gate biases zero but the forget
    gate's, which is 1 (Keras's ``unit_forget_bias``; torch adds two bias
    vectors, so the second is zero). Linear and convolution kernels
    Glorot-uniform with zero biases; embeddings uniform in [-0.05, 0.05] with
    the padding row kept at zero.
    """
    for part in module.modules():
        if isinstance(part, (nn.LSTM, nn.GRU)):
            for name, weight in part.named_parameters():
                if name.startswith("weight_ih"):
                    nn.init.xavier_uniform_(weight)
                elif name.startswith("weight_hh"):
                    nn.init.orthogonal_(weight)
                else:
                    weight.zero_()
                    # an LSTM's forget gate starts open; a GRU has none
                    if name.startswith("bias_ih") and isinstance(part, nn.LSTM):
                        hidden = weight.shape[0] // 4  # gate order: i, f, g, o
                        weight[hidden : 2 * hidden] = 1.0
        elif isinstance(part, (nn.Linear, nn.Conv1d, nn.Conv2d)):
            nn.init.xavier_uniform_(part.weight)
            if part.bias is not None:
                part.bias.zero_()
        elif isinstance(part, nn.Embedding):
            nn.init.uniform_(part.weight, -0.05, 0.05)
            if part.padding_idx is not None:
                part.weight[part.padding_idx].zero_()
