"""Losses the estimators train with beyond torch's own: the pinball (quantile)
loss over a set of quantiles, trained jointly. A torch module; nothing of
scikit-learn."""

from __future__ import annotations

import torch
from torch import nn


class PinballLoss(nn.Module):
    """The pinball loss of each of ``quantiles`` for every target, unreduced.

    The network predicts ``n_outputs * len(quantiles)`` values per sample,
    output by output (the quantiles of output 0, then those of output 1, ...);
    the targets are ``(batch, n_outputs)``. For a quantile ``q`` and an error
    ``e = y - prediction`` the loss is ``max(q * e, (q - 1) * e)``: its
    minimiser is the ``q``-quantile of ``y`` given the input (Koenker and
    Bassett, 1978). Returns ``(batch, n_outputs, len(quantiles))``.
    """

    def __init__(self, quantiles):
        super().__init__()
        self.register_buffer(
            "quantiles", torch.as_tensor(quantiles, dtype=torch.float32)
        )

    def forward(self, prediction: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        y = y.reshape(len(y), -1)
        prediction = prediction.reshape(*y.shape, len(self.quantiles))
        error = y.unsqueeze(-1) - prediction
        q = self.quantiles.to(error.dtype)
        return torch.maximum(q * error, (q - 1) * error)
