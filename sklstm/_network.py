"""The torch module behind the estimators. Knows nothing of scikit-learn."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

POOLINGS = ("last", "mean", "max")


class LSTMNetwork(nn.Module):
    """LSTM layers, a pooling over time and a linear head.

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
    pooling : {"last", "mean", "max"}
        How the per-step outputs of the last layer become one vector: the output
        at the last valid step (the first step for the backward direction), or the
        mean or maximum over valid steps.
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
    ) -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        self.hidden_size = hidden_size
        self.bidirectional = bidirectional
        self.pooling = pooling
        self.lstm = nn.LSTM(
            input_size,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=bidirectional,
            # torch warns when dropout is set on a single layer: it would do nothing
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), output_size)

    def forward(
        self, x: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> torch.Tensor:
        out = self.encode(x, lengths)
        return self.head(self.dropout(self.pool(out, lengths)))

    def encode(
        self, x: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Per-step outputs of the last LSTM layer, ``(batch, steps, features)``."""
        if lengths is not None and self.bidirectional:
            # The backward direction must start at each sequence's own last step,
            # so trailing padding cannot simply be run over; packing does that.
            packed = pack_padded_sequence(
                x, lengths.cpu(), batch_first=True, enforce_sorted=False
            )
            out, _ = self.lstm(packed)
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
            return out
        # A unidirectional layer never looks ahead, so trailing padding cannot
        # change the outputs at valid steps: running over it is exact and cheap.
        out, _ = self.lstm(x)
        return out

    def pool(
        self, out: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Reduce ``(batch, steps, features)`` to ``(batch, features)``."""
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


def valid_mask(lengths: torch.Tensor, steps: int) -> torch.Tensor:
    """Boolean ``(batch, steps)`` mask, True at each sequence's valid steps."""
    return torch.arange(steps, device=lengths.device) < lengths.unsqueeze(1)
