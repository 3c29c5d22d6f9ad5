"""pandas preparation feeding a pipeline: missing values, scaling, categories, windows.

The seed article prepares a DataFrame by hand: drop missing rows, standardise
each column with its own mean and std, one-hot encode categories. Done by
hand, those statistics come from the whole table, test rows included, and
dropping rows breaks a time series' spacing. In a scikit-learn ``Pipeline``
every step learns from the training rows only, and ``SequenceWindower`` turns
the prepared 2-D table into windows without losing a row.

Data: monthly sunspot numbers 1749–2009 (NOAA, public domain), with 5 % of the
monthly reports knocked out at random to stand for missing readings, and the
calendar month as a categorical column. Target: next month's number.

Prints the held-out MAE against "next month = this month"; saves a plot.

Run: ``python examples/08_pandas_pipeline.py`` (about 6 s on two cores).
"""

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.metrics import mean_absolute_error
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from sklstm import LSTMRegressor, SequenceWindower
from sklstm.datasets import load_sunspots

QUICK = os.environ.get("SKLSTM_EXAMPLES_QUICK") == "1"
OUT = Path(os.environ.get("SKLSTM_EXAMPLES_OUT", "examples-output"))

frame = load_sunspots(frequency="monthly", as_frame=True)
frame["month"] = pd.PeriodIndex(frame["month"], freq="M")
rng = np.random.default_rng(0)
frame["reported"] = frame["sunspots"].mask(rng.random(len(frame)) < 0.05)  # 5 % missing
frame["calendar_month"] = frame["month"].dt.strftime("%b")  # "Jan" … "Dec"
frame["next_month"] = frame["sunspots"].shift(-1)
frame = frame.iloc[:-1]  # the last month has no next month
# "Next month = this month" is hard to beat on this noisy series, so the model
# learns the change from the last report instead and corrects that forecast.
carried = frame["reported"].ffill().fillna(frame["reported"].median())
print(frame.head(3).to_string(index=False))
print(f"{frame['reported'].isna().sum()} missing reports out of {len(frame)}")

X = frame[["reported", "calendar_month"]]
y = frame["next_month"] - carried
train = frame["month"] < pd.Period("1950-01", freq="M")
if QUICK:
    train &= frame["month"] >= pd.Period("1900-01", freq="M")

prepare = ColumnTransformer(
    [
        (
            "numbers",
            make_pipeline(
                SimpleImputer(strategy="median", add_indicator=True), StandardScaler()
            ),
            ["reported"],
        ),
        ("months", OneHotEncoder(sparse_output=False), ["calendar_month"]),
    ]
)
model = make_pipeline(
    prepare,  # 2-D: 1 scaled number + 1 missing flag + 12 month columns per row
    SequenceWindower(24),  # 3-D: each row sees the last 24 months; no row dropped
    LSTMRegressor(32, lr=3e-3, max_epochs=2 if QUICK else 20, random_state=0),
)
model.fit(X[train], y[train])

test = ~train & (frame["month"] >= pd.Period("1950-01", freq="M"))
# Windows reach back across the split, as a forecaster on 1950-01 would see them:
# predict on the whole table and keep the test rows.
predicted = carried[test] + model.predict(X)[test.to_numpy()]
actual = frame.loc[test, "next_month"]
print(
    f"1950-2009, next month: LSTM MAE {mean_absolute_error(actual, predicted):.2f}, "
    f"last report carried forward {mean_absolute_error(actual, carried[test]):.2f}"
)

OUT.mkdir(parents=True, exist_ok=True)
fig, ax = plt.subplots(figsize=(10, 4))
when = frame.loc[test, "month"].dt.to_timestamp()
ax.plot(when, actual, color="black", lw=0.8, label="actual")
ax.plot(when, predicted, color="tab:red", lw=0.8, label="LSTM, one month ahead")
ax.set(ylabel="sunspot number", title="Monthly sunspots from a pandas pipeline")
ax.legend()
fig.tight_layout()
fig.savefig(OUT / "pandas_pipeline_sunspots.png", dpi=100)
print(f"plot saved to {OUT / 'pandas_pipeline_sunspots.png'}")
