"""Covariates in make_windows, forecast (direct and recursive) and backtest."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, RegressorMixin

from sklstm import LSTMRegressor, backtest, forecast, load, make_windows, save


def small(**kw):
    params = dict(
        hidden_size=8, max_epochs=3, random_state=0, lr_schedule=None, scaling=None
    )
    return LSTMRegressor(**(params | kw))


class Linear(RegressorMixin, BaseEstimator):
    """A least-squares model on the flattened window: fast and deterministic."""

    def fit(self, X, y):
        A = np.c_[np.nan_to_num(np.asarray(X).reshape(len(X), -1)), np.ones(len(X))]
        self.coef_ = np.linalg.lstsq(A, np.asarray(y), rcond=None)[0]
        self.fits_ = getattr(self, "fits_", 0) + 1
        return self

    def predict(self, X):
        A = np.c_[np.nan_to_num(np.asarray(X).reshape(len(X), -1)), np.ones(len(X))]
        return A @ self.coef_


def table(n=60, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return pd.DataFrame(
        {
            "y": 10 + np.sin(t / 3) + rng.normal(0, 0.1, n),
            "price": rng.normal(0, 1, n),
            "month": t % 12,
        }
    )


# -- make_windows ------------------------------------------------------------------


def test_future_covariates_are_read_horizon_rows_later():
    """Check that step i of a window holds a future covariate's value ``horizon``
    rows later, so the last ``horizon`` steps hold the forecast steps' values,
    and that targets and past covariates stay where they were."""
    df = table(20)
    X, y, ends = make_windows(
        df, 5, horizon=3, target="y", future="month", return_origins=True
    )
    assert X.shape == (13, 5, 3) and y.shape == (13, 3)
    for k, end in enumerate(ends):
        rows = np.arange(end - 4, end + 1)
        np.testing.assert_array_equal(X[k, :, 0], df.y.to_numpy()[rows])
        np.testing.assert_array_equal(X[k, :, 1], df.price.to_numpy()[rows])
        np.testing.assert_array_equal(X[k, :, 2], df.month.to_numpy()[rows + 3])
        np.testing.assert_array_equal(y[k], df.y.to_numpy()[end + 1 : end + 4])
    assert np.isfinite(X).all()


def test_stacked_series_are_windowed_apart_with_their_origins():
    """Check that windows of a long table never cross series, origins point at
    each window's last row, and short series and changing statics are refused."""
    df = pd.DataFrame(
        {
            "id": ["b"] * 7 + ["a"] * 6,
            "y": np.arange(13.0),
            "size": [5.0] * 7 + [9.0] * 6,
        }
    )
    X, y, ends = make_windows(
        df, 3, horizon=2, series_id="id", static="size", return_origins=True
    )
    assert X.shape == (3 + 2, 3, 2)  # series b: 3 windows, a: 2
    np.testing.assert_array_equal(ends, [2, 3, 4, 9, 10])
    np.testing.assert_array_equal(X[3, :, 0], [7, 8, 9])
    np.testing.assert_array_equal(y[3], [10, 11])
    np.testing.assert_array_equal(X[:3, 0, 1], 5.0)
    np.testing.assert_array_equal(X[3:, 0, 1], 9.0)
    with pytest.raises(ValueError, match=r"shorter than window=5 plus horizon=2.*'a'"):
        make_windows(df, 5, horizon=2, series_id="id")
    with pytest.raises(ValueError, match=r"shorter than window=2 plus horizon=7.*'a'"):
        make_windows(df, 2, horizon=7, series_id="id", future="size")  # a < horizon
    changing = df.assign(size=np.arange(13.0))
    with pytest.raises(ValueError, match="static covariate 'size' changes within"):
        make_windows(changing, 3, series_id="id", static="size")
    with pytest.raises(ValueError, match="both a target and a future covariate"):
        make_windows(df, 3, series_id="id", target="y", future="y")
    with pytest.raises(ValueError, match="series_id='store' is not a column"):
        make_windows(df, 3, series_id="store")


