"""The ``sklstm forecast`` job: run the steps of ``forecasting`` and write the files."""

from __future__ import annotations

import numpy as np

from . import forecasting as fc
from .output import (
    finite_or_none,
    markdown_table,
    out_folder,
    phase,
    progress,
    pyplot,
    save_figure,
    write_json,
    write_text,
)
from .trials import search_line, search_markdown

MODELS = (("lstm", "LSTM"), ("naive", "naive"), ("seasonal_naive", "seasonal naive"))


def run(
    csv=None,
    *,
    target=None,
    time_col=None,
    dataset="airline",
    window=None,
    horizon=None,
    season=None,
    difference=None,
    log="auto",
    folds=3,
    test_size=None,
    trials=0,
    storage=None,
    max_epochs="auto",
    seed=0,
    out="sklstm-output",
    show_progress=True,
    quantiles=None,
    echo=print,
):
    """Run the forecast job and write its files into ``out``; returns metrics.

    ``quantiles``: levels in (0, 1) of the forecast's quantiles, from the
    cross-validated errors step by step (see ``fc.error_quantiles``)."""
    preset = fc.DATASETS[dataset] if csv is None else {}
    window = window or preset.get("window", 24)
    difference = difference or preset.get("difference", "auto")
    series = fc.load_series(csv, target=target, time_col=time_col, dataset=dataset)
    if horizon is None:
        horizon = preset.get("horizon") or (series.season if season is None else season)
        horizon = max(int(horizon), 1)
    plans = fc.candidate_plans(
        series,
        window=window,
        horizon=horizon,
        season=season,
        difference=difference,
        log=log,
        folds=folds,
        test_size=test_size,
        max_epochs=max_epochs,
        seed=seed,
    )
    out = out_folder(out)
    y = series.values
    plan, params, study, chosen = plans[0], dict(fc.DEFAULT_PARAMS), None, None
    echo(
        f"{series.target} from {series.source}: {len(y)} values, season {plan.season}; "
        f"window {plan.window}, horizon {plan.horizon}, {plan.folds} folds of "
        f"{plan.test_size} forecast origins."
    )
    note = fc.uneven(series.times, time_col)
    if note:  # without a frequency the season is 1 unless given
        also = "" if season is not None else ", or pass --season S"
        echo(f"Note: {note}{also}.")
    folds_out = None
    if len(plans) > 1:
        bar = progress(
            total=plan.folds * len(plans),
            desc="choosing the preparation",
            enabled=show_progress,
        )
        plan, folds_out, chosen = fc.choose_plan(y, plans, params, bar=bar)
        bar.close()
        echo(
            "Preparation by CV MAE: "
            + ", ".join(f"{k} {v:.4g}" for k, v in chosen.items())
            + f"; kept {plan.describe()}."
        )
    else:
        echo(f"Preparation: {plan.describe()}.")
    if trials:
        params, study = _tune(series, plan, params, trials, storage, out, show_progress)
        echo(search_line(study))
        folds_out = None  # the tuned parameters' own CV follows
    if folds_out is None:
        bar = progress(total=plan.folds, desc="cross-validating", enabled=show_progress)
        folds_out = fc.cross_validate(y, plan, params, bar=bar)
        bar.close()
    means = {name: fc.mean_scores(folds_out, name) for name, _ in MODELS}
    echo(_summary_table(means))
    warning = _baseline_warning(means)
    if warning:
        echo(warning)
    if show_progress:
        echo("Refitting on the whole series:")
    with phase("refitting on the whole series", enabled=not show_progress):
        pipe, future = fc.refit_and_forecast(
            y, plan, params, verbose=int(show_progress)
        )
    stamps = fc.future_times(series.times, plan.horizon)
    levels = sorted(set(quantiles or ()))
    bands = (
        future[:, None] + fc.error_quantiles(y, folds_out, levels) if levels else None
    )
    from .._persistence import save

    model_path = save(pipe, out / "model.sklstm")
    metrics = _metrics(series, plan, params, study, folds_out, means, stamps, future)
    if levels:
        metrics["settings"]["quantiles"] = levels
        for entry, row in zip(metrics["forecast"], bands, strict=True):
            entry["quantiles"] = {
                f"{q:g}": finite_or_none(v) for q, v in zip(levels, row, strict=True)
            }
    write_text(out / "forecast.csv", _forecast_csv(stamps, future, levels, bands))
    metrics["settings"]["preparation_cv_mae"] = chosen
    metrics["warning"] = warning
    write_json(out / "metrics.json", metrics)
    plot = _plot(
        out / "forecast.png",
        series,
        plan,
        folds_out,
        stamps,
        future,
        pipe,
        levels,
        bands,
    )
    write_text(out / "report.md", _report(metrics, model_path.name, plot.name))
    echo(
        f"Wrote forecast.csv, metrics.json, forecast.png, {model_path.name} and "
        f"report.md to {out}"
    )
    return metrics


