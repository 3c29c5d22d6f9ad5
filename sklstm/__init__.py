"""LSTM networks in scikit-learn's idiom, on PyTorch through skorch."""

from ._backtest import Backtest, backtest
from ._calendar import CalendarFeatures
from ._classifier import LSTMClassifier
from ._config import config_context, get_config, set_config
from ._forecasting import forecast
from ._history import TrainingDivergedError
from ._intervals import predict_interval, predict_quantiles
from ._make_windows import make_windows
from ._onnx import export_onnx
from ._persistence import ModelFileError, load, save
from ._plots import plot_attention, plot_history
from ._regressor import LSTMRegressor
from ._scaler import SequenceScaler
from ._streaming import StreamingPredictor
from ._version import __version__
from ._windows import SequenceWindower

__all__ = [
    "Backtest",
    "CalendarFeatures",
    "LSTMClassifier",
    "LSTMRegressor",
    "ModelFileError",
    "SequenceScaler",
    "SequenceWindower",
    "StreamingPredictor",
    "TrainingDivergedError",
    "backtest",
    "config_context",
    "export_onnx",
    "forecast",
    "get_config",
    "load",
    "make_windows",
    "plot_attention",
    "plot_history",
    "predict_interval",
    "predict_quantiles",
    "save",
    "set_config",
    "__version__",
]
