"""Front ends and attention for the network. Torch only; no scikit-learn.

Every part takes left-aligned batches ``(batch, steps, ...)`` with the valid
length of each sequence (``lengths=None``: all full) and keeps padding from
changing what the valid steps compute.
"""

from __future__ import annotations

import torch
from torch import nn


def valid_mask(lengths: torch.Tensor, steps: int) -> torch.Tensor:
    """Boolean ``(batch, steps)`` mask, True at each sequence's valid steps."""
    return torch.arange(steps, device=lengths.device) < lengths.unsqueeze(1)


def window_counts(lengths, steps: int, k: int, device) -> torch.Tensor:
    """Valid steps in each window of ``k`` steps, ``(batch, windows)``, for
    sequences of ``lengths`` (None: all ``steps`` long)."""
    starts = torch.arange(0, steps, k, device=device)
    if lengths is None:
        return (steps - starts).clamp(max=k).unsqueeze(0)
    return (lengths.to(device).unsqueeze(1) - starts).clamp(min=0, max=k)


def average_windows(x: torch.Tensor, lengths, k: int):
    """Each run of ``k`` steps of ``(batch, steps, features)`` averaged over its
    valid steps (padding must be zero), and the new lengths: a sequence read
    ``k`` times more coarsely. ``k=1`` returns the input."""
    if k == 1:
        return x, lengths
    batch, steps, features = x.shape
    # rounded up with non-negative operands: an exported graph divides with
    # truncation, which is not floor division for a negative numerator
    windows = (steps + k - 1) // k
    x = nn.functional.pad(x, (0, 0, 0, windows * k - steps))
    counts = window_counts(lengths, steps, k, x.device)
    total = x.view(batch, windows, k, features).sum(dim=2)
    out = total / counts.clamp(min=1).unsqueeze(-1).to(x.dtype)
    return out, None if lengths is None else (lengths + k - 1) // k