def _tune(series, plan, base, trials, storage, out, show_progress):
    """Tune ``fc.TUNED`` on top of ``base``; returns ``(params, search summary)``."""
    from .._regressor import LSTMRegressor
    from ..tuning import search_space
    from .trials import run_trials

    space = search_space(LSTMRegressor(), include=fc.TUNED)

    def objective(params, report):
        params = dict(base, **params)
        folds = fc.cross_validate(series.values, plan, params, report=report)
        return float(np.mean([f["lstm"]["mae"] for f in folds]))

    storage = storage or str(out / "optuna.journal")
    best, study = run_trials(
        objective,
        space,
        n_trials=trials,
        study_name=fc.study_name(series, plan),
        storage=storage,
        direction="minimize",
        seed=plan.seed,
        show_progress=show_progress,
    )
    params = dict(base, **(best or {}))
    study["objective"] = "mean CV MAE of the LSTM (lower is better)"
    return params, study


def _summary_table(means):
    lines = [f"{'':<16}{'MAE':>10}{'RMSE':>10}{'MAPE %':>9}{'MASE':>8}"]
    for name, label in MODELS:
        m = means[name]
        cells = [_fmt(m["mae"], 10), _fmt(m["rmse"], 10), _fmt(m["mape"], 9, ".2f")]
        lines.append(f"{label:<16}" + "".join(cells) + _fmt(m["mase"], 8, ".3f"))
    return "\n".join(lines)


def _fmt(value, width, spec=".4g"):
    """``value`` right-aligned in ``width`` characters, the first a space: a
    ratio too large for fixed decimals (a MASE over a near-zero seasonal
    error) in three significant digits, so the columns stay apart."""
    if value is None:
        return f"{'n/a':>{width}}"
    if spec.endswith("f") and abs(value) >= 1e4:
        spec = ".3g"
    return f" {value:>{width - 1}{spec}}"


def _metrics(series, plan, params, study, folds, means, stamps, future):
    times = [fc.label(t) for t in series.times]
    return {
        "data": {
            "source": series.source,
            "target": series.target,
            "n_values": int(len(series.values)),
            "first": times[0],
            "last": times[-1],
        },
        "settings": {
            "window": plan.window,
            "horizon": plan.horizon,
            "season": plan.season,
            "log": plan.log,
            "difference_lag": plan.lag,
            "folds": plan.folds,
            "test_size": plan.test_size,
            "max_epochs": plan.max_epochs,
            "seed": plan.seed,
        },
        "params": params,
        "search": study,
        "cv": {
            "mean": means,
            "folds": [
                {
                    "train_until": times[f["train_end"]],
                    "first_origin": times[int(f["origins"][0])],
                    "last_origin": times[int(f["origins"][-1])],
                    **{name: f[name] for name, _ in MODELS},
                }
                for f in folds
            ],
        },
        "forecast": [
            {"time": t, "value": finite_or_none(v)}
            for t, v in zip(stamps, future, strict=True)
        ],
    }


