"""The main job of ``make demo``: forecast the airline series and compare."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.metrics import mean_absolute_percentage_error
from sklearn.model_selection import TimeSeriesSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ._regressor import LSTMRegressor
from ._windows import SequenceWindower
from .datasets import load_airline

SEASON = 12


def growth_table(passengers: np.ndarray):
    """Year-over-year log growth as features, next month's growth as target.

    Row ``t`` holds the growth ``log y[t] - log y[t-12]``; its target is the
    growth of month ``t + 1``. A forecast of month ``t + 1`` is then
    ``y[t - 11] * exp(predicted growth)``: the seasonal-naive forecast corrected
    by the model, which keeps seasonality and trend out of the network's way.
    """
    logs = np.log(passengers)
    growth = logs[SEASON:] - logs[:-SEASON]  # growth[k] is month k + 12
    features = growth[:-1, None]
    target = growth[1:]
    base = passengers[1 : len(passengers) - SEASON]  # y[t - 11] for row t
    actual = passengers[SEASON + 1 :]
    return features, target, base, actual


def make_model(window=SEASON, random_state=0, max_epochs=300):
    """The demo's pipeline: scale, window, LSTM."""
    return make_pipeline(
        StandardScaler(),
        SequenceWindower(window),
        LSTMRegressor(
            hidden_size=16, lr=3e-3, max_epochs=max_epochs, random_state=random_state
        ),
    )


def mape(actual, forecast) -> float:
    """Mean absolute percentage error, in percent."""
    return 100 * float(mean_absolute_percentage_error(actual, forecast))


def run(out_dir="sklstm-output", n_splits=3, test_size=24, max_epochs=300, echo=print):
    """Cross-validate the pipeline against seasonal naive and plot the folds.

    Returns a dict of per-fold and mean MAPE for both, and the plot's path.
    """
    df = load_airline(as_frame=True)
    passengers = df["passengers"].to_numpy(dtype=np.float64)
    months = df["month"].to_numpy()[SEASON + 1 :]
    X, y, base, actual = growth_table(passengers)
    splitter = TimeSeriesSplit(n_splits=n_splits, test_size=test_size)
    echo(
        f"Airline passengers, {len(passengers)} months; TimeSeriesSplit("
        f"{n_splits}), one-step-ahead forecasts of {test_size} months per fold."
    )
    echo(f"{'fold':<6}{'test months':<20}{'LSTM MAPE':>11}{'seasonal naive':>16}")
    folds = []
    for k, (train, test) in enumerate(splitter.split(X), start=1):
        model = make_model(max_epochs=max_epochs).fit(X[train], y[train])
        forecast = base[test] * np.exp(model.predict(X[test]))
        fold = {
            "test": test,
            "forecast": forecast,
            "naive": base[test],
            "lstm_mape": mape(actual[test], forecast),
            "naive_mape": mape(actual[test], base[test]),
        }
        folds.append(fold)
        span = f"{months[test[0]]}..{months[test[-1]]}"
        echo(f"{k:<6}{span:<20}{fold['lstm_mape']:>10.2f}%{fold['naive_mape']:>15.2f}%")
    lstm = float(np.mean([f["lstm_mape"] for f in folds]))
    naive = float(np.mean([f["naive_mape"] for f in folds]))
    echo(f"{'mean':<26}{lstm:>10.2f}%{naive:>15.2f}%")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plot = _plot(out / "forecast.png", df, folds)
    echo(f"Forecast plot written to {plot}")
    return {"lstm_mape": lstm, "naive_mape": naive, "folds": folds, "plot": plot}


def _plot(path: Path, df, folds) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    months = np.arange(len(df))
    fig, ax = plt.subplots(figsize=(10, 4.5))
    ax.plot(months, df["passengers"], color="black", lw=1.2, label="actual")
    for k, fold in enumerate(folds):
        x = fold["test"] + SEASON + 1
        ax.axvspan(x[0] - 0.5, x[-1] + 0.5, color="tab:blue", alpha=0.06)
        ax.plot(
            x,
            fold["naive"],
            color="grey",
            lw=1,
            ls="--",
            label="seasonal naive" if k == 0 else None,
        )
        ax.plot(
            x,
            fold["forecast"],
            color="tab:red",
            lw=1.5,
            label="LSTM one-step forecast" if k == 0 else None,
        )
    ticks = months[::24]
    ax.set_xticks(ticks, df["month"].to_numpy()[::24])
    ax.set_ylabel("passengers (thousands)")
    ax.set_title("Airline passengers: LSTM forecasts on TimeSeriesSplit test folds")
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
