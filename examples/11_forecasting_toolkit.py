"""Forecasting as forecasters do it: calendar covariates, quantiles, a backtest,
forecasts past the horizon, and one global model over many series.

Part 1, airline passengers 1949-1960 (Box & Jenkins): the calendar month,
known for every future step, is a **future covariate** (``CalendarFeatures`` +
``make_windows(future=...)``); ``LSTMRegressor(loss="pinball")`` learns the
0.025 … 0.975 quantiles of the next 12 months in one network; ``backtest``
forecasts every month of 1958-1960 from the months before it, with the
model's 80 % intervals, beside the seasonal-naive forecast; ``forecast``
continues 36 months past the end, recursively (12 at a time).

Part 2, a generated panel of 60 shops of very different sizes, daily sales
with a weekly pattern and promotion days planned ahead: one global model over
all shops (``series_id=``; each window scaled by its own level, so large and
small shops train together), promotions as a future covariate, shop size as a
static one, and one forecast row per shop.

Prints the backtest's metrics and the panel's MASE; saves a fan chart.

Run: ``python examples/11_forecasting_toolkit.py`` (about 21 s on two cores).
"""

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sklstm import (
    CalendarFeatures,
    LSTMRegressor,
    backtest,
    forecast,
    make_windows,
)
from sklstm.datasets import load_airline

QUICK = os.environ.get("SKLSTM_EXAMPLES_QUICK") == "1"
OUT = Path(os.environ.get("SKLSTM_EXAMPLES_OUT", "examples-output"))
EPOCHS = 3 if QUICK else "auto"

# -- 1. one series: calendar covariates, quantiles, backtest, recursive forecast ----
frame = load_airline(as_frame=True)  # 144 months
frame.index = pd.DatetimeIndex(pd.to_datetime(frame.pop("month")))
calendar = CalendarFeatures(features=["month"]).set_output(transform="pandas")
table = calendar.fit_transform(frame)  # passengers, month_sin, month_cos
spec = dict(horizon=12, target="passengers", future=["month_sin", "month_cos"])
model = LSTMRegressor(loss="pinball", max_epochs=EPOCHS, random_state=0)

result = backtest(
    model, table, 24, start=108, refit=False, coverage=0.8, season=12, **spec
)
print(f"airline, 12 months ahead from each origin 1958-1960 ({result.fits} fit):")
print(result.metrics.round(3).to_string())

model.fit(*make_windows(table, 24, **spec))
ahead = pd.DataFrame(
    {"passengers": np.nan},
    index=pd.date_range(table.index[-1], periods=49, freq="MS")[1:],
)
future = calendar.transform(ahead)  # the calendar of the next 48 months
next_36 = forecast(model, table, 24, steps=36, future_data=future, **spec)
print(f"forecast 1961-1963 (recursive past 12 months): {next_36[:3].round(1)} ...")

rows = result.forecasts.query("model == 'model' and step == 1")
fig, ax = plt.subplots(figsize=(9, 4))
ax.plot(frame.index, frame.passengers, color="black", lw=1, label="passengers")
ax.fill_between(
    pd.DatetimeIndex(rows.time),
    rows.lower,
    rows.upper,
    color="tab:red",
    alpha=0.25,
    label="80 % interval, one month ahead (backtest)",
)
ax.plot(
    pd.DatetimeIndex(rows.time),
    rows.forecast,
    color="tab:red",
    lw=1.2,
    label="forecast one month ahead (backtest)",
)
ax.plot(
    ahead.index[:36], next_36, color="tab:red", ls=":", lw=2, label="next 36 months"
)
ax.legend(loc="upper left", fontsize=8)
ax.set_title("airline: backtest with the model's own 80 % intervals, and beyond")
OUT.mkdir(parents=True, exist_ok=True)
fig.savefig(OUT / "forecasting_toolkit.png", dpi=100, bbox_inches="tight")

# -- 2. many series, one global model --------------------------------------------
rng = np.random.default_rng(0)
shops = []
for k in range(20 if QUICK else 60):
    size = rng.choice([1.0, 10.0, 100.0])  # small, middle and large shops
    days = 200
    promo = (rng.random(days) < 0.1).astype(float)  # planned a month ahead
    week = 1 + 0.3 * np.sin(2 * np.pi * np.arange(days) / 7 + k)
    sales = size * (week + 0.8 * promo + rng.normal(0, 0.05, days))
    shops.append(
        pd.DataFrame(
            {"shop": f"shop{k}", "sales": sales, "promo": promo, "size": np.log10(size)}
        )
    )
panel = pd.concat(shops, ignore_index=True)
train = panel.groupby("shop").head(186)  # the last 14 days of each shop held out
test = panel.groupby("shop").tail(14)
spec = dict(horizon=14, target="sales", future="promo", static="size", series_id="shop")
glob = LSTMRegressor(max_epochs=EPOCHS, random_state=0)
glob.fit(*make_windows(train, 28, **spec))
got = forecast(glob, train, 28, future_data=test[["shop", "promo"]], **spec)
truth = test.pivot_table(
    index="shop", columns=test.groupby("shop").cumcount() + 1, values="sales"
).loc[got.index]
scale = (
    train.groupby("shop")
    .sales.apply(lambda s: np.mean(np.abs(s.to_numpy()[7:] - s.to_numpy()[:-7])))
    .loc[got.index]
)
mase = (np.abs(got - truth.to_numpy()).mean(axis=1) / scale).mean()
naive = np.stack(
    [s.sales.to_numpy()[-7:] for _, s in train.groupby("shop", sort=False)]
)
naive_mase = (np.abs(np.tile(naive, 2) - truth.to_numpy()).mean(axis=1) / scale).mean()
print(
    f"panel of {len(got)} shops, one global model: MASE {mase:.3f} "
    f"(seasonal naive {naive_mase:.3f})"
)
