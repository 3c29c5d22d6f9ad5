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
    series = fc.load_series(
        csv, target=target, time_col=time_col, dataset=dataset, covariates=future_cols
    )
    window = window or preset.get("window", 24)
    season = season or series.season
    horizon = horizon or preset.get("horizon") or season
    n = len(series.values)
    data = pd.DataFrame({series.target: series.values}, index=series.times)
    for name, values in (series.covariates or {}).items():
        data[name] = values
    start = start if start is not None else max(window + horizon, n - 4 * horizon)
    every = {"yes": True, "no": False}.get(refit)
    every = int(refit) if every is None else every
    model = LSTMRegressor(max_epochs=max_epochs, random_state=seed)
    if interval == "quantile":
        model.set_params(loss="pinball")
    echo(
        f"{series.target} from {series.source}: {n} values; window {window}, "
        f"horizon {horizon}, origins from row {start} every {stride}, refit "
        f"{refit}; future covariates: {list(future_cols) or 'none'}."
    )
    try:
        with phase("backtesting", enabled=True):  # one line: no bar
            result = backtest(
                model,
                data,
                window,
                horizon=horizon,
                target=series.target,
                future=list(future_cols) or None,
                start=start,
                stride=stride,
                refit=every,
                coverage=coverage,
                interval=interval,
                season=season,
            )
    except ValueError as e:
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
    origins = frame.origin.nunique()
    write_json(
        out / "backtest.json",
        {
            "source": series.source,
            "target": series.target,
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
