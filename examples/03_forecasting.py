"""Time-series forecasting: the seed's sine task and the airline passengers.

Part 1 is the seed article's example as it stands: windows of ten steps of
``sin(0, 0.1, …, 99.9)`` predict the next value with LSTM(50), 20 epochs,
batch 32. The seed scores on its training data; here the last fifth is held
out.

Part 2 is a real series: monthly airline passengers 1949–1960, the last 24
months held out, one step ahead. The raw series trends and grows in
amplitude, which an LSTM trained on earlier years cannot extrapolate. So the
model learns next month's year-over-year log growth from the last twelve; the
forecast is the seasonal-naive value corrected by that growth. Prints MAPE
against the one-step seasonal-naive forecast (the same month a year before)
and saves a plot. (The figures in ``../shared/data/README.md``, seasonal naive
15.5 % and Holt-Winters 6.39 %, forecast all 24 months at once from 1958: a
harder task than this one step ahead.)

Run: ``python examples/03_forecasting.py`` (about 6 s on two cores).
"""

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import mean_absolute_percentage_error, mean_squared_error
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklstm import LSTMRegressor, SequenceWindower, make_windows
from sklstm.datasets import load_airline

QUICK = os.environ.get("SKLSTM_EXAMPLES_QUICK") == "1"
OUT = Path(os.environ.get("SKLSTM_EXAMPLES_OUT", "examples-output"))

# Part 1: the seed's sine wave.
X, y = make_windows(np.sin(np.arange(0, 100, 0.1)), 10)  # (990, 10, 1), (990,)
cut = int(0.8 * len(X))
sine = LSTMRegressor(50, max_epochs=2 if QUICK else 20, batch_size=32, random_state=0)
sine.fit(X[:cut], y[:cut])
sine_mse = mean_squared_error(y[cut:], sine.predict(X[cut:]))
print(f"sine, last 20 % held out: MSE {sine_mse:.2e}")

# Part 2: airline passengers, one month ahead.
SEASON, TEST = 12, 24
frame = load_airline(as_frame=True)
passengers = frame["passengers"].to_numpy(dtype=float)
growth = np.log(passengers[SEASON:]) - np.log(
    passengers[:-SEASON]
)  # growth[k]: month k+12
features, target = growth[:-1, None], growth[1:]  # row t's target: growth of month t+13
naive = passengers[
    1 : len(passengers) - SEASON
]  # the same month a year before the target
actual = passengers[SEASON + 1 :]
model = make_pipeline(
    StandardScaler(),
    SequenceWindower(SEASON),  # each row sees the last twelve months of growth
    LSTMRegressor(16, lr=3e-3, max_epochs=5 if QUICK else 300, random_state=0),
)
model.fit(features[:-TEST], target[:-TEST])
forecast = naive[-TEST:] * np.exp(model.predict(features[-TEST:]))
lstm_mape = 100 * mean_absolute_percentage_error(actual[-TEST:], forecast)
naive_mape = 100 * mean_absolute_percentage_error(actual[-TEST:], naive[-TEST:])
print(
    f"airline 1959-1960, one month ahead: MAPE {lstm_mape:.2f} % "
    f"(seasonal naive, one month ahead: {naive_mape:.2f} %)"
)

OUT.mkdir(parents=True, exist_ok=True)
fig, ax = plt.subplots(figsize=(10, 4))
months = np.arange(len(passengers))
ax.plot(months, passengers, color="black", lw=1, label="actual")
ax.plot(months[-TEST:], naive[-TEST:], color="grey", ls="--", label="seasonal naive")
ax.plot(months[-TEST:], forecast, color="tab:red", label="LSTM, one month ahead")
ax.set_xticks(months[::24], frame["month"][::24])
ax.set(
    ylabel="passengers (thousands)", title="Airline passengers, last 24 months held out"
)
ax.legend()
fig.tight_layout()
fig.savefig(OUT / "forecast_airline.png", dpi=100)
print(f"plot saved to {OUT / 'forecast_airline.png'}")