def test_changing_a_future_value_of_the_target_never_changes_a_prediction():
    """Check leak-freedom end to end: training windows, the prediction windows
    (with future covariates) and backtests read nothing of the target after
    each origin."""
    df = table(80)
    later = df.copy()
    later.loc[50:, "y"] = 1e3  # every value of the target after row 49
    kw = dict(horizon=4, target="y", future="month")
    a = backtest(small(), df, 8, start=50, stride=4, refit=False, **kw)
    b = backtest(small(), later, 8, start=50, stride=4, refit=False, **kw)
    first = a.forecasts.query("model == 'model' and origin == 49")
    second = b.forecasts.query("model == 'model' and origin == 49")
    np.testing.assert_array_equal(first.forecast, second.forecast)
    model = small().fit(*make_windows(df[:50], 8, **kw))
    future = df[["month"]][50:54]
    np.testing.assert_array_equal(
        forecast(model, df[:50], 8, future_data=future, **kw),
        forecast(model, later[:50], 8, future_data=future, **kw),
    )


# -- forecast ----------------------------------------------------------------------


def test_recursive_equals_direct_for_horizon_one_and_feeds_itself():
    """Check that one step is the model's prediction from the last window, and
    that three steps feed each prediction back as the newest value."""
    series = np.sin(np.arange(60) / 4)
    model = small().fit(*make_windows(series, 10))
    direct = model.predict(series[-10:][None, :, None])
    np.testing.assert_allclose(forecast(model, series, 10), direct)
    steps = forecast(model, series, 10, steps=3)
    history = list(series)
    for k in range(3):
        nxt = model.predict(np.array(history[-10:])[None, :, None])[0]
        np.testing.assert_allclose(steps[k], nxt, rtol=1e-12)
        history.append(nxt)


def test_direct_forecast_and_recursive_blocks_of_horizon():
    """Check that steps within the horizon are one prediction's first values and
    steps past it are blocks of ``horizon`` predictions."""
    series = np.cos(np.arange(80) / 5) * 3 + 1
    model = Linear().fit(*make_windows(series, 12, horizon=4))
    whole = model.predict(series[-12:][None, :, None])[0]
    np.testing.assert_allclose(
        forecast(model, series, 12, horizon=4, steps=2), whole[:2]
    )
    ten = forecast(model, series, 12, horizon=4, steps=10)
    assert ten.shape == (10,)
    extended = np.r_[series, ten[:4]]
    np.testing.assert_allclose(
        ten[4:8], model.predict(extended[-12:][None, :, None])[0], rtol=1e-10
    )


def test_forecast_reads_future_covariates_for_the_forecast_steps():
    """Check that future covariates of the steps ahead come from future_data,
    that they are required, and that recursive forecasts refuse past covariates."""
    df = table(60)
    kw = dict(horizon=3, target="y", future="month")
    model = Linear().fit(*make_windows(df, 6, **kw))
    months = pd.DataFrame({"month": np.arange(60, 66) % 12})
    got = forecast(model, df, 6, future_data=months, **kw)
    window = df.to_numpy()[-6:].copy()
    window[:, 2] = np.r_[df.month.to_numpy(), months.month.to_numpy()][57:63]
    np.testing.assert_allclose(got, model.predict(window[None])[0])
    other = forecast(model, df, 6, future_data=months + 5, **kw)
    assert not np.allclose(got, other)
    with pytest.raises(ValueError, match="expected future_data"):
        forecast(model, df, 6, **kw)
    with pytest.raises(ValueError, match="future_data has 2 rows; expected at least 3"):
        forecast(model, df, 6, future_data=months[:2], **kw)
    with pytest.raises(ValueError, match=r"\['price'\] are past covariates"):
        forecast(model, df, 6, steps=5, future_data=months, **kw)


def test_global_model_forecasts_each_series_as_itself():
    """Check that one model over stacked series forecasts each series from its
    own history, in one DataFrame row per series."""
    frames = [
        pd.DataFrame({"store": s, "y": level + np.sin(np.arange(40) / 3) * level / 10})
        for s, level in (("north", 10.0), ("south", 1000.0), ("east", 100.0))
    ]
    long = pd.concat(frames, ignore_index=True).sample(frac=1, random_state=0)
    long = long.sort_index(kind="stable")  # interleaving allowed, time order kept
    model = small(scaling="window").fit(
        *make_windows(long, 8, horizon=2, series_id="store")
    )
    got = forecast(model, long, 8, horizon=2, steps=4, series_id="store")
    assert list(got.index) == ["north", "south", "east"]
    assert list(got.columns) == [1, 2, 3, 4]
    for frame in frames:
        one = forecast(model, frame.y.to_numpy(), 8, horizon=2, steps=4)
        np.testing.assert_allclose(got.loc[frame.store[0]], one, rtol=1e-6)
    # the series are scaled copies, and scaling="window" reads each window
    # relative to its own level and spread: the forecasts are scaled copies too
    np.testing.assert_allclose(got.loc["south"], 10 * got.loc["east"], rtol=1e-3)


