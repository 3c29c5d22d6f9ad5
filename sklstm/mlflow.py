"""sklstm models in MLflow, stored as ``.sklstm`` files (``pip install
"sklstm[mlflow]"``).

``mlflow.sklearn.log_model`` cannot store an sklstm model safely: its default
format (skops) fails on the network ("Cannot directly construct TensorBase"),
and ``serialization_format="cloudpickle"`` is the unpickling of arbitrary code
that :func:`sklstm.save` exists to avoid. :func:`log_model` stores the model as
a ``.sklstm`` file inside an MLflow ``pyfunc`` model instead; MLflow loads it
with :func:`sklstm.load`, which checks the file before it builds anything.

    import mlflow, sklstm.mlflow
    with mlflow.start_run():
        info = sklstm.mlflow.log_model(model, name="model")
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    loaded.predict(X)                      # model.predict(X)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

__all__ = ["SklstmModel", "log_model"]


try:
    import mlflow.pyfunc as _mlflow_pyfunc
except ImportError as e:  # an optional extra
    raise ImportError(
        'sklstm.mlflow needs MLflow: pip install "sklstm[mlflow]" (mlflow-skinny '
        "is enough)."
    ) from e


class SklstmModel(_mlflow_pyfunc.PythonModel):
    """An MLflow ``pyfunc`` model around a ``.sklstm`` file.

    ``load_context`` reads the file with :func:`sklstm.load`; ``predict`` calls
    the model's ``predict``, or the method that ``params={"method": ...}``
    names ("predict_proba" for a classifier, "predict_quantiles" for a
    quantile regressor).
    """

    def load_context(self, context):
        from ._persistence import load

        self.model = load(context.artifacts["model"])

    def predict(self, context, model_input, params=None):
        method = (params or {}).get("method", "predict")
        if method not in ("predict", "predict_proba", "predict_quantiles"):
            raise ValueError(
                "params['method'] must be 'predict', 'predict_proba' or "
                f"'predict_quantiles'; got {method!r}."
            )
        return getattr(self.model, method)(model_input)


def log_model(model, name="model", **kwargs):
    """Log a fitted sklstm model (or a ``Pipeline`` that ``sklstm.save``
    takes) to the active MLflow run, as a ``.sklstm`` file in a pyfunc model.

    Parameters
    ----------
    model : estimator or Pipeline
        A fitted ``LSTMRegressor``, ``LSTMClassifier`` or a ``Pipeline`` of
        steps :func:`sklstm.save` supports.
    name : str, default="model"
        The model's name in the run.
    **kwargs
        Passed to ``mlflow.pyfunc.log_model`` (``signature``,
        ``input_example``, ``registered_model_name``, …).

    Returns
    -------
    info : mlflow.models.model.ModelInfo
        MLflow's description of the logged model; ``info.model_uri`` loads it
        with ``mlflow.pyfunc.load_model``.
    """
    from mlflow.models.signature import ModelSignature
    from mlflow.types.schema import ParamSchema, ParamSpec

    from ._persistence import save
    from ._version import __version__

    if "signature" not in kwargs:  # predict's method as an inference parameter
        methods = ParamSchema([ParamSpec("method", "string", "predict")])
        kwargs["signature"] = ModelSignature(inputs=None, outputs=None, params=methods)
    requirements = kwargs.pop("pip_requirements", None)
    requirements = requirements or [f"sklstm=={__version__}"]
    with tempfile.TemporaryDirectory() as folder:
        path = save(model, Path(folder) / "model.sklstm")
        return _mlflow_pyfunc.log_model(
            name=name,
            # "models from code": MLflow keeps this file, not a pickle of a wrapper
            python_model=str(Path(__file__).with_name("_mlflow_model.py")),
            artifacts={"model": str(path)},
            pip_requirements=requirements,
            **kwargs,
        )
