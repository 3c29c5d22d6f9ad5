"""Hyperparameter search: GridSearchCV, a random search on units, and Optuna.

The seed article tunes the number of LSTM units with Keras Tuner's random
search (32 to 512 in steps of 32). sklstm estimators are ordinary scikit-learn
estimators, so every scikit-learn search works, and so does Optuna's
``OptunaSearchCV``. Pipeline steps are addressed as ``lstm__hidden_size``.
Folds come from ``TimeSeriesSplit``: each validation fold lies after its
training years, as in real forecasting.

Data: yearly sunspots, windows of ten years, the next year as target; the
searches see 1700–1920 only, and the chosen models are scored on 1921–1987.

Prints each search's choice and its test MSE.

Run: ``python examples/09_hyperparameter_search.py`` (about 17 s on two cores).
"""

import os
import warnings

import optuna
from optuna.distributions import FloatDistribution, IntDistribution
from optuna_integration import OptunaSearchCV
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, TimeSeriesSplit
from sklearn.pipeline import Pipeline

from sklstm import LSTMRegressor, SequenceScaler, make_windows
from sklstm.datasets import load_sunspots

QUICK = os.environ.get("SKLSTM_EXAMPLES_QUICK") == "1"
EPOCHS = 3 if QUICK else 25

sunspots = load_sunspots(as_frame=True).set_index("year")["sunspots"]
X, y = make_windows(sunspots.to_numpy(), 10)
year = sunspots.index[10:]
train, test = year <= 1920, (year >= 1921) & (year <= 1987)
pipe = Pipeline(
    [
        ("scale", SequenceScaler()),
        ("lstm", LSTMRegressor(lr=3e-3, max_epochs=EPOCHS, random_state=0)),
    ]
)
folds = TimeSeriesSplit(n_splits=3)
scoring = "neg_mean_squared_error"


def report(name, search):
    test_mse = mean_squared_error(y[test], search.predict(X[test]))
    print(
        f"{name}: chose {search.best_params_}, CV MSE {-search.best_score_:.0f}, "
        f"test MSE {test_mse:.0f}"
    )


grid = GridSearchCV(
    pipe, {"lstm__hidden_size": [16, 64]}, cv=folds, scoring=scoring, n_jobs=2
)
report("GridSearchCV", grid.fit(X[train], y[train]))

# The seed's Keras Tuner space: units from 32 to 512 in steps of 32.
space = {"lstm__hidden_size": [32 * k for k in range(1, 17)]}
random = RandomizedSearchCV(
    pipe,
    space,
    n_iter=2 if QUICK else 3,
    cv=folds,
    scoring=scoring,
    n_jobs=2,
    random_state=0,
)
report("RandomizedSearchCV (units 32-512)", random.fit(X[train], y[train]))

optuna.logging.set_verbosity(optuna.logging.WARNING)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
    # optuna-integration 5.0 touches optuna.terminator, deprecated in optuna 4.9.
    warnings.simplefilter("ignore", FutureWarning)
    study = OptunaSearchCV(
        pipe,
        {
            "lstm__hidden_size": IntDistribution(32, 512, step=32),
            "lstm__lr": FloatDistribution(1e-4, 1e-2, log=True),
        },
        cv=folds,
        scoring=scoring,
        n_trials=2 if QUICK else 4,
        random_state=0,
    )
    report("OptunaSearchCV (units and lr)", study.fit(X[train], y[train]))
