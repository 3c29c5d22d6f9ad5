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


class TimeConv(nn.Module):
    """Conv1d + ReLU layers over time that keep the number of steps.

    Padding steps are zeroed after every layer, so a sequence's valid steps see
    zeros beyond its end whatever the batch holds, as they would alone.
    """

    def __init__(self, in_features: int, channels, kernel_size: int) -> None:
        super().__init__()
        sizes = [in_features, *channels]
        self.convs = nn.ModuleList(
            nn.Conv1d(a, b, kernel_size, padding=kernel_size // 2)
            for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        )
        self.out_features = sizes[-1]

    def forward(self, x: torch.Tensor, lengths=None) -> torch.Tensor:
        steps = x.shape[1]
        keep = None if lengths is None else valid_mask(lengths, steps).unsqueeze(1)
        h = x.transpose(1, 2)
        for conv in self.convs:
            h = torch.relu(conv(h))[..., :steps]  # an even kernel adds one step
            if keep is not None:
                h = h.masked_fill(~keep, 0.0)
        return h.transpose(1, 2)


class FrameEncoder(nn.Module):
    """A small CNN applied to every frame of an image sequence (Keras's
    ``TimeDistributed`` CNN): Conv2d + ReLU + 2x2 max pooling per block, then
    one vector per frame: global average pooling (``pooling="average"``: the
    channels' means, blind to where in the frame a feature sits) or the whole
    last feature map flattened (``"flatten"``: keeps positions, as Keras's
    ``Flatten``). Frames arrive flattened, ``(batch, steps, height * width *
    channels)`` in channels-last order."""

    def __init__(self, frame_shape, channels, kernel_size: int, pooling="average"):
        super().__init__()
        height, width, depth = frame_shape
        self.frame_shape = (height, width, depth)
        blocks = []
        for out in channels:
            blocks += [nn.Conv2d(depth, out, kernel_size, padding=kernel_size // 2)]
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