class TokenEmbedding(nn.Module):
    """Token ids (the one channel of the input, 0 = padding) to vectors."""

    def __init__(self, vocab_size: int, embedding_dim: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.out_features = embedding_dim

    def forward(self, x: torch.Tensor, lengths=None) -> torch.Tensor:
        return self.embedding(x[..., 0].long())


class _LoneValueSafe:
    """Batch norm that, in training, normalises a lone value per channel (one
    sample of one step: it has no spread) with the running statistics instead
    of failing, and leaves them as they are."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training and x.numel() <= x.shape[1]:
            return nn.functional.batch_norm(
                x, self.running_mean, self.running_var, self.weight, self.bias,
                False, 0.0, self.eps,
            )  # fmt: skip
        return super().forward(x)


class BatchNorm1d(_LoneValueSafe, nn.BatchNorm1d):
    pass


class BatchNorm2d(_LoneValueSafe, nn.BatchNorm2d):
    pass


class TimeConv(nn.Module):
    """Conv1d [+ BatchNorm] + ReLU layers over time that keep the number of steps.

    ``kernel_size`` is one size for every layer or one per layer. With
    ``squeeze_excite``, a squeeze-and-excite block (Hu et al., 2018) follows
    every layer but the last, as in MLSTM-FCN. Padding steps are zeroed after
    every layer, so a sequence's valid steps see zeros beyond its end whatever
    the batch holds, as they would alone. Batch norm and the squeeze take their
    statistics over the valid steps only.
    """

    def __init__(
        self,
        in_features: int,
        channels,
        kernel_size,
        batch_norm: bool = False,
        squeeze_excite: bool = False,
    ) -> None:
        super().__init__()
        sizes = [in_features, *channels]
        kernels = _per_layer(kernel_size, len(channels))
        self.convs = nn.ModuleList(
            nn.Conv1d(a, b, k, padding=k // 2)
            for a, b, k in zip(sizes[:-1], sizes[1:], kernels, strict=True)
        )
        self.norms = nn.ModuleList(
            BatchNorm1d(b) for b in (sizes[1:] if batch_norm else ())
        )
        self.excite = nn.ModuleList(
            SqueezeExcite(b) for b in (sizes[1:-1] if squeeze_excite else ())
        )
        self.out_features = sizes[-1]

    def forward(self, x: torch.Tensor, lengths=None) -> torch.Tensor:
        steps = x.shape[1]
        valid = None if lengths is None else valid_mask(lengths, steps)
        h = x.transpose(1, 2)
        for i, conv in enumerate(self.convs):
            h = conv(h)[..., :steps]  # an even kernel adds one step
            if self.norms and valid is not None:
                h = masked_norm_relu(self.norms[i], h, valid)
            else:
                h = torch.relu(self.norms[i](h) if self.norms else h)
                if valid is not None:
                    h = h.masked_fill(~valid.unsqueeze(1), 0.0)
            if i < len(self.excite):
                h = self.excite[i](h, lengths)
        return h.transpose(1, 2)


def masked_norm_relu(norm: nn.BatchNorm1d, h: torch.Tensor, valid) -> torch.Tensor:
    """``relu(norm(h))`` over ``(batch, channels, steps)`` as if to its valid
    steps alone, zero at the padding: in training, the statistics (and the
    running ones) come from the steps where ``valid`` ``(batch, steps)`` is
    True. Ragged batches spent a quarter of an epoch here, so training runs
    one function with its gradient written out (``_MaskedNormReLU``: forward
    and backward over 32 x 128 x 300 activations 5.7 ms, against 13.3 ms for
    the same arithmetic through autograd)."""
    mask = valid.unsqueeze(1).to(h.dtype)
    count = mask.sum()
    if not norm.training or count <= 1:  # a lone value has no spread
        h = nn.functional.batch_norm(
            h, norm.running_mean, norm.running_var, norm.weight, norm.bias,
            False, 0.0, norm.eps,
        )  # fmt: skip
        return torch.relu(h).masked_fill(~valid.unsqueeze(1), 0.0)
    weight, bias = (norm.weight, norm.bias) if norm.affine else (None, None)
    out, mean, var = _MaskedNormReLU.apply(h, mask, weight, bias, norm.eps)
    if norm.track_running_stats:
        with torch.no_grad():
            norm.num_batches_tracked += 1
            factor = norm.momentum
            if factor is None:  # a cumulative average
                factor = 1.0 / float(norm.num_batches_tracked)
            unbiased = var * count / (count - 1)
            norm.running_mean.lerp_(mean.to(norm.running_mean.dtype), factor)
            norm.running_var.lerp_(unbiased.to(norm.running_var.dtype), factor)
    return out


class _MaskedNormReLU(torch.autograd.Function):
    """Batch norm over the steps where ``mask`` ``(batch, 1, steps)`` is 1,
    then ReLU, then zero at the padding, with its gradient written out: the
    batch's mean and variance (at least float32) come back beside the output for the
    running statistics."""

    @staticmethod
    def forward(ctx, h, mask, weight, bias, eps):
        count = mask.sum()
        acc = ctx.acc = torch.promote_types(h.dtype, torch.float32)
        centred = h * mask
        mean = centred.sum(dim=(0, 2), dtype=acc) / count
        centred.sub_(mean.to(h.dtype)[None, :, None]).mul_(mask)
        norm = torch.linalg.vector_norm(centred, dim=(0, 2), dtype=acc)
        var = norm.square() / count
        rstd = torch.rsqrt(var + eps)
        scale = rstd if weight is None else rstd * weight
        out = centred * scale.to(h.dtype)[None, :, None]
        if bias is not None:
            out.add_(bias.to(h.dtype)[None, :, None])
        out.relu_().mul_(mask)
        ctx.save_for_backward(centred, out, mask, rstd, weight)
        ctx.count = count
        ctx.mark_non_differentiable(mean, var)
        return out, mean, var

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad, _mean, _var):
        centred, out, mask, rstd, weight = ctx.saved_tensors
        count = ctx.count
        g = grad * (out > 0)  # ReLU's gradient; zero at the padding, as out is
        sum_g = g.sum(dim=(0, 2), dtype=ctx.acc)
        sum_gc = (g * centred).sum(dim=(0, 2), dtype=ctx.acc)
        scale = rstd if weight is None else rstd * weight
        slope = rstd * rstd * sum_gc / count
        dtype = g.dtype
        g.sub_((sum_g / count).to(dtype)[None, :, None])
        g.sub_(centred * slope.to(dtype)[None, :, None])
        g.mul_(scale.to(dtype)[None, :, None]).mul_(mask)
        d_weight = None if weight is None else (sum_gc * rstd).to(weight.dtype)
        d_bias = None if weight is None else sum_g.to(weight.dtype)
        return g, None, d_weight, d_bias, None


def _per_layer(kernel_size, layers: int) -> tuple[int, ...]:
    """One kernel size per layer from an int or a sequence of them."""
    if isinstance(kernel_size, int):
        return (kernel_size,) * layers
    kernels = tuple(int(k) for k in kernel_size)
    if len(kernels) != layers:
        raise ValueError(
            f"{len(kernels)} kernel sizes {kernels} for {layers} convolution layers"
        )
    return kernels


def time_mean(h: torch.Tensor, lengths=None) -> torch.Tensor:
    """Mean over the valid steps of ``(batch, channels, steps)``: ``(batch,
    channels)``. Padding steps must be zero."""
    if lengths is None:
        return h.mean(dim=2)
    return h.sum(dim=2) / lengths.to(h.device, h.dtype).unsqueeze(1)


class SqueezeExcite(nn.Module):
    """Squeeze-and-excite over channels: each channel of ``(batch, channels,
    steps)`` is scaled by a gate computed from every channel's mean over the
    valid steps (reduction 16, as in MLSTM-FCN)."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.squeeze = nn.Linear(channels, hidden)
        self.excite = nn.Linear(hidden, channels)

    def forward(self, h: torch.Tensor, lengths=None) -> torch.Tensor:
        gate = torch.relu(self.squeeze(time_mean(h, lengths)))
        return h * torch.sigmoid(self.excite(gate)).unsqueeze(2)


class FCNBranch(nn.Module):
    """The fully convolutional branch of LSTM-FCN (Karim et al., 2018):
    Conv1d + BatchNorm + ReLU blocks (squeeze-and-excite between them in
    MLSTM-FCN) and global average pooling over the valid steps, to one
    vector per sequence."""

    def __init__(
        self, in_features: int, channels, kernel_sizes, squeeze_excite: bool = False
    ) -> None:
        super().__init__()
        self.convs = TimeConv(
            in_features, channels, kernel_sizes, True, squeeze_excite=squeeze_excite
        )
        self.out_features = self.convs.out_features

    def forward(self, x: torch.Tensor, lengths=None) -> torch.Tensor:
        return time_mean(self.convs(x, lengths).transpose(1, 2), lengths)


class InputScaling(nn.Module):
    """Standardise each input channel: first with a mean and scale learned in
    ``fit`` (``loc`` and ``scale``, buffers), then, for the channels flagged in
    ``per_sequence``, over each sequence's own valid steps (zero mean, unit
    variance: the z-normalisation of the time-series archives, RevIN's instance
    normalisation). Padding steps stay zero.

    ``forward`` returns the scaled input and each sequence's per-channel mean
    and spread (of the globally scaled values; 0 and 1 for other channels), so
    that an output can be put back on its sequence's level.
    """

    def __init__(
        self,
        channels: int,
        per_sequence=(),
        eps: float = 1e-5,
        both: bool = False,
        anchor: str = "mean",
    ) -> None:
        super().__init__()
        # anchor "last": a sequence is read relative to its last valid value
        # (its spread still the standard deviation), so that the level it
        # ended at, not its mean, is the zero a trend continues from
        self.anchor = anchor
        # both: the per-sequence channels come out twice, scaled globally and
        # per sequence, the latter after all the channels
        self.both = bool(both and per_sequence)
        self.out_features = channels + (len(per_sequence) if self.both else 0)
        self.register_buffer("loc", torch.zeros(channels))
        self.register_buffer("scale", torch.ones(channels))
        flags = torch.zeros(channels, dtype=torch.bool)
        flags[list(per_sequence)] = True
        self.register_buffer("per_sequence", flags)
        self.eps = eps
        self.any_per_sequence = bool(per_sequence)  # from Python: works on "meta"

    def forward(self, x: torch.Tensor, lengths=None):
        x = (x - self.loc) / self.scale
        valid = None
        if lengths is not None:
            valid = valid_mask(lengths.to(x.device), x.shape[1]).unsqueeze(-1)
            x = x.masked_fill(~valid, 0.0)
        if not self.any_per_sequence:
            return x, None
        n = x.shape[1] if lengths is None else lengths.to(x.device, x.dtype)[:, None]
        mean = x.sum(dim=1) / n
        centred = x - mean.unsqueeze(1)
        if valid is not None:
            centred = centred.masked_fill(~valid, 0.0)
        spread = torch.sqrt((centred**2).sum(dim=1) / n + self.eps)
        if getattr(self, "anchor", "mean") == "last":
            if lengths is None:
                mean = x[:, -1]
            else:
                rows = torch.arange(x.shape[0], device=x.device)
                mean = x[rows, lengths.to(x.device) - 1]
            centred = x - mean.unsqueeze(1)
            if valid is not None:
                centred = centred.masked_fill(~valid, 0.0)
        keep = ~self.per_sequence
        mean = mean.masked_fill(keep, 0.0)
        spread = spread.masked_fill(keep, 1.0)
        scaled = torch.where(self.per_sequence, centred / spread.unsqueeze(1), x)
        if self.both:
            scaled = torch.cat([x, scaled[:, :, self.per_sequence]], dim=2)
        return scaled, (mean, spread)


class FrameEncoder(nn.Module):
    """A small CNN applied to every frame of an image sequence (Keras's
    ``TimeDistributed`` CNN): Conv2d [+ BatchNorm] + ReLU + 2x2 max pooling
    per block (batch norm sees the valid frames only), then
    one vector per frame: global average pooling (``pooling="average"``: the
    channels' means, blind to where in the frame a feature sits) or the whole
    last feature map flattened (``"flatten"``: keeps positions, as Keras's
    ``Flatten``). Frames arrive flattened, ``(batch, steps, height * width *
    channels)`` in channels-last order."""

    def __init__(
        self,
        frame_shape,
        channels,
        kernel_size: int,
        pooling="average",
        batch_norm: bool = False,
    ):
        super().__init__()
        height, width, depth = frame_shape
        self.frame_shape = (height, width, depth)
        blocks = []
        for out in channels:
            blocks += [nn.Conv2d(depth, out, kernel_size, padding=kernel_size // 2)]
            blocks += [BatchNorm2d(out)] if batch_norm else []
            blocks += [nn.ReLU()]
            if min(height, width) >= 2:  # pool while there is room to
                blocks += [nn.MaxPool2d(2)]
                height, width = height // 2, width // 2
            depth = out
        if pooling == "average":
            blocks += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
            self.out_features = depth
        elif pooling == "flatten":
            blocks += [nn.Flatten()]
            self.out_features = depth * height * width
        else:
            raise ValueError(f"pooling must be 'average' or 'flatten', got {pooling!r}")
        self.pooling = pooling
        self.cnn = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor, lengths=None) -> torch.Tensor:
        batch, steps, _ = x.shape
        height, width, depth = self.frame_shape
        frames = x.reshape(batch * steps, height, width, depth).permute(0, 3, 1, 2)
        if lengths is None:
            return self.cnn(frames).view(batch, steps, self.out_features)
        # padding frames are not worth a convolution: encode the valid ones
        valid = valid_mask(lengths, steps).reshape(-1)
        encoded = self.cnn(frames[valid])
        out = encoded.new_zeros(batch * steps, self.out_features)
        out[valid] = encoded
        return out.view(batch, steps, self.out_features)


class AdditiveAttention(nn.Module):
    """Additive (Bahdanau) attention over time: a score per step,
    ``v . tanh(W h_t + b)``, a softmax over the valid steps, and the weighted
    sum of the step outputs."""

    def __init__(self, features: int) -> None:
        super().__init__()
        self.project = nn.Linear(features, features)
        self.score = nn.Linear(features, 1, bias=False)

    def weights(self, out: torch.Tensor, lengths=None) -> torch.Tensor:
        """``(batch, steps)`` weights, summing to 1 over each valid length and 0
        on padding."""
        scores = self.score(torch.tanh(self.project(out))).squeeze(-1).float()
        if lengths is not None:
            keep = valid_mask(lengths.to(out.device), out.shape[1])
            scores = scores.masked_fill(~keep, float("-inf"))
        return torch.softmax(scores, dim=1)

    def forward(self, out: torch.Tensor, lengths=None) -> torch.Tensor:
        weights = self.weights(out, lengths).to(out.dtype)
        return torch.bmm(weights.unsqueeze(1), out).squeeze(1)
