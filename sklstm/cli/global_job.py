"""``sklstm forecast`` with covariates or many series: backtest, fit, forecast.

The plain job (``forecast_job``) prepares one series (logs, differences) and
windows it in a pipeline; covariates known ahead and series stacked in a long
table go through the library's ``make_windows`` / ``backtest`` / ``forecast``
instead, on the values as they are (the regressor scales each window).
"""

from __future__ import annotations

import numpy as np

from . import forecasting as fc
from .backtest_job import _table
from .output import finite_or_none, out_folder, phase, write_json, write_text
from .tables import InputError


def run(
    csv,
    *,
    target,
    id_col=None,
    time_col=None,
    future_cols=(),
    static_cols=(),
    window=None,
    horizon=None,
    season=None,
    test_size=None,
    folds=3,
    max_epochs="auto",
    seed=0,
    out="sklstm-output",
    echo=print,
):
    """Backtest, fit and forecast one global model; write forecast.csv,
    backtest.csv, metrics.json and model.sklstm into ``out``."""
    from .._backtest import backtest
    from .._forecasting import forecast
    from .._make_windows import make_windows
    from .._persistence import save
    from .._regressor import LSTMRegressor

    history, ahead, found = fc.load_panel(
        csv,
        target=target,
        id_col=id_col,
        time_col=time_col,
        covariates=list(future_cols) + list(static_cols),
        future=bool(future_cols),
    )
    window = window or 24
    season = season or found
    horizon = horizon or season
    spec = dict(
        horizon=horizon,
        target=target,
        future=list(future_cols) or None,
        static=list(static_cols) or None,
        series_id=id_col,
    )
    n_series = history[id_col].nunique() if id_col else 1
    echo(
        f"{target} from {csv}: {n_series} series, {len(history)} rows; window "
        f"{window}, horizon {horizon}, season {season}; future covariates: "
        f"{list(future_cols) or 'none'}; static: {list(static_cols) or 'none'}."
    )
    model = LSTMRegressor(max_epochs=max_epochs, random_state=seed)
    test_size = test_size or horizon
    try:
        with phase("backtesting the last origins of every series", enabled=True):
            result = backtest(
                model,
                history,
                window,
                start=-(folds * test_size + horizon - 1),
                refit=test_size,
                coverage=0.8,
                season=season,
                **spec,
            )
        with phase("fitting on every series", enabled=True):
            model.fit(*make_windows(history, window, **spec))
        future_data = None
        if future_cols:
            future_data = _ahead(ahead, id_col, future_cols, horizon)
        values = forecast(model, history, window, future_data=future_data, **spec)
    except ValueError as e:
        raise InputError(str(e)) from None
    out = out_folder(out)
    rows = _rows(values, history, id_col, horizon)
    write_text(out / "forecast.csv", _csv(rows, id_col))
    backtest_frame = result.forecasts.copy()
    for column in ("origin", "time"):
        backtest_frame[column] = [fc.label(t) for t in backtest_frame[column]]
    write_text(out / "backtest.csv", backtest_frame.to_csv(index=False))
    metrics = {
        name: {k: finite_or_none(float(v)) for k, v in row.items()}
        for name, row in result.metrics.iterrows()
    }
    write_json(
        out / "metrics.json",
        {
            "data": {"source": str(csv), "target": target, "series": int(n_series)},
            "settings": {
                "window": window,
                "horizon": horizon,
                "season": season,
                "id_col": id_col,
                "future_cols": list(future_cols),
                "static_cols": list(static_cols),
                "backtest_origins_per_series": folds * test_size,
                "refit_every": test_size,
                "max_epochs": max_epochs,
                "seed": seed,
            },
            "backtest": metrics,
            "forecast": [{**r, "value": finite_or_none(r["value"])} for r in rows],
        },
    )
    model_path = save(model, out / "model.sklstm")
    echo(_table(result.metrics, 0.8))
    echo(
        f"Wrote forecast.csv, backtest.csv, metrics.json and {model_path.name} to {out}"
    )
    return metrics


def _ahead(ahead, id_col, future_cols, horizon):
    """The future covariates of the forecast steps: rows with an empty target."""
    if ahead is None:
        raise InputError(
            f"--future-cols {' '.join(future_cols)}: expected the next {horizon} "
            "rows of every series after its last value, with the target empty and "
            "the future covariates filled in (their values in the forecast steps)."
        )
    return ahead.reset_index(drop=True)


def _rows(values, history, id_col, horizon):
    """``[{series, time, step, value}]`` for every series and step."""
    rows = []
    if id_col is None:
        stamps = fc.future_times(history.index, horizon)
        return [
            {"time": t, "step": h + 1, "value": float(v)}
            for h, (t, v) in enumerate(zip(stamps, np.ravel(values), strict=True))
        ]
    for key, forecasts in values.iterrows():
        times = history.index[(history[id_col] == key).to_numpy()]
        stamps = fc.future_times(times, horizon)
        for h, (t, v) in enumerate(zip(stamps, forecasts.to_numpy(), strict=True)):
            rows.append(
                {"series": str(key), "time": t, "step": h + 1, "value": float(v)}
            )
    return rows


def _csv(rows, id_col):
    head = ([id_col] if id_col else []) + ["time", "step", "forecast"]
    lines = [",".join(head)]
    for r in rows:
        cells = ([r["series"]] if id_col else []) + [r["time"], str(r["step"])]
        lines.append(",".join(cells + [f"{r['value']:.10g}"]))
    return "\n".join(lines) + "\n"
