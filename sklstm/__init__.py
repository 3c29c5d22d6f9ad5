"""LSTM networks in scikit-learn's idiom, on PyTorch through skorch."""

from ._base import TrainingDivergedError
from ._classifier import LSTMClassifier
from ._regressor import LSTMRegressor

__version__ = "0.1.0"

__all__ = [
    "LSTMClassifier",
    "LSTMRegressor",
    "TrainingDivergedError",
    "__version__",
]