def _forecast_csv(stamps, future, levels, bands) -> str:
    """The forecast as a table: time, forecast, then one column per quantile."""
    head = ["time", "forecast"] + [f"q{q:g}" for q in levels]
    lines = [",".join(head)]
    for k, (t, v) in enumerate(zip(stamps, future, strict=True)):
        cells = [t, f"{v:.10g}"] + [f"{b:.10g}" for b in (bands[k] if levels else [])]
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def _fan(ax, y, levels, bands):
    """Shade each central interval of the quantiles (a fan chart)."""
    ahead = len(y) - 1 + np.arange(0, len(bands) + 1)
    pairs = [
        (i, next(j for j, p in enumerate(levels) if abs(1 - q - p) < 1e-12))
        for i, q in enumerate(levels)
        if q < 0.5 and any(abs(1 - q - p) < 1e-12 for p in levels)
    ]
    for n, (lo, hi) in enumerate(sorted(pairs)):
        width = round(100 * (levels[hi] - levels[lo]))
        ax.fill_between(
            ahead,
            np.r_[y[-1], bands[:, lo]],
            np.r_[y[-1], bands[:, hi]],
            color="tab:red",
            alpha=0.12 + 0.08 * n,
            lw=0,
            label=f"{width} % interval (CV errors)",
        )


def _zoom(ax, y, plan, folds, future):
    """Show the forecasts, not a thin strip at the edge of a long series.

    From a little before the first CV origin (three horizons, two seasons or
    24 steps of context) to the end of the forecast, when that is less than
    half of the series; returns the first step shown (0: all of it).
    """
    first = min((int(f["origins"][0]) for f in folds), default=len(y) - 1)
    start = max(0, first - max(3 * plan.horizon, 2 * plan.season, 24))
    end = len(y) - 1 + plan.horizon
    if end - start >= len(y) / 2:
        return 0
    seen = [y[start:], np.ravel(future)]
    seen += [
        np.ravel(f[k][0]) for f in folds for k in ("forecast", "seasonal_forecast")
    ]
    values = np.concatenate(seen)
    values = values[np.isfinite(values)]
    low, high = float(values.min()), float(values.max())
    pad = 0.05 * (high - low or abs(high) or 1.0)
    ax.set_xlim(start - 0.5, end + 0.5)
    ax.set_ylim(low - pad, high + pad)
    return start


def _plot(path, series, plan, folds, stamps, future, pipe, levels=(), bands=None):
    from .._plots import plot_history

    plt = pyplot()
    y = series.values
    x = np.arange(len(y))
    fig, (ax, ax2) = plt.subplots(
        2, 1, figsize=(10, 7.5), gridspec_kw={"height_ratios": [2.2, 1]}
    )
    ax.plot(x, y, color="black", lw=1.2, label="actual")
    for k, fold in enumerate(folds):
        origin, last = int(fold["origins"][0]), int(fold["origins"][-1])
        steps = origin + np.arange(1, plan.horizon + 1)
        first = k == 0
        ax.axvspan(
            origin - 0.5,
            last + 0.5,
            color="tab:blue",
            alpha=0.06 + 0.06 * (k % 2),
            label="forecast origins of each CV fold" if first else None,
        )
        ax.plot(
            steps,
            fold["seasonal_forecast"][0],
            color="grey",
            ls="--",
            lw=1,
            label="seasonal naive" if first else None,
        )
        ax.plot(
            steps,
            fold["forecast"][0],
            color="tab:red",
            lw=1.5,
            label=f"LSTM, {plan.horizon} steps from each fold's first origin"
            if first
            else None,
        )
    ahead = len(y) - 1 + np.arange(0, plan.horizon + 1)
    ax.plot(
        ahead, np.r_[y[-1], future], color="tab:red", lw=2, ls=":", label="forecast"
    )
    if levels:
        _fan(ax, y, list(levels), bands)
    ax.axvline(len(y) - 0.5, color="black", lw=0.8, alpha=0.5)
    labels = [fc.label(t) for t in series.times] + stamps
    shown = future if bands is None else np.r_[future, bands.ravel()]
    start = _zoom(ax, y, plan, folds, shown)
    ticks = np.linspace(start, len(labels) - 1, 8).round().astype(int)
    ax.set_xticks(ticks, [labels[i] for i in ticks])
    ax.set_ylabel(series.target)
    shown = f" (the last {len(y) - start} of {len(y)} points)" if start else ""
    ax.set_title(
        f"{series.target}: cross-validated forecasts and the next {plan.horizon} "
        f"steps{shown}"
    )
    ax.legend(loc="upper left", fontsize=8)
    plot_history(pipe[-1], ax=ax2)
    ax2.set_title("training loss of the final fit (scaled per window)")
    return save_figure(fig, path)