# -- backtest ----------------------------------------------------------------------


def test_backtest_without_refit_is_one_fit_and_one_batched_predict():
    """Check that refit=False fits once on the rows before the first origin and
    forecasts every origin from the model fitted then; refit=True and refit=k
    fit at every / every k-th origin; the model passed in is not changed."""
    series = np.sin(np.arange(100) / 5) + np.arange(100) / 50
    model = Linear()
    result = backtest(model, series, 10, horizon=3, start=60, stride=5, refit=False)
    assert not hasattr(model, "coef_")
    assert result.fits == 1
    fitted = Linear().fit(*make_windows(series[:60], 10, horizon=3))
    origins = np.arange(60, 98, 5)
    expected = fitted.predict(
        np.stack([series[o - 10 : o] for o in origins])[..., None]
    )
    got = result.forecasts.query("model == 'model'")
    np.testing.assert_allclose(got.forecast.to_numpy(), expected.ravel())
    np.testing.assert_array_equal(got.origin.unique(), origins - 1)
    np.testing.assert_array_equal(got.actual, series[got.time])
    assert backtest(model, series, 10, horizon=3, start=60, stride=5).fits == 8
    assert backtest(model, series, 10, horizon=3, start=60, stride=5, refit=3).fits == 3
    refit = backtest(model, series, 10, horizon=3, start=60, stride=5, refit=True)
    last = Linear().fit(*make_windows(series[:95], 10, horizon=3))
    np.testing.assert_allclose(
        refit.forecasts.query("model == 'model' and origin == 94").forecast,
        last.predict(series[85:95][None, :, None])[0],
    )


def test_backtest_metrics_and_seasonal_naive_reference():
    """Check the metrics table against the forecasts, the seasonal-naive
    forecasts against the series, and conformal intervals' order."""
    t = np.arange(120)
    series = 50 + 10 * np.sin(2 * np.pi * t / 12) + t / 5
    series = pd.Series(series, index=pd.date_range("2000-01", periods=120, freq="MS"))
    result = backtest(
        Linear(), series, 24, horizon=6, start=60, coverage=0.8, season=12
    )
    assert result.interval == "conformal"
    naive = result.forecasts.query("model == 'seasonal naive'")
    times = pd.DatetimeIndex(naive.time)
    back = series.index.get_indexer(times - pd.DateOffset(months=12))
    np.testing.assert_allclose(naive.forecast, series.to_numpy()[back])
    model = result.forecasts.query("model == 'model'")
    error = model.forecast - model.actual
    row = result.metrics.loc["model"]
    assert row.mae == pytest.approx(np.abs(error).mean())
    assert row.rmse == pytest.approx(np.sqrt((error**2).mean()))
    seen = series.to_numpy()[:60]
    scale = np.abs(seen[12:] - seen[:-12]).mean()
    assert row.mase == pytest.approx(np.abs(error).mean() / scale)
    has = model.dropna(subset=["lower"])
    assert len(has) > 0 and len(has) < len(model)  # none until errors are known
    assert (has.lower <= has.forecast).all() and (has.forecast <= has.upper).all()
    inside = (has.actual >= has.lower) & (has.actual <= has.upper)
    assert row.coverage == pytest.approx(inside.mean())
    assert row.width == pytest.approx((has.upper - has.lower).mean())
    assert set(result.metrics.columns) == {
        "mae",
        "rmse",
        "mape",
        "mase",
        "coverage",
        "width",
        "pinball",
    }


