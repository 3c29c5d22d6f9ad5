"""``sklstm backtest``: forecasts from many origins of a series, scored."""

from __future__ import annotations

from . import forecasting as fc
from .output import out_folder, phase, write_json, write_text
from .tables import InputError


def run(
    csv=None,
    *,
    target=None,
    time_col=None,
    dataset="airline",
    future_cols=(),
    static_cols=(),
    id_col=None,
    window=None,
    horizon=None,
    season=None,
    start=None,
    stride=1,
    refit="no",
    coverage=0.8,
    interval="conformal",
    max_epochs="auto",
    seed=0,
    out="sklstm-output",
    echo=print,
):
    """Backtest an ``LSTMRegressor`` on the series; write backtest.csv and
    backtest.json into ``out``; returns the metrics as a dict."""
    import pandas as pd

    from .._backtest import backtest
    from .._regressor import LSTMRegressor

    preset = fc.DATASETS[dataset] if csv is None else {}
    covariates = list(future_cols) + list(static_cols)
    if id_col is None:
        series = fc.load_series(
            csv,
            target=target,
            time_col=time_col,
            dataset=dataset,
            covariates=covariates,
        )
        data = pd.DataFrame({series.target: series.values}, index=series.times)
        for name, values in (series.covariates or {}).items():
            data[name] = values
        source, target, found = series.source, series.target, series.season
        what = f"{len(data)} values"
    else:
        if csv is None:
            raise InputError("--id-col needs a CSV file (a long table of series).")
        data, _, found = fc.load_panel(
            csv, target=target, id_col=id_col, time_col=time_col, covariates=covariates
        )
        source = str(csv)
        what = f"{data[id_col].nunique()} series, {len(data)} rows"
    window = window or preset.get("window", 24)
    season = season or found
    horizon = horizon or preset.get("horizon") or season
    if start is None:  # the last four horizons of each series hold the origins
        start = -4 * horizon
    elif start < 0:
        start = int(start)
    every = {"yes": True, "no": False}.get(refit)
    every = int(refit) if every is None else every
    model = LSTMRegressor(max_epochs=max_epochs, random_state=seed)
    if interval == "quantile":
        model.set_params(loss="pinball")
    first = f"row {start}" if start >= 0 else f"{-start} rows before the end"
    echo(
        f"{target} from {source}: {what}; window {window}, horizon {horizon}, "
        f"origins from {first} every {stride}, refit {refit}; future covariates: "
        f"{list(future_cols) or 'none'}; static: {list(static_cols) or 'none'}."
    )
    try:
        with phase("backtesting", enabled=True):  # one line: no bar
            result = backtest(
                model,
                data,
                window,
                horizon=horizon,
                target=target,
                future=list(future_cols) or None,
                static=list(static_cols) or None,
                series_id=id_col,
                start=start,
                stride=stride,
                refit=every,
                coverage=coverage,
                interval=interval,
                season=season,
            )
    except ValueError as e:  # start, short series, a static that changes …
        raise InputError(str(e)) from None
    out = out_folder(out)
    frame = result.forecasts.copy()
    for column in ("origin", "time"):
        frame[column] = [fc.label(t) for t in frame[column]]
    write_text(out / "backtest.csv", frame.to_csv(index=False))
    metrics = {
        name: {k: (None if pd.isna(v) else float(v)) for k, v in row.items()}
        for name, row in result.metrics.iterrows()
    }
    first_step = frame[(frame.model == "model") & (frame.step == 1)]
    origins = int(len(first_step) // max(first_step.target.nunique(), 1))
    write_json(
        out / "backtest.json",
        {
            "source": source,
            "target": target,
            "id_col": id_col,
            "window": window,
            "horizon": horizon,
            "season": season,
            "origins": int(origins),
            "fits": result.fits,
            "coverage": coverage,
            "interval": result.interval,
            "metrics": metrics,
        },
    )
    echo(_table(result.metrics, coverage))
    echo(
        f"{origins} origins, {result.fits} fit(s). Wrote backtest.csv and "
        f"backtest.json to {out}"
    )
    return metrics


def _table(metrics, coverage) -> str:
    names = ["mae", "rmse", "mape", "mase"]
    if coverage is not None:
        names += ["coverage", "width", "pinball"]
    lines = [f"{'':16}" + "".join(f"{n.upper():>10}" for n in names)]
    for model, row in metrics.iterrows():
        cells = "".join(
            f"{'-':>10}" if row[n] != row[n] else f"{row[n]:10.4g}" for n in names
        )
        lines.append(f"{model:16}{cells}")
    return "\n".join(lines)
