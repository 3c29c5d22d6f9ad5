"""Empirical coverage of conformal intervals around sklstm, through MAPIE.

On each series of the forecasting panel (``forecast_panel.py``), one-step-ahead
windows in time order are split 60 / 20 / 20: an ``LSTMRegressor`` at its
defaults is fitted on the first part, MAPIE's ``SplitConformalRegressor``
calibrates it on the second, and the last part reports how often the 80 % and
95 % intervals hold the truth and how wide they are. The reference in the same
run: seasonal-naive forecasts with split-conformal intervals from the same
calibration part (the quantile of its absolute errors). Median over seeds.

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
    print(
        "series      test  LSTM cover 80/95 %   width 80/95    "
        "seasonal naive cover 80/95 %   width 80/95   (median of "
        f"{args.seeds} seeds)"
    )
    pooled = {"lstm": [[], []], "naive": [[], []]}
    used = []
    for s in series:
        n_windows = len(s.values) - s.window
        calibration = split(n_windows)[1] - split(n_windows)[0]
        if calibration < 1 / (1 - max(LEVELS)):
            print(
                f"{s.name:<10} skipped: {calibration} calibration windows are too few"
            )
            continue
        used.append(s)
        runs = [
            lstm_intervals(s.values, s.window, seed, epochs)
            for seed in range(args.seeds)
        ]
        covers = [scores(y, iv)[0] for y, iv in runs]
        widths = [scores(y, iv)[1] for y, iv in runs]
        cover = [statistics.median(c[k] for c in covers) for k in range(2)]
        width = [statistics.median(w[k] for w in widths) for k in range(2)]
        y, iv = naive_intervals(s.values, s.window, s.season)
        ncover, nwidth = scores(y, iv)
        for k in range(2):
            pooled["lstm"][k] += [c[k] * len(y) for c in covers]
            pooled["naive"][k].append(ncover[k] * len(y))
        print(
            f"{s.name:<10} {len(y):>5}  {cover[0]:>8.2f} / {cover[1]:.2f}  "
            f"{width[0]:>8.3g} / {width[1]:<8.3g}  {ncover[0]:>14.2f} / {ncover[1]:.2f}"
            f"  {nwidth[0]:>10.3g} / {nwidth[1]:.3g}"
        )
    total = sum(len(naive_intervals(s.values, s.window, s.season)[0]) for s in used)
    lstm = [sum(pooled["lstm"][k]) / (total * args.seeds) for k in range(2)]
    naive = [sum(pooled["naive"][k]) / total for k in range(2)]
    print(
        f"all test points: LSTM covers {lstm[0]:.3f} (80 %) and {lstm[1]:.3f} (95 %); "
        f"seasonal naive {naive[0]:.3f} and {naive[1]:.3f}"
    )


if __name__ == "__main__":
    main()