def test_backtest_uses_a_pinball_models_own_quantiles():
    """Check that a pinball model's intervals are its own quantiles."""
    series = np.sin(np.arange(90) / 4) + 3
    model = small(loss="pinball", quantiles=(0.1, 0.9))
    result = backtest(model, series, 12, start=70, stride=5, refit=False, coverage=0.8)
    assert result.interval == "quantile"
    fitted = model.fit(*make_windows(series[:70], 12))
    ends = fitted.predict_interval(
        np.stack([series[o - 12 : o] for o in range(70, 90, 5)])[..., None], 0.8
    )
    rows = result.forecasts.query("model == 'model'")
    np.testing.assert_allclose(rows[["lower", "upper"]].to_numpy(), ends)
    with pytest.raises(ValueError, match="interval='quantile' needs"):
        backtest(small(), series, 12, start=70, coverage=0.8, interval="quantile")


def test_backtest_refuses_bad_settings():
    """Check that each bad setting is named with what was expected."""
    series = np.arange(50.0)
    for kw, match in (
        (dict(start=5), "start=5 must lie between"),
        (dict(start=49), "start=49 must lie between"),
        (dict(refit=0), "refit must be True, False or an integer"),
        (dict(coverage=1.5), "coverage must be None or a number"),
        (dict(interval="bootstrap"), "interval must be"),
        (dict(stride=0), "stride must be an integer >= 1"),
    ):
        with pytest.raises(ValueError, match=match):
            backtest(Linear(), series, 10, horizon=2, **kw)


def test_a_quantile_model_for_forecasting_survives_save_and_load(tmp_path):
    """Check that a model forecasting with future covariates forecasts the same
    after save and load."""
    df = table(50)
    kw = dict(horizon=2, target="y", future="month")
    model = small(loss="pinball").fit(*make_windows(df, 6, **kw))
    save(model, tmp_path / "m.sklstm")
    back = load(tmp_path / "m.sklstm")
    months = df[["month"]][:2]
    np.testing.assert_array_equal(
        forecast(model, df, 6, future_data=months, **kw),
        forecast(back, df, 6, future_data=months, **kw),
    )
    np.testing.assert_array_equal(back.quantiles_, model.quantiles_)


# -- CalendarFeatures --------------------------------------------------------------


def test_calendar_features_from_a_column_or_the_index():
    """Check the periodic and plain features, holiday flags from a pandas
    calendar or a list, and the names of the columns."""
    from pandas.tseries.holiday import USFederalHolidayCalendar

    from sklstm import CalendarFeatures

    dates = pd.date_range("2024-12-20", periods=20, freq="D")
    df = pd.DataFrame({"date": dates, "sales": np.arange(20.0)})
    cal = CalendarFeatures(
        "date",
        features=["month", "weekday", "weekend"],
        holidays=USFederalHolidayCalendar(),
    )
    out = cal.fit_transform(df)
    assert list(cal.get_feature_names_out()) == [
        "sales",
        "month_sin",
        "month_cos",
        "weekday_sin",
        "weekday_cos",
        "weekend",
        "holiday",
    ]
    np.testing.assert_array_equal(out[:, 0], df.sales)
    phase = 2 * np.pi * dates.day_of_week / 7
    np.testing.assert_allclose(out[:, 3], np.sin(phase))
    np.testing.assert_allclose(out[:, 4], np.cos(phase))
    np.testing.assert_array_equal(out[:, 5], dates.day_of_week >= 5)
    holidays = dates[out[:, 6] == 1]
    assert list(holidays.strftime("%m-%d")) == ["12-25", "01-01"]
    plain = CalendarFeatures(
        features=["month", "year"], cyclic=False, holidays=["2025-01-03"]
    )
    out = plain.fit_transform(df.set_index("date"))
    np.testing.assert_array_equal(out[:, 1], dates.month - 1)
    np.testing.assert_array_equal(out[:, 2], dates.year)
    np.testing.assert_array_equal(np.flatnonzero(out[:, 3]), [14])
    frame = plain.set_output(transform="pandas").transform(df.set_index("date"))
    assert list(frame.columns) == ["sales", "month", "year", "holiday"]