def _report(metrics, model_name, plot_name):
    s, d = metrics["settings"], metrics["data"]
    rows = []
    for name, label in MODELS:
        m = metrics["cv"]["mean"][name]
        rows.append([label] + [_cell(m[k]) for k in ("mae", "rmse", "mape", "mase")])
    folds = [
        [f["first_origin"] + " … " + f["last_origin"]]
        + [_cell(f[name]["mae"]) for name, _ in MODELS]
        for f in metrics["cv"]["folds"]
    ]
    tuned = search_markdown(
        metrics["search"],
        "The CV scores above are those of the chosen configuration on the folds "
        "the search used, so they are slightly optimistic.",
    )
    forecast = [[f["time"], _cell(f["value"])] for f in metrics["forecast"]]
    warning = f"\n**{metrics['warning']}**\n" if metrics.get("warning") else ""
    return f"""# Forecast of {d["target"]}

Data: {d["source"]}, {d["n_values"]} values from {d["first"]} to {d["last"]}.

Model: `SequenceWindower({s["window"]}) -> LSTMRegressor` with
{metrics["params"] or "its defaults"}, predicting the next {s["horizon"]} steps at
once from {_reads(s)} (season {s["season"]}); each window is read relative to
its last value and spread.

## Cross-validation

`TimeSeriesSplit({s["folds"]}, test_size={s["test_size"]}, gap={s["horizon"] - 1})`
over forecast origins; each origin forecasts {s["horizon"]} steps, scored
against what happened. Means over the folds:

{markdown_table(["model", "MAE", "RMSE", "MAPE %", "MASE"], rows)}
{warning}
MAE per fold:

{markdown_table(["test origins", "LSTM", "naive", "seasonal naive"], folds)}

MASE divides by the mean absolute seasonal-naive error (lag {max(s["season"], 1)})
on each fold's training span: below 1 beats it in-sample.

## Search

{tuned}

## Forecast

{markdown_table(["time", "forecast"], forecast)}

## Files

- `{plot_name}`: the series, the CV folds and the forecast; the final fit's
  learning curve.
- `{model_name}`: the fitted pipeline; `sklstm.load("{model_name}")` reads it
  back (no pickle). It reads {_reads(s)}, as described above.
- `metrics.json`: every figure here, per fold.
"""


def _baseline_warning(means):
    """A plain sentence when the LSTM's CV MAE is not below a baseline's."""
    lstm = means["lstm"]["mae"]
    beaten = [
        f"{label} ({means[name]['mae']:.4g})"
        for name, label in MODELS[1:]
        if means[name]["mae"] is not None and lstm >= means[name]["mae"]
    ]
    if not beaten:
        return None
    return (
        f"Warning: the LSTM's CV MAE ({lstm:.4g}) is not below "
        + " or ".join(beaten)
        + "; on this series the baseline forecasts better. Try another --window, "
        "--difference, more data, or --trials."
    )


def _reads(settings):
    """What the saved pipeline reads, in words."""
    if not settings["difference_lag"]:
        return "log values" if settings["log"] else "the values as they are"
    log = "log " if settings["log"] else ""
    return f"{log}values differenced at lag {settings['difference_lag']}"


def _cell(value):
    return "n/a" if value is None else f"{value:.4g}"
