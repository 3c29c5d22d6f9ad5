"""Point and interval accuracy of sklstm's forecasts against seasonal naive and
ETS, on six public series and one public panel.

**Series** (the forecasting panel of ``forecast_panel.py``: airline, sunspots,
co2, elnino, realgdp, nile). ``sklstm.backtest`` forecasts ``horizon`` steps from
every origin of the last ``3 * horizon`` rows, or 48 if more, or half the
series if less (stride 1); the LSTM is fitted once,
on the rows before the first origin (``refit=False``), so every origin is
predicted from the same model, in one batched ``predict``:

- ``lstm quantile``: ``LSTMRegressor(loss="pinball")`` at its defaults, its own
  quantiles as intervals;
- ``lstm conformal``: ``LSTMRegressor()`` at its defaults, conformal intervals
  from the absolute errors of the earlier origins whose truth is known (none
  until enough are: coverage and width are over the origins that have one);
- ``seasonal naive``: the value one season earlier, conformal intervals alike;
- ``ETS``: statsmodels' state-space ``ExponentialSmoothing`` (damped trend, the
  season where there is one) fitted on the same rows as the LSTM, its states
  filtered up to each origin (parameters kept), ``get_forecast`` intervals.

Reported: MASE (scaled by the seasonal-naive error before the first origin),
the 80 % and 95 % intervals' coverage and mean width (relative to seasonal
naive's), and the pinball loss of the four interval ends (0.025, 0.1, 0.9,
0.975) relative to seasonal naive's. LSTM figures are medians over seeds.

**Panel**: the World Bank's fertility rates (statsmodels' ``fertility``), every
country with all 52 yearly values 1960-2011 (192 series, 1.1 to 8.3 births per
woman). The last 6 years of each are held out; a window of 12 years. One global
``LSTMRegressor`` over all series (``make_windows(series_id=)``, per-window
scaling) against one ``LSTMRegressor`` per series, ETS per series (damped trend)
and the naive forecast (last value): MASE per series (scaled by the naive
error inside its training part), mean and median over the series, and the
seconds each approach took.

Run:  .venv/bin/python benchmarks/forecasting.py [--seeds 3] [--only airline co2]
      [--skip-panel] [--skip-series] [--local-seeds 1] [--smoke]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np
from forecast_panel import panel

ENDS = (0.025, 0.1, 0.9, 0.975)  # the ends of the 95 % and 80 % intervals
COVERAGES = (0.8, 0.95)


def pinball(actual, q, level):
    diff = actual - q
    return float(np.mean(np.maximum(level * diff, (level - 1) * diff)))


def interval_scores(actual, bounds):
    """``bounds``: {coverage: (lower, upper)} over the same rows as ``actual``."""
    out = {}
    for c, (lo, hi) in bounds.items():
        has = np.isfinite(lo) & np.isfinite(hi)
        if not has.any():  # conformal: too few known errors for this coverage
            out |= {f"{k}{int(c * 100)}": np.nan for k in ("cover", "width", "pin")}
            continue
        a, lo, hi = actual[has], lo[has], hi[has]
        out[f"cover{int(c * 100)}"] = float(np.mean((a >= lo) & (a <= hi)))
        out[f"width{int(c * 100)}"] = float(np.mean(hi - lo))
        alpha = (1 - c) / 2
        out[f"pin{int(c * 100)}"] = (
            pinball(a, lo, alpha) + pinball(a, hi, 1 - alpha)
        ) / 2
    out["pinball"] = (out["pin80"] + out["pin95"]) / 2
    return out


def first_origin(s):
    """Origins over the last 3 horizons, or 48 rows, or half the series."""
    return len(s.values) - min(max(3 * s.horizon, 48), len(s.values) // 2)


def run_backtest(model, s, seed, epochs):
    """Backtests at both coverages: {method: scores}."""
    from sklstm import backtest

    start = first_origin(s)
    out = {}
    bounds, result = {}, None
    for c in COVERAGES:
        result = backtest(
            model,
            s.values,
            s.window,
            horizon=s.horizon,
            start=start,
            stride=1,
            refit=False,
            coverage=c,
            season=s.season,
        )
        rows = result.forecasts
        for name in ("model", "seasonal naive"):
            r = rows[rows.model == name]
            bounds.setdefault(name, {})[c] = (r.lower.to_numpy(), r.upper.to_numpy())
    for name in ("model", "seasonal naive"):
        r = result.forecasts[result.forecasts.model == name]
        actual = r.actual.to_numpy()
        out[name] = {"mase": float(result.metrics.loc[name, "mase"])}
        out[name] |= interval_scores(actual, bounds[name])
    return out, result


def ets(s, start):
    """ETS forecasts and intervals from every origin: (point, {c: (lo, hi)})."""
    from statsmodels.tsa.statespace.exponential_smoothing import ExponentialSmoothing

    kwargs = dict(trend=True, damped_trend=True)
    if s.season > 1:
        kwargs["seasonal"] = s.season
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the optimiser's convergence notes
        fitted = ExponentialSmoothing(s.values[:start], **kwargs).fit(disp=False)
        origins = range(start, len(s.values) - s.horizon + 1)
        point, bounds = [], {c: ([], []) for c in COVERAGES}
        for o in origins:
            fc = fitted.apply(s.values[:o]).get_forecast(s.horizon)
            point.append(np.asarray(fc.predicted_mean))
            for c in COVERAGES:
                ci = np.asarray(fc.conf_int(alpha=1 - c))
                bounds[c][0].append(ci[:, 0])
                bounds[c][1].append(ci[:, 1])
    point = np.concatenate(point)
    return point, {
        c: (np.concatenate(lo), np.concatenate(hi)) for c, (lo, hi) in bounds.items()
    }


def series_part(args):
    from sklstm import LSTMRegressor

    rows = []
    for s in panel(smoke=args.smoke):
        if args.only and s.name not in args.only:
            continue
        start = first_origin(s)
        epochs = 2 if args.smoke else "auto"
        per_seed = {"lstm quantile": [], "lstm conformal": []}
        naive = None
        for seed in range(args.seeds):
            q, result = run_backtest(
                LSTMRegressor(loss="pinball", random_state=seed, max_epochs=epochs),
                s,
                seed,
                epochs,
            )
            c, _ = run_backtest(
                LSTMRegressor(random_state=seed, max_epochs=epochs), s, seed, epochs
            )
            per_seed["lstm quantile"].append(q["model"])
            per_seed["lstm conformal"].append(c["model"])
            naive = q["seasonal naive"]
        actual = result.forecasts.query("model == 'model'").actual.to_numpy()
        point, bounds = ets(s, start)
        seen = s.values[:start]
        scale = np.mean(np.abs(seen[s.season :] - seen[: -s.season]))
        e = {"mase": float(np.mean(np.abs(point - actual)) / scale)}
        e |= interval_scores(actual, bounds)
        table = {
            k: {m: statistics.median(d[m] for d in v) for m in v[0]}
            for k, v in per_seed.items()
        }
        table |= {"seasonal naive": naive, "ETS": e}
        for method, sc in table.items():
            rows.append((s.name, method, sc, naive))
        print_series(s.name, table, naive, len(actual) // s.horizon)
    return rows


def print_series(name, table, naive, origins):
    print(f"\n{name} ({origins} origins)")
    print(
        f"{'method':16} {'MASE':>6} {'cov80':>6} {'wid80':>6} {'cov95':>6} "
        f"{'wid95':>6} {'pinball':>8}"
    )
    for method, sc in table.items():
        print(
            f"{method:16} {sc['mase']:6.3f} {sc['cover80']:6.2f} "
            f"{sc['width80'] / naive['width80']:6.2f} {sc['cover95']:6.2f} "
            f"{sc['width95'] / naive['width95']:6.2f} "
            f"{sc['pinball'] / naive['pinball']:8.3f}"
        )


def fertility():
    import statsmodels.api as sm

    data = sm.datasets.fertility.load_pandas().data
    values = data.set_index("Country Code").iloc[:, 3:]
    values = values.loc[:, [str(y) for y in range(1960, 2012)]].dropna()
    return values  # (countries, years)


def panel_part(args):
    from sklstm import LSTMRegressor, forecast, make_windows

    values = fertility()
    if args.smoke:
        values = values.iloc[:12]
    horizon, window = 6, 12
    train, test = values.iloc[:, :-horizon], values.iloc[:, -horizon:].to_numpy()
    scale = np.abs(np.diff(train.to_numpy(), axis=1)).mean(axis=1)
    long = train.stack().rename("rate").reset_index()
    long.columns = ["country", "year", "rate"]
    long = long[["country", "rate"]]
    epochs = 2 if args.smoke else "auto"

    def mase(f):
        per = np.abs(np.asarray(f) - test).mean(axis=1) / scale
        return float(per.mean()), float(np.median(per))

    results = {}
    naive = np.repeat(train.to_numpy()[:, -1:], horizon, axis=1)
    results["naive (last value)"] = (mase(naive), 0.0)
    for seed in range(args.seeds):
        t = time.perf_counter()
        model = LSTMRegressor(random_state=seed, max_epochs=epochs)
        model.fit(*make_windows(long, window, horizon=horizon, series_id="country"))
        f = forecast(model, long, window, horizon=horizon, series_id="country")
        f = f.loc[train.index].to_numpy()
        results.setdefault("global LSTM", []).append((mase(f), time.perf_counter() - t))
    for seed in range(args.local_seeds):
        t = time.perf_counter()
        f = []
        for row in train.to_numpy():
            m = LSTMRegressor(random_state=seed, max_epochs=epochs)
            m.fit(*make_windows(row, window, horizon=horizon))
            f.append(forecast(m, row, window, horizon=horizon))
        results.setdefault("local LSTM", []).append((mase(f), time.perf_counter() - t))
    from statsmodels.tsa.statespace.exponential_smoothing import ExponentialSmoothing

    t = time.perf_counter()
    f = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for row in train.to_numpy():
            fit = ExponentialSmoothing(row, trend=True, damped_trend=True).fit(
                disp=False
            )
            f.append(fit.forecast(horizon))
    results["ETS per series"] = (mase(f), time.perf_counter() - t)
    print(
        f"\nfertility panel: {len(values)} series, {train.shape[1]} years to train, "
        f"horizon {horizon}"
    )
    print(f"{'method':20} {'mean MASE':>10} {'median':>8} {'seconds':>9}")
    for name, r in results.items():
        runs = r if isinstance(r, list) else [r]
        means = [x[0][0] for x in runs]
        medians = [x[0][1] for x in runs]
        secs = [x[1] for x in runs]
        spread = f" ({min(means):.3f}-{max(means):.3f})" if len(runs) > 1 else ""
        print(
            f"{name:20} {statistics.median(means):10.3f} "
            f"{statistics.median(medians):8.3f} {statistics.median(secs):9.1f}{spread}"
        )
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--local-seeds", type=int, default=1)
    parser.add_argument("--only", nargs="*", default=None, help="series names")
    parser.add_argument("--skip-panel", action="store_true")
    parser.add_argument("--skip-series", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="two epochs, few series")
    args = parser.parse_args(argv)
    if args.smoke:
        args.seeds, args.local_seeds = 1, 1
    if not args.skip_series:
        series_part(args)
    if not args.skip_panel:
        panel_part(args)


if __name__ == "__main__":
    main()
