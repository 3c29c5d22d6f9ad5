"""The code MLflow runs to build an sklstm pyfunc model ("models from code":
no pickle of the wrapper either); see :mod:`sklstm.mlflow`."""

import mlflow

from sklstm.mlflow import SklstmModel

mlflow.models.set_model(SklstmModel())