def test_calendar_features_refuse_what_is_not_dates():
    """Check that each wrong input names what was expected."""
    from sklstm import CalendarFeatures

    df = pd.DataFrame({"date": ["2024-01-01", "2024-01-02"], "x": [1.0, 2.0]})
    for cal, X, error, match in (
        (CalendarFeatures("date"), df.to_numpy(), TypeError, "expects a DataFrame"),
        (CalendarFeatures("when"), df, ValueError, "column='when' is not a column"),
        (CalendarFeatures(), df, ValueError, "must be a DatetimeIndex"),
        (CalendarFeatures("x"), df.assign(x=["a", "b"]), ValueError, "must hold dates"),
        (CalendarFeatures("date", features=["moon"]), df, ValueError, "features must"),
        (CalendarFeatures("date", features="month"), df, ValueError, "features"),
    ):
        with pytest.raises(error, match=match):
            cal.fit(X)
    fitted = CalendarFeatures("date").fit(df)
    with pytest.raises(ValueError, match="expected the columns seen in fit"):
        fitted.transform(df.assign(y=1.0))


def test_calendar_features_give_future_covariates_to_forecast():
    """Check the documented path: calendar columns as future covariates in
    make_windows, and the same transformer on future dates for forecast."""
    from sklstm import CalendarFeatures

    dates = pd.date_range("2020-01", periods=60, freq="MS")
    sales = 100 + 10 * np.sin(2 * np.pi * np.arange(60) / 12)
    cal = CalendarFeatures(features=["month"]).set_output(transform="pandas")
    df = cal.fit_transform(pd.DataFrame({"sales": sales}, index=dates))
    kw = dict(horizon=3, target="sales", future=["month_sin", "month_cos"])
    model = Linear().fit(*make_windows(df, 12, **kw))
    ahead = pd.DataFrame(
        {"sales": np.nan}, index=pd.date_range("2025-01", periods=3, freq="MS")
    )
    got = forecast(model, df, 12, future_data=cal.transform(ahead), **kw)
    assert got.shape == (3,) and np.isfinite(got).all()


def test_backtest_of_a_panel_fits_one_global_model():
    """Check that a backtest over stacked series fits one model on every
    series' windows before their origins, forecasts each series from its own
    windows, counts a negative start from each series' end, and scales MASE
    and conformal intervals by each series' own errors."""
    t = np.arange(60)
    noise = np.random.default_rng(0).normal(0, 0.1, 110)
    long = pd.concat(
        [
            pd.DataFrame({"id": "small", "y": 1 + np.sin(t / 3) + noise[:60]}),
            pd.DataFrame(
                {"id": "big", "y": 1000 * (1 + np.sin(t[:50] / 3) + noise[60:])}
            ),
        ],
        ignore_index=True,
    )
    result = backtest(
        Linear(),
        long,
        8,
        horizon=2,
        series_id="id",
        start=-10,
        stride=2,
        refit=False,
        coverage=0.5,
    )
    assert result.fits == 1
    small, big = long.y[:60].to_numpy(), long.y[60:].to_numpy()
    windows = [
        make_windows(small[:50], 8, horizon=2),
        make_windows(big[:40], 8, horizon=2),
    ]
    fitted = Linear().fit(
        np.concatenate([w[0] for w in windows]), np.concatenate([w[1] for w in windows])
    )
    rows = result.forecasts.query("model == 'model'")
    assert list(rows.columns[:3]) == ["model", "id", "origin"]
    for name, values in (("small", small), ("big", big)):
        mine = rows[rows.id == name]
        origins = np.arange(len(values) - 10, len(values) - 1, 2)
        np.testing.assert_array_equal(
            mine.origin.unique(), 60 * (name == "big") + origins - 1
        )
        expected = fitted.predict(
            np.stack([values[o - 8 : o] for o in origins])[..., None]
        )
        np.testing.assert_allclose(mine.forecast, expected.ravel())
        # the last origin's interval: from this series' own earlier errors
        errors = np.abs(mine.forecast - mine.actual).to_numpy().reshape(-1, 2)
        known = errors[origins + 2 <= origins[-1]]
        level = np.ceil((len(known) + 1) * 0.5) / len(known)
        q = np.quantile(known, level, axis=0, method="higher")
        np.testing.assert_allclose(mine.upper.to_numpy()[-2:], expected[-1] + q)
    scale = {
        "small": np.abs(np.diff(small[:50])).mean(),
        "big": np.abs(np.diff(big[:40])).mean(),
    }
    mase = (rows.forecast - rows.actual).abs() / rows.id.map(scale)
    assert result.metrics.loc["model", "mase"] == pytest.approx(mase.mean())
    assert backtest(Linear(), long, 8, horizon=2, series_id="id", start=-10).fits == 9
