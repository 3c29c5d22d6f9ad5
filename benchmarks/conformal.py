"""Empirical coverage of sklstm's intervals: conformal (through MAPIE) and
learned quantiles (``loss="pinball"``), against seasonal naive and ETS.

On each series of the forecasting panel (``forecast_panel.py``), one-step-ahead
windows in time order are split 60 / 20 / 20; the last part reports how often
the 80 % and 95 % intervals hold the truth and how wide they are.

- conformal: an ``LSTMRegressor`` at its defaults fitted on the first part,
  MAPIE's ``SplitConformalRegressor`` calibrated on the second;
- quantile: ``LSTMRegressor(loss="pinball")`` fitted on the first two parts,
  its own 0.025 / 0.1 / 0.9 / 0.975 quantiles (no calibration);
- seasonal naive with split-conformal intervals from the same calibration part
  (the quantile of its absolute errors);
- ETS (statsmodels' state-space ``ExponentialSmoothing``: damped trend, and the
  season where there is one) fitted on the first two parts, its one-step-ahead
  prediction intervals over the last (``get_prediction``, the fitted parameters
  kept, the states filtered through the new values).

LSTM figures are medians over seeds.

Run:  .venv/bin/python benchmarks/conformal.py [--seeds 3] [--smoke]
"""

from __future__ import annotations

import argparse
import statistics
import warnings

import numpy as np
from forecast_panel import panel

LEVELS = (0.8, 0.95)


def split(n):
    return int(0.6 * n), int(0.8 * n)


def lstm_intervals(values, window, seed, epochs):
    from mapie.regression import SplitConformalRegressor

    from sklstm import LSTMRegressor, make_windows

    X, y = make_windows(values, window)
    a, b = split(len(X))
    model = LSTMRegressor(random_state=seed, max_epochs=epochs)
    conformal = SplitConformalRegressor(
        model, confidence_level=list(LEVELS), prefit=False
    )
    conformal.fit(X[:a], y[:a]).conformalize(X[a:b], y[a:b])
    _, intervals = conformal.predict_interval(X[b:])
    return y[b:], intervals


def quantile_intervals(values, window, seed, epochs):
    from sklstm import LSTMRegressor, make_windows

    X, y = make_windows(values, window)
    _, b = split(len(X))
    model = LSTMRegressor(random_state=seed, max_epochs=epochs, loss="pinball")
    model.fit(X[:b], y[:b])
    out = np.stack([model.predict_interval(X[b:], level) for level in LEVELS], -1)
    return y[b:], out


def ets_intervals(values, window, season):
    """One-step-ahead ETS intervals over the test windows' targets."""
    from statsmodels.tsa.statespace.exponential_smoothing import (
        ExponentialSmoothing,
    )

    n_windows = len(values) - window
    _, b = split(n_windows)
    start = window + b  # the first test target's index in the series
    kwargs = dict(trend=True, damped_trend=True)
    if season > 1:
        kwargs["seasonal"] = season
    fitted = ExponentialSmoothing(values[:start], **kwargs).fit(disp=False)
    whole = fitted.apply(values)
    prediction = whole.get_prediction(start=start)
    out = np.empty((len(values) - start, 2, len(LEVELS)))
    for k, level in enumerate(LEVELS):
        bounds = np.asarray(prediction.conf_int(alpha=1 - level))
        out[:, 0, k], out[:, 1, k] = bounds[:, 0], bounds[:, 1]
    return values[start:], out


def naive_intervals(values, window, season):
    from sklstm import make_windows

    X, y = make_windows(values, window)
    a, b = split(len(X))
    lag = max(season, 1)
    guess = X[:, -lag, 0]  # the value one season before the target
    errors = np.abs(y[a:b] - guess[a:b])
    n = len(errors)
    out = np.empty((len(y) - b, 2, len(LEVELS)))
    for k, level in enumerate(LEVELS):
        q = np.quantile(errors, min(1.0, np.ceil((n + 1) * level) / n))
        out[:, 0, k], out[:, 1, k] = guess[b:] - q, guess[b:] + q
    return y[b:], out


def scores(y, intervals):
    cover = [
        np.mean((y >= intervals[:, 0, k]) & (y <= intervals[:, 1, k])) for k in range(2)
    ]
    width = [np.mean(intervals[:, 1, k] - intervals[:, 0, k]) for k in range(2)]
    return cover, width


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="tiny budget, for tests")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    epochs = 2 if args.smoke else "auto"
    series = panel(smoke=args.smoke)[: 2 if args.smoke else None]
    methods = ("conformal", "quantile", "naive", "ets")
    print(
        "coverage of 80 % / 95 % intervals (mean width), one-step-ahead test "
        f"windows; LSTM rows: median of {args.seeds} seeds"
    )
    print(f"{'series':<10} {'test':>5}  " + "  ".join(f"{m:<24}" for m in methods))
    pooled = {m: [0.0, 0.0] for m in methods}
    total = 0
    for s in series:
        n_windows = len(s.values) - s.window
        calibration = split(n_windows)[1] - split(n_windows)[0]
        if calibration < 1 / (1 - max(LEVELS)):
            print(
                f"{s.name:<10} skipped: {calibration} calibration windows are too few"
            )
            continue
        runs = {
            "conformal": [
                lstm_intervals(s.values, s.window, seed, epochs)
                for seed in range(args.seeds)
            ],
            "quantile": [
                quantile_intervals(s.values, s.window, seed, epochs)
                for seed in range(args.seeds)
            ],
            "naive": [naive_intervals(s.values, s.window, s.season)],
            "ets": [ets_intervals(s.values, s.window, s.season)],
        }
        cells = []
        n = len(runs["naive"][0][0])
        total += n
        for m in methods:
            got = [scores(y, iv) for y, iv in runs[m]]
            cover = [statistics.median(g[0][k] for g in got) for k in range(2)]
            width = [statistics.median(g[1][k] for g in got) for k in range(2)]
            for k in range(2):
                pooled[m][k] += n * statistics.mean(g[0][k] for g in got)
            cells.append(
                f"{cover[0]:.2f}/{cover[1]:.2f} ({width[0]:.3g}/{width[1]:.3g})"
            )
        print(f"{s.name:<10} {n:>5}  " + "  ".join(f"{c:<24}" for c in cells))
    print(
        "all test points, coverage 80 % / 95 %: "
        + "; ".join(
            f"{m} {pooled[m][0] / total:.3f} / {pooled[m][1] / total:.3f}"
            for m in methods
        )
    )


if __name__ == "__main__":
    main()
