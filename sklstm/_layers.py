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

    Padding steps are zeroed after every layer, so a sequence's valid steps see
    zeros beyond its end whatever the batch holds, as they would alone. Batch
    norm takes its statistics over the valid steps only.
    """

    def __init__(
        self, in_features: int, channels, kernel_size: int, batch_norm: bool = False
    ) -> None:
        super().__init__()
        sizes = [in_features, *channels]
        self.convs = nn.ModuleList(
            nn.Conv1d(a, b, kernel_size, padding=kernel_size // 2)
            for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        )
        self.norms = nn.ModuleList(
            BatchNorm1d(b) for b in (sizes[1:] if batch_norm else ())
        )
        self.out_features = sizes[-1]

    def forward(self, x: torch.Tensor, lengths=None) -> torch.Tensor:
        steps = x.shape[1]
        valid = None if lengths is None else valid_mask(lengths, steps)
        h = x.transpose(1, 2)
        for i, conv in enumerate(self.convs):
            h = conv(h)[..., :steps]  # an even kernel adds one step
            if self.norms:
                h = self._normalise(self.norms[i], h, valid)
            h = torch.relu(h)
            if valid is not None:
                h = h.masked_fill(~valid.unsqueeze(1), 0.0)
        return h.transpose(1, 2)

    @staticmethod
    def _normalise(norm, h: torch.Tensor, valid) -> torch.Tensor:
        if valid is None:
            return norm(h)
        steps_first = h.transpose(1, 2)  # (batch, steps, channels)
        out = torch.zeros_like(steps_first)
        out[valid] = norm(steps_first[valid])  # the valid steps' (n, channels)
        return out.transpose(1, 2)


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
