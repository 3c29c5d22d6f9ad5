"""Stacked LSTM regression: next year's sunspot number from the last ten.

The seed article's first model, two stacked LSTM(50) layers over windows of
ten steps and a one-unit head, is ``LSTMRegressor(50, num_layers=2)``. Here it
runs on real data: yearly sunspot numbers (NOAA, public domain), the classic
split (train 1700–1920, test 1921–1987), one step ahead. The reference is an
AR(9) model on the same split (MSE 305.2, ``../shared/data/README.md``).

Prints the Keras-style summary and the test MSE and MAE, and saves a plot.

Run: ``python examples/01_stacked_lstm.py`` (about 6 s on two cores).
"""

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from sklearn.metrics import mean_absolute_error, mean_squared_error
from sklearn.pipeline import make_pipeline

from sklstm import LSTMRegressor, SequenceScaler, make_windows
from sklstm.datasets import load_sunspots

QUICK = os.environ.get("SKLSTM_EXAMPLES_QUICK") == "1"
OUT = Path(os.environ.get("SKLSTM_EXAMPLES_OUT", "examples-output"))
WINDOW = 10

sunspots = load_sunspots(as_frame=True).set_index("year")["sunspots"]
X, y = make_windows(
    sunspots.to_numpy(), WINDOW
)  # X[i] = years i..i+9, y[i] = year i+10
target_year = sunspots.index[WINDOW:]
train = target_year <= 1920
test = (target_year >= 1921) & (target_year <= 1987)

lstm = LSTMRegressor(
    50,
    num_layers=2,  # the seed's LSTM(50, return_sequences=True) + LSTM(50)
    max_epochs=5 if QUICK else 100,
    random_state=0,
)
# Sunspot numbers run 0-190: scale the inputs (the regressor scales y itself).
model = make_pipeline(SequenceScaler(), lstm).fit(X[train], y[train])
print(lstm.summary())
predicted = model.predict(X[test])
mse = mean_squared_error(y[test], predicted)
print(
    f"test 1921-1987, one step ahead: MSE {mse:.1f}, "
    f"MAE {mean_absolute_error(y[test], predicted):.2f} (AR(9): MSE 305.2, MAE 12.75)"
)

OUT.mkdir(parents=True, exist_ok=True)
fig, ax = plt.subplots(figsize=(10, 4))
ax.plot(sunspots.loc[1850:1987], color="black", lw=1, label="actual")
ax.plot(target_year[test], predicted, color="tab:red", label="LSTM, one year ahead")
ax.axvline(1920.5, color="grey", ls=":")
ax.set(xlabel="year", ylabel="sunspot number", title="Stacked LSTM on yearly sunspots")
ax.legend()
fig.tight_layout()
fig.savefig(OUT / "stacked_lstm_sunspots.png", dpi=100)
print(f"plot saved to {OUT / 'stacked_lstm_sunspots.png'}")
