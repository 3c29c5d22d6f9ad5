"""A fitted model as an ONNX graph: export_onnx (``pip install "sklstm[onnx]"``)."""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import torch
from sklearn.utils.validation import check_is_fitted
from torch import nn


class _Served(nn.Module):
    """The network and what ``predict`` / ``predict_proba`` do after it: targets
    back on their scale (quantiles sorted), or class probabilities."""

    def __init__(self, network, kind, mean=None, scale=None, levels=None):
        super().__init__()
        self.network, self.kind, self.levels = network, kind, levels
        if kind == "regressor":
            self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
            self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32))

    def forward(self, x):
        out = self.network(x, None)
        if self.kind == "classifier":
            return torch.softmax(out, dim=1)
        if self.levels is None:
            return out * self.scale + self.mean
        out = out.reshape(out.shape[0], self.mean.shape[0], self.levels)
        out = torch.sort(out, dim=2).values
        return out * self.scale[:, None] + self.mean[:, None]


def export_onnx(model, path, *, opset=17):
    """Write a fitted estimator's prediction as an ONNX graph.

    The graph takes a float32 array ``x`` of shape ``(batch, steps,
    channels)`` (``batch`` and ``steps`` may differ from call to call; with
    ``downsample`` above 1, or an FCN branch's ``fcn_downsample`` above 1,
    ``steps`` is fixed at the training length) and
    returns what ``predict`` returns for a regressor (on the targets' scale,
    as ``(batch, n_outputs)``; for ``loss="pinball"`` every quantile,
    ``(batch, n_outputs, n_levels)``, sorted) or ``predict_proba`` for a
    classifier (columns in ``classes_`` order). Run it with onnxruntime
    anywhere, without Python's sklstm or torch.

    Parameters
    ----------
    model : LSTMRegressor or LSTMClassifier
        Fitted. A ``Pipeline`` is refused with the steps to run before the
        graph: export its last step and run the others in Python (or
        re-create them; ``SequenceScaler`` is a per-channel affine map).
    path : str or Path
        The ``.onnx`` file to write.
    opset : int, default=17
        ONNX opset version.

    Returns
    -------
    path : Path
        The file written.

    Notes
    -----
    The graph has no padding: ``predict`` reads NaN steps as padding and
    sequences of different lengths in one call, the graph takes a batch of
    sequences of one length without NaN. Token and image-sequence models are
    not exported.
    """
    from sklearn.pipeline import Pipeline

    from ._classifier import LSTMClassifier
    from ._regressor import LSTMRegressor

    if isinstance(model, Pipeline):
        steps = [name for name, _ in model.steps[:-1]]
        raise ValueError(
            f"export_onnx exports one estimator; this Pipeline runs {steps} before "
            f"its last step. Export pipeline[-1] (export_onnx(pipeline[-1], path)) "
            "and run pipeline[:-1].transform(X) in Python before the graph."
        )
    if not isinstance(model, (LSTMRegressor, LSTMClassifier)):
        raise TypeError(
            "export_onnx takes a fitted LSTMRegressor or LSTMClassifier; got "
            f"{type(model).__name__}."
        )
    check_is_fitted(model)
    if model.vocab_size_ is not None or model.frame_shape_ is not None:
        raise ValueError(
            "export_onnx does not export token or image-sequence models (their "
            "inputs are ids or frames); export a model on numeric channels."
        )
    try:
        import onnx  # noqa: F401  (torch.onnx writes through it)
    except ImportError as e:
        raise ImportError('export_onnx needs onnx: pip install "sklstm[onnx]".') from e
    network = copy.deepcopy(model.module_).to("cpu").eval()  # the model's own stays
    if isinstance(model, LSTMClassifier):
        served = _Served(network, "classifier")
    else:
        levels = getattr(model, "quantiles_", None)
        served = _Served(
            network,
            "regressor",
            model.y_mean_,
            model.y_scale_,
            None if levels is None else len(levels),
        )
    steps = int(model.n_features_in_)
    example = torch.zeros((2, steps, model.n_channels_in_))
    axes = {0: "batch", 1: "steps"}
    if getattr(network, "downsample", 1) != 1 or (
        network.fcn is not None and getattr(network, "fcn_downsample", 1) != 1
    ):
        axes = {0: "batch"}  # the averaging's shape is traced: fixed steps
    path = Path(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on its internals
        torch.onnx.export(
            served,
            (example,),
            str(path),
            input_names=["x"],
            output_names=["y"],
            dynamic_axes={"x": axes, "y": {0: "batch"}},
            opset_version=opset,
            dynamo=False,
        )
    return path
