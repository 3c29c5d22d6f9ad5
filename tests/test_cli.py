"""The ``sklstm`` command end to end: forecast, classify, demo, errors, exit codes."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import sklstm
from sklstm import cli
from sklstm.datasets import load_airline, load_gunpoint, load_japanese_vowels

QUICK = ["--max-epochs", "5", "--no-progress"]


def _files(folder, plot):
    names = {"metrics.json", plot, "model.sklstm", "report.md"}
    assert names <= {p.name for p in folder.iterdir()}
    assert (folder / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    mask = os.umask(0)
    os.umask(mask)
    for name in ("metrics.json", "model.sklstm", "report.md"):  # not mkstemp's 0600
        assert (folder / name).stat().st_mode & 0o777 == 0o666 & ~mask, name
    return json.loads((folder / "metrics.json").read_text())


def _finite(values):
    return all(v is not None and np.isfinite(v) for v in values)


def test_forecast_a_bundled_dataset(tmp_path, capsys):
    """Check that forecasting a bundled dataset writes its files and metrics, and that
    the saved pipeline is the forecaster."""
    assert (
        cli.main(
            ["forecast", "--dataset", "sunspots", "--difference", "none"]
            + ["--out", str(tmp_path), "--coverage", "0.8", "--quantiles", "0.5"]
            + QUICK
        )
        == 0
    )
    metrics = _files(tmp_path, "forecast.png")
    assert metrics["settings"]["horizon"] == 11 and metrics["settings"]["season"] == 11
    assert metrics["settings"]["preparation_cv_mae"] is None  # fixed, not chosen
    assert len(metrics["cv"]["folds"]) == 3 and len(metrics["forecast"]) == 11
    assert [f["time"] for f in metrics["forecast"]][:2] == ["2009", "2010"]
    for model in ("lstm", "naive", "seasonal_naive"):
        mean = metrics["cv"]["mean"][model]
        assert _finite(mean.values())
    pipe = sklstm.load(tmp_path / "model.sklstm")
    assert [n for n, _ in pipe.steps] == ["window", "lstm"]
    y = sklstm.datasets.load_sunspots()
    next_values = pipe.predict(y[-30:, None])[-1]  # no differences, no logs here
    forecast = [f["value"] for f in metrics["forecast"]]
    np.testing.assert_allclose(next_values, forecast, rtol=1e-5)
    report = (tmp_path / "report.md").read_text()
    assert "seasonal naive" in report and "MASE" in report
    assert "MAE" in capsys.readouterr().out
    # quantiles from the CV errors, step by step: in forecast.csv and metrics.json
    table = pd.read_csv(tmp_path / "forecast.csv")
    assert list(table.columns) == ["time", "forecast", "q0.1", "q0.5", "q0.9"]
    np.testing.assert_allclose(table.forecast, forecast, rtol=1e-8)
    assert (table["q0.1"] <= table["q0.5"]).all() and (
        table["q0.5"] <= table["q0.9"]
    ).all()
    assert (table["q0.1"] < table["q0.9"]).any()
    assert metrics["settings"]["quantiles"] == [0.1, 0.5, 0.9]
    assert metrics["forecast"][0]["quantiles"]["0.9"] == pytest.approx(table["q0.9"][0])


def test_forecast_chooses_the_preparation_by_cross_validation(tmp_path, capsys):
    """Check that with --difference auto on a seasonal series, both preparations are
    cross-validated and the one with the lower CV MAE is the model's."""
    args = ["forecast", "--dataset", "airline", "--out", str(tmp_path)] + QUICK
    assert cli.main(args) == 0
    settings = _files(tmp_path, "forecast.png")["settings"]
    scores = settings["preparation_cv_mae"]
    assert set(scores) == {"values as they are", "log, difference at lag 12"}
    kept = min(scores, key=scores.get)
    assert (settings["difference_lag"] == 12) == (kept != "values as they are")
    assert f"kept {kept}" in capsys.readouterr().out


def test_candidate_plans_need_a_season_and_room_for_it():
    """Check that a series without a season, or too short for the seasonal lag, has one
    plan: the values as they are."""
    from sklstm.cli import forecasting as fc

    settings = dict(
        window=6, horizon=3, difference="auto", log="auto", folds=2,
        test_size=None, max_epochs=2, seed=0,
    )  # fmt: skip
    y = np.arange(1.0, 41.0)
    seasonal = fc.Series(y, pd.RangeIndex(40), "t", "y", season=12)
    assert len(fc.candidate_plans(seasonal, season=None, **settings)) == 2
    assert len(fc.candidate_plans(seasonal, season=1, **settings)) == 1
    short = fc.Series(y[:22], pd.RangeIndex(22), "t", "y", season=12)
    [plan] = fc.candidate_plans(short, season=None, **settings)  # 22 < 12 + 18
    assert plan.lag == 0 and not plan.log


def test_forecast_a_csv_with_dates(tmp_path):
    """Check that a CSV of unsorted daily rows is forecast with its dates' season."""
    days = pd.date_range("2024-01-01", periods=160, freq="D")
    t = np.arange(160)
    sales = 100 + 0.3 * t + 10 * np.sin(2 * np.pi * t / 7)
    table = pd.DataFrame({"day": days.strftime("%Y-%m-%d"), "sales": sales})
    csv = tmp_path / "sales.csv"
    table.sample(frac=1, random_state=0).to_csv(csv, index=False)
    out = tmp_path / "out"
    args = ["forecast", str(csv), "--target", "sales", "--time-col", "day"]
    assert cli.main(args + ["--window", "14", "--out", str(out)] + QUICK) == 0
    metrics = _files(out, "forecast.png")
    assert metrics["settings"]["season"] == 7 and metrics["settings"]["horizon"] == 7
    assert metrics["settings"]["log"] and metrics["settings"]["difference_lag"] == 7
    assert metrics["data"]["first"] == "2024-01-01"
    assert metrics["forecast"][0]["time"] == "2024-06-09"
    assert _finite(f["value"] for f in metrics["forecast"])
    assert _finite(metrics["cv"]["mean"]["lstm"].values())
    # a season back misses exactly the trend's growth over 7 days, at every step
    assert metrics["cv"]["mean"]["seasonal_naive"]["mae"] == pytest.approx(0.3 * 7)


def test_forecast_notes_dates_that_are_not_evenly_spaced(tmp_path, capsys):
    """Check that monthly rows with months missing get a note naming the first
    gap and what the job does instead (no season, steps read as consecutive),
    that --season drops the advice to pass one, and that evenly spaced
    dates get no note."""
    months = pd.date_range("2000-01-01", periods=80, freq="MS")
    values = 10 + np.sin(np.arange(80) * 2 * np.pi / 12)
    table = pd.DataFrame({"month": months.strftime("%Y-%m-%d"), "y": values})
    table.to_csv(tmp_path / "even.csv", index=False)
    table.drop(index=[30, 31, 50]).to_csv(tmp_path / "gaps.csv", index=False)
    runs = (("gaps.csv", []), ("gaps.csv", ["--season", "12"]), ("even.csv", []))
    for name, extra in runs:
        args = ["forecast", str(tmp_path / name), "--target", "y", "--time-col"]
        args += ["month", "--window", "12", "--folds", "2", "--out"]
        assert cli.main(args + [str(tmp_path / "out"), *extra, *QUICK]) == 0
        printed = capsys.readouterr().out
        if name == "even.csv":
            assert "Note:" not in printed and "season 12" in printed
            continue
        assert "2 step(s) are longer than the usual 31 days" in printed
        assert "the first from 2002-06-01 to 2002-09-01" in printed
        assert ("or pass --season S." in printed) == (not extra)


def test_forecast_search_resumes_from_its_storage(tmp_path):
    """Check that a search resumes from its storage: after two trials, asking for four
    runs two more in the same study."""
    base = ["forecast", "--dataset", "airline", "--out", str(tmp_path)] + QUICK
    assert cli.main(base + ["--trials", "2"]) == 0
    first = json.loads((tmp_path / "metrics.json").read_text())["search"]
    assert (first["trials_before_this_run"], first["trials_run"]) == (0, 2)
    assert cli.main(base + ["--trials", "4"]) == 0
    second = json.loads((tmp_path / "metrics.json").read_text())["search"]
    assert (second["trials_before_this_run"], second["trials_run"]) == (2, 2)
    assert second["study_name"] == first["study_name"]
    assert second["complete"] + second["pruned"] + second["fail"] == 4
    assert (tmp_path / "optuna.journal").stat().st_size > 0


def test_demo_beats_seasonal_naive(tmp_path, capsys):
    """Check that what make demo runs, with half its trials and a fixed 60-epoch budget
    (a quarter of the time), is a small search whose LSTM beats seasonal naive."""
    args = ["demo", "--out", str(tmp_path), "--trials", "2", "--max-epochs", "60"]
    assert cli.main(args + ["--no-progress"]) == 0
    metrics = _files(tmp_path, "forecast.png")
    mean = metrics["cv"]["mean"]
    assert mean["lstm"]["mae"] < mean["seasonal_naive"]["mae"] < mean["naive"]["mae"]
    assert "seasonal naive" in capsys.readouterr().out


def test_scores_leave_undefined_ratios_out():
    """Check that MAPE and MASE are None where a true value or the scale is zero."""
    from sklstm.cli.forecasting import scores

    got = scores(np.array([[0.0, 2.0]]), np.array([[1.0, 2.0]]), scale=0.0)
    assert got == {"mae": 0.5, "rmse": np.sqrt(0.5), "mape": None, "mase": None}


def _wide_gunpoint(path, split, n=None):
    X, y = load_gunpoint(split=split, as_frame=True)
    table = pd.concat([X, y.rename("label")], axis=1)
    table.iloc[:n].to_csv(path, index=False)
    return path


def test_classify_wide_train_and_test(tmp_path):
    """Check that a wide CSV pair is fit on TRAIN, evaluated on TEST and saved as a
    loadable pipeline."""
    train = _wide_gunpoint(tmp_path / "train.csv", "train")
    test = _wide_gunpoint(tmp_path / "test.csv", "test", 40)
    out = tmp_path / "out"
    args = ["classify", str(train), str(test), "--label", "label", "--out", str(out)]
    assert cli.main(args + QUICK) == 0
    metrics = _files(out, "confusion.png")
    assert metrics["data"]["layout"] == "wide" and "test set" in metrics["evaluated_on"]
    assert 0 <= metrics["accuracy"] <= 1 and np.isfinite(metrics["f1_macro"])
    matrix = np.array(metrics["confusion_matrix"]["rows_actual_columns_predicted"])
    assert matrix.sum() == 40 and metrics["confusion_matrix"]["labels"] == [1, 2]
    pipe = sklstm.load(out / "model.sklstm")
    X = pd.read_csv(test).drop(columns="label").to_numpy()
    predicted = pipe.predict(X).astype(str)
    accuracy = np.mean(predicted == pd.read_csv(test)["label"].astype(str).to_numpy())
    assert accuracy == pytest.approx(metrics["accuracy"])


def test_classify_long_ragged_table_by_cross_validation(tmp_path):
    """Check that a long CSV of ragged sequences, rows shuffled, with no TEST file is
    evaluated by stratified CV."""
    long = load_japanese_vowels(as_frame=True)
    keep = long["series_id"].isin(long["series_id"].unique()[::6])
    csv = tmp_path / "vowels.csv"
    long[keep].sample(frac=1, random_state=0).to_csv(csv, index=False)
    out = tmp_path / "out"
    args = ["classify", str(csv), "--label", "label", "--folds", "3"]
    assert cli.main(args + ["--out", str(out)] + QUICK) == 0
    metrics = _files(out, "confusion.png")
    assert metrics["data"]["layout"] == "long" and metrics["data"]["n_train"] == 45
    assert metrics["data"]["channels"] == [f"dim_{i}" for i in range(12)]
    assert "3-fold CV" in metrics["evaluated_on"]
    matrix = np.array(metrics["confusion_matrix"]["rows_actual_columns_predicted"])
    assert matrix.sum() == 45


def test_classify_a_bundled_dataset(tmp_path):
    """Check that classifying a bundled dataset writes files and per-class metrics."""
    args = ["classify", "--dataset", "basic_motions", "--out", str(tmp_path)]
    assert cli.main(args + QUICK) == 0
    metrics = _files(tmp_path, "confusion.png")
    assert metrics["data"]["n_train"] == 40 and len(metrics["per_class"]) >= 4


def _fails(args, capsys, code=2):
    assert cli.main(args) == code
    return capsys.readouterr().err


@pytest.fixture
def csv(tmp_path):
    path = tmp_path / "series.csv"
    pd.DataFrame(
        {"month": load_airline(as_frame=True)["month"], "y": load_airline()}
    ).to_csv(path, index=False)
    return path


def test_forecast_errors_say_what_was_expected(csv, tmp_path, capsys):
    """Check that forecast's errors in its input exit 2 and say what was expected."""
    err = _fails(["forecast", str(tmp_path / "nope.csv"), "--target", "y"], capsys)
    assert "No such file" in err and "nope.csv" in err
    err = _fails(["forecast", str(csv), "--target", "sales"], capsys)
    assert "no column 'sales'" in err and "its 2 columns are 'month', 'y'" in err
    err = _fails(["forecast", str(csv), "--target", "Y"], capsys)
    assert "Did you mean 'y'?" in err
    err = _fails(["forecast", str(csv), "--target", "month"], capsys)
    assert "must be numeric" in err and "'1949-01'" in err
    err = _fails(["forecast", str(csv), "--target", "y", "--window", "200"], capsys)
    assert "Too few rows" in err and "144 values" in err and "at least" in err
    table = pd.read_csv(csv)
    table.loc[5, "y"] = None
    table.to_csv(csv, index=False)
    err = _fails(["forecast", str(csv), "--target", "y"], capsys)
    assert "1 missing value(s), the first in row 5" in err
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "is empty" in _fails(["forecast", str(empty), "--target", "y"], capsys)
    twice = pd.read_csv(csv).fillna(1.0)
    pd.concat([twice, twice.iloc[[7]]]).to_csv(csv, index=False)
    args = ["forecast", str(csv), "--target", "y", "--time-col", "month"]
    assert "repeats '1949-08-01'" in _fails(args, capsys)
    twice.assign(month="soon").to_csv(csv, index=False)
    assert "neither numbers nor dates" in _fails(args, capsys)


def test_usage_errors_exit_2(csv, capsys):
    """Check that bad arguments and unknown commands are usage errors that exit 2."""
    for args in (
        ["forecast", "--window", "0"],
        ["forecast", "--window", "ten"],
        ["forecast", str(csv), "--dataset", "airline"],
        ["forecast", "--target", "y"],
        ["classify"],
        ["classify", str(csv)],
        ["frobnicate"],
    ):
        with pytest.raises(SystemExit) as stop:
            cli.main(args)
        assert stop.value.code == 2, args
        assert "error:" in capsys.readouterr().err


def test_classify_errors_say_what_was_expected(tmp_path, capsys):
    """Check that classify's errors in its input exit 2 and say what was expected."""
    train = _wide_gunpoint(tmp_path / "train.csv", "train")
    err = _fails(["classify", str(train), "--label", "class"], capsys)
    assert "no column 'class'" in err
    table = pd.read_csv(train)
    table["t3"] = table["t3"].astype(str) + "x"
    table.to_csv(tmp_path / "text.csv", index=False)
    err = _fails(["classify", str(tmp_path / "text.csv"), "--label", "label"], capsys)
    assert "['t3']" in err and "not numeric" in err
    table = pd.read_csv(train).drop(columns="t5")
    table.to_csv(tmp_path / "other.csv", index=False)
    args = ["classify", str(train), str(tmp_path / "other.csv"), "--label", "label"]
    assert "expected the same feature columns" in _fails(args, capsys)
    args = ["classify", str(train), "--label", "label", "--folds", "40"]
    assert "Too few sequences for 40-fold" in _fails(args, capsys)
    long = pd.DataFrame(
        {"series_id": [1, 1, 2, 2], "x": [0.0, 1, 2, 3], "label": ["a", "b", "a", "a"]}
    )
    long.to_csv(tmp_path / "long.csv", index=False)
    err = _fails(["classify", str(tmp_path / "long.csv"), "--label", "label"], capsys)
    assert "The sequence 1" in err and "more than one label" in err


def test_classify_wide_tables_as_wide_as_their_longest_sequence(tmp_path, capsys):
    """Check that wide TRAIN and TEST tables of varying-length sequences may end
    at different steps (each is as wide as its longest sequence): a narrower
    TEST, or a wider one whose extra columns number on the steps, is read;
    other extra columns and renamed steps are refused with a short message."""
    rng = np.random.default_rng(0)

    def wide(path, n, steps, names=None):
        values = rng.normal(size=(n, steps))
        for i in range(n):
            values[i, rng.integers(steps // 2, steps + 1) :] = np.nan
        values[0] = rng.normal(size=steps)  # one sequence fills the table
        columns = names or [f"t{i}" for i in range(steps)]
        table = pd.DataFrame(values, columns=columns)
        table.insert(0, "label", ["a", "b"] * (n // 2))
        table.to_csv(path, index=False)
        return str(path)

    train = wide(tmp_path / "train.csv", 20, 40)
    for name, steps in (("short.csv", 25), ("long.csv", 55)):
        test = wide(tmp_path / name, 10, steps)
        out = tmp_path / name.replace(".csv", "")
        args = ["classify", train, test, "--label", "label", "--out", str(out)]
        assert cli.main(args + QUICK) == 0
        assert "one channel of 20-40 time steps" in capsys.readouterr().out
        matrix = _files(out, "confusion.png")["confusion_matrix"]
        assert np.sum(matrix["rows_actual_columns_predicted"]) == 10
    names = [f"t{i}" for i in range(40)] + ["weight"]
    odd = wide(tmp_path / "odd.csv", 10, 41, names)
    err = _fails(["classify", train, odd, "--label", "label"], capsys)
    assert "41 columns 't0', 't1'" in err and "'weight'" in err
    assert "numbered on from the training table's" in err and len(err) < 700


def test_classify_says_when_test_holds_labels_training_lacks(tmp_path, capsys):
    """Check that a TEST label no training sequence has is named in a note and in
    metrics.json (those sequences count as errors), and that there is no note
    when every TEST label is known."""
    train = _wide_gunpoint(tmp_path / "train.csv", "train", 20)
    table = pd.read_csv(train)
    table.loc[:2, "label"] = 7
    table.to_csv(tmp_path / "test.csv", index=False)
    for test, unseen in ((tmp_path / "test.csv", [7]), (train, [])):
        out = tmp_path / f"out{len(unseen)}"
        args = ["classify", str(train), str(test), "--label", "label"]
        assert cli.main(args + ["--out", str(out)] + QUICK) == 0
        printed = capsys.readouterr().out
        assert ("holds the label(s) [7], which no training" in printed) == bool(unseen)
        assert _files(out, "confusion.png")["labels_not_in_training"] == unseen


def test_a_failure_while_running_exits_1(tmp_path, capsys, monkeypatch):
    """Check that a failure while training exits 1 with a one-line message."""

    def diverge(*args, **kwargs):
        raise sklstm.TrainingDivergedError("loss became nan at epoch 3")

    monkeypatch.setattr(sklstm.LSTMRegressor, "fit", diverge)
    err = _fails(["forecast", "--out", str(tmp_path)] + QUICK, capsys, code=1)
    assert "failed: loss became nan" in err


def test_a_full_disk_under_out_exits_1_in_one_line(tmp_path):
    """Check that a real write failure exits 1 cleanly: in a child process whose files
    may not grow past ``limit`` bytes (EFBIG, what a full disk's ENOSPC is to the
    command: an OSError from the file system), exit 1, one line after the
    --no-progress phase lines, no traceback, and no
    half-written file or temporary left in --out."""
    import resource
    import signal

    limit = 20_000  # below the model file's size: its write fails

    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an error, not a signal
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "sklstm", "forecast", "--out", str(out), *QUICK],
        capture_output=True,
        text=True,
        preexec_fn=small_files,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()  # phase lines, then the failure
    failed = [line for line in lines if "failed" in line]
    assert failed == lines[-1:] and failed[0].startswith("sklstm forecast: failed:")
    assert "too large" in failed[0] or "space" in failed[0]
    for path in out.iterdir():  # what was written is whole
        assert not path.name.endswith(".tmp") and path.stat().st_size < limit
        if path.suffix == ".json":
            json.loads(path.read_text())


def test_backtest_a_csv_with_a_future_covariate(tmp_path, capsys):
    """Check that sklstm backtest scores the LSTM beside seasonal naive from
    every origin, reads future covariates, writes every forecast, and says
    what was wrong with a bad --refit or --start."""
    t = np.arange(120)
    promo = (t % 10 == 0).astype(float)
    sales = 50 + 5 * np.sin(2 * np.pi * t / 7) + 20 * promo
    csv = tmp_path / "sales.csv"
    pd.DataFrame({"sales": sales, "promo": promo}).to_csv(csv, index=False)
    out = tmp_path / "bt"
    args = ["backtest", str(csv), "--target", "sales", "--future-cols", "promo"]
    args += ["--window", "14", "--horizon", "3", "--season", "7", "--start", "90"]
    assert (
        cli.main(args + ["--refit", "2", "--stride", "5", "--out", str(out)] + QUICK)
        == 0
    )
    report = json.loads((out / "backtest.json").read_text())
    assert report["origins"] == 6 and report["fits"] == 3
    assert report["interval"] == "conformal"
    assert set(report["metrics"]) == {"model", "seasonal naive"}
    frame = pd.read_csv(out / "backtest.csv")
    assert len(frame) == 2 * 6 * 3
    np.testing.assert_array_equal(frame.actual[:3], sales[90:93])
    printed = capsys.readouterr().out
    assert "seasonal naive" in printed and "MASE" in printed
    with pytest.raises(SystemExit) as leaving:
        cli.main(args + ["--refit", "often"])
    assert leaving.value.code == 2 and "--refit" in capsys.readouterr().err
    assert cli.main(args[:-2] + ["--start", "5", "--out", str(out)] + QUICK) == 2
    assert "start=5 must lie between" in capsys.readouterr().err


def test_backtest_a_long_table_of_shops_with_one_global_model(tmp_path, capsys):
    """Check that --id-col backtests one global model over every series of a
    shuffled long table (sorted by --time-col within each series), with future
    and static covariates, and that a static column that changes is refused."""
    t = np.arange(40)
    shops = []
    for k, size in enumerate((1.0, 10.0, 100.0)):
        shops.append(
            pd.DataFrame(
                {
                    "day": pd.date_range("2024-01-01", periods=40).strftime("%Y-%m-%d"),
                    "shop": f"s{k}",
                    "sales": size * (2 + np.sin(2 * np.pi * t / 7)) + t / 10,
                    "promo": (t % 9 == 0).astype(float),
                    "size": size,
                }
            )
        )
    table = pd.concat(shops)
    csv = tmp_path / "shops.csv"
    table.sample(frac=1, random_state=0).to_csv(csv, index=False)
    args = ["backtest", str(csv), "--target", "sales", "--id-col", "shop"]
    args += ["--time-col", "day", "--future-cols", "promo", "--static-cols", "size"]
    args += ["--window", "7", "--horizon", "2", "--start", "-6", "--stride", "2"]
    out = tmp_path / "bt"
    assert cli.main(args + ["--out", str(out)] + QUICK) == 0
    report = json.loads((out / "backtest.json").read_text())
    assert report["origins"] == 3 * 3 and report["fits"] == 1
    assert report["season"] == 7 and report["id_col"] == "shop"
    frame = pd.read_csv(out / "backtest.csv")
    first = frame[(frame.model == "model") & (frame.shop == "s1")]
    np.testing.assert_allclose(first.actual[:2], shops[1].sales.to_numpy()[34:36])
    assert first.time.iloc[0] == "2024-02-04"
    capsys.readouterr()
    table.assign(size=np.arange(len(table))).to_csv(csv, index=False)
    assert cli.main(args + ["--out", str(out)] + QUICK) == 2
    assert (
        "static covariate 'size' changes within series 's0'" in capsys.readouterr().err
    )


def test_forecast_every_shop_with_future_covariates(tmp_path, capsys):
    """Check that forecast --id-col fits one global model, reads the future
    covariates of the steps ahead from the rows with an empty target, writes a
    forecast per shop and step, and refuses an empty target inside a series."""
    t = np.arange(50)
    frames = []
    for k, size in enumerate((1.0, 100.0)):
        sales = size * (2 + np.sin(2 * np.pi * t / 7))
        sales[46:] = np.nan  # the four days to forecast
        frames.append(
            pd.DataFrame(
                {
                    "day": pd.date_range("2024-03-01", periods=50).strftime("%Y-%m-%d"),
                    "shop": f"s{k}",
                    "sales": sales,
                    "promo": (t % 5 == 0).astype(float),
                }
            )
        )
    csv = tmp_path / "shops.csv"
    pd.concat(frames).to_csv(csv, index=False)
    out = tmp_path / "out"
    args = ["forecast", str(csv), "--target", "sales", "--id-col", "shop"]
    args += ["--time-col", "day", "--future-cols", "promo", "--window", "7"]
    args += ["--horizon", "4", "--folds", "2"]
    assert cli.main(args + ["--out", str(out)] + QUICK) == 0
    table = pd.read_csv(out / "forecast.csv")
    assert list(table.columns) == ["shop", "time", "step", "forecast"]
    assert len(table) == 8 and set(table.shop) == {"s0", "s1"}
    assert list(table.time[:4]) == [
        "2024-04-16",
        "2024-04-17",
        "2024-04-18",
        "2024-04-19",
    ]
    assert np.isfinite(table.forecast).all()
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["settings"]["backtest_origins_per_series"] == 8
    assert set(metrics["backtest"]) == {"model", "seasonal naive"}
    model = sklstm.load(out / "model.sklstm")
    assert model.n_outputs_ == 4
    capsys.readouterr()
    broken = pd.concat(frames)
    broken.iloc[10, 2] = np.nan
    broken.to_csv(csv, index=False)
    assert cli.main(args + ["--out", str(out)] + QUICK) == 2
    assert "is empty in a row followed by values" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(args + ["--trials", "2"])
    assert "--trials is not available with --id-col" in capsys.readouterr().err


def test_module_entry_point_help(capsys):
    """Check that python -m sklstm --help lists the commands and the exit codes,
    and that each command's help does too (those in-process: one interpreter
    start is enough to test the entry point)."""
    done = subprocess.run(
        [sys.executable, "-m", "sklstm", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0 and "Exit status" in done.stdout
    assert done.stderr == "" and "classify" in done.stdout
    for command, expected in (
        ("forecast", "--horizon"),
        ("classify", "--label"),
        ("backtest", "--refit"),
    ):
        with pytest.raises(SystemExit) as leaving:
            cli.main([command, "--help"])
        assert leaving.value.code == 0
        out, err = capsys.readouterr()
        assert "Exit status" in out and expected in out and err == ""


def test_classify_search_tunes_on_top_of_the_defaults(tmp_path, monkeypatch):
    """Check that every trial's model is the estimator's defaults with the tuned names
    on top."""
    from sklstm.cli import classify_job as _classify_job

    built = []
    make = _classify_job.make_pipeline

    def spy(params, *args, **kwargs):
        built.append(params)
        return make(params, *args, **kwargs)

    monkeypatch.setattr(_classify_job, "make_pipeline", spy)
    args = ["classify", "--dataset", "basic_motions", "--trials", "2"]
    assert cli.main(args + ["--hidden-size", "8", "--out", str(tmp_path)] + QUICK) == 0
    metrics = _files(tmp_path, "confusion.png")
    search = metrics["search"]
    assert search["trials_run"] == 2 and "CV accuracy" in search["objective"]
    assert len(built) == 2 * 5 + 1  # two trials of 5 folds, then the final fit
    from sklstm.cli.classify_job import TUNED

    for params in built[:-1]:
        assert set(params) == set(TUNED)  # nothing else moves off the defaults
        assert params["pooling"] in ("last", "mean", "max", "attention")
        assert params["scaling"] in ("channel", "sequence", "both")
    assert built[0]["hidden_size"] != 8  # tuned, not the --hidden-size base
    assert set(metrics["params"]) == set(TUNED)


def _run_trials(objective, tmp_path, n_trials):
    """The command's search loop over one float x in [0, 1], minimised."""
    from optuna.distributions import FloatDistribution

    from sklstm.cli.trials import run_trials

    return run_trials(
        objective,
        {"x": FloatDistribution(0, 1)},
        n_trials=n_trials,
        study_name="t",
        storage=str(tmp_path / "j.journal"),
        direction="minimize",
        seed=0,
        show_progress=False,
    )


def test_trials_record_divergence_and_pruning_and_go_on(tmp_path):
    """Check that a diverged trial is FAIL, a pruned one PRUNED, and the search goes on
    to N trials."""
    calls = []

    def objective(params, report):
        calls.append(params["x"])
        if len(calls) == 1:
            raise sklstm.TrainingDivergedError("nan")
        value = params["x"] + 10 * (len(calls) > 4)  # later trials are worse
        for step in range(3):
            report(step, value)  # the median pruner stops some of them
        return value

    best, summary = _run_trials(objective, tmp_path, n_trials=8)
    assert len(calls) == 8 and summary["fail"] == 1
    assert summary["pruned"] >= 1 and summary["complete"] + summary["pruned"] == 7
    assert best["x"] == min(calls[1:4])


def test_an_interrupted_trial_is_replaced_when_the_search_runs_again(tmp_path):
    """Check that a trial cut short by Ctrl-C counts as failed and is replaced when the
    search runs again."""
    calls = []

    def objective(params, report):
        calls.append(params["x"])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return params["x"]

    with pytest.raises(KeyboardInterrupt):
        _run_trials(objective, tmp_path, n_trials=3)
    _, summary = _run_trials(objective, tmp_path, n_trials=3)
    assert summary["trials_before_this_run"] == 1 and summary["trials_run"] == 2
    assert (summary["complete"], summary["fail"]) == (3, 1) and len(calls) == 4


def _table(path, frame):
    frame.to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize(
    "value, message",
    [
        (np.inf, r"holds inf in row 5; expected finite values below 1e\+300"),
        (1e308, r"holds 1e\+308 in row 5"),
    ],
)
def test_forecast_refuses_non_finite_or_huge_targets(tmp_path, capsys, value, message):
    """Check that bad numbers in the target are bad input (exit 2, one line), not a
    traceback."""
    y = np.arange(60.0) + 10
    y[5] = value
    path = _table(tmp_path / "t.csv", pd.DataFrame({"y": y}))
    err = _fails(
        ["forecast", path, "--target", "y", "--window", "6", "--horizon", "3"], capsys
    )
    assert re.search(message, err) and "Traceback" not in err


def test_forecast_refuses_an_empty_time_stamp(tmp_path, capsys):
    """Check that an empty date cell is named, instead of sorting it last and losing the
    season."""
    times = list(pd.date_range("2020-01-01", periods=60, freq="MS").astype(str))
    times[7] = None
    path = _table(tmp_path / "t.csv", pd.DataFrame({"m": times, "y": np.arange(60.0)}))
    err = _fails(["forecast", path, "--target", "y", "--time-col", "m"], capsys)
    assert "The time column 'm' of" in err and "is empty in row 7" in err


def test_bad_seed_and_storage_are_usage_errors(capsys, tmp_path):
    """Check that a negative seed and a storage that cannot be opened exit 2 before any
    work."""
    with pytest.raises(SystemExit) as exit_:  # argparse's usage error
        cli.main(["forecast", "--dataset", "airline", "--seed", "-1"])
    assert exit_.value.code == 2
    assert "expected an integer >= 0; got -1" in capsys.readouterr().err
    for storage, message in [
        ("nosuch://x", "Cannot open the Optuna storage 'nosuch://x'"),
        (str(tmp_path / "nope" / "x.journal"), "the folder"),
    ]:
        err = _fails(
            ["forecast", "--dataset", "airline", "--trials", "1", "--storage", storage],
            capsys,
        )
        assert message in err


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda w: w.iloc.__setitem__((3, 2), np.nan),
            "Sample 3 has an all-NaN time step 2",
        ),
        (
            lambda w: w.iloc.__setitem__((4, slice(0, 8)), np.nan),
            "Sample 4 has no valid",
        ),
        (
            lambda w: w.iloc.__setitem__((4, 3), np.inf),
            "infinity in sample 4 at time step 3",
        ),
        (lambda w: w.iloc.__setitem__((4, 3), 1e300), "magnitude 1e\\+300"),
    ],
)
def test_classify_refuses_bad_wide_rows(tmp_path, capsys, edit, message):
    """Check that the estimator's input checks run before training: exit 2, file
    named."""
    wide = pd.DataFrame(np.random.default_rng(0).normal(size=(20, 8)))
    edit(wide)
    wide["label"] = np.arange(20) % 2
    path = _table(tmp_path / "w.csv", wide)
    err = _fails(["classify", path, "--label", "label", "--out", str(tmp_path)], capsys)
    assert "w.csv: " in err and re.search(message, err)


def test_classify_refuses_an_empty_sequence_id(tmp_path, capsys):
    """Check that a NaN in a long table's id column names the row instead of a
    KeyError."""
    rng = np.random.default_rng(0)
    ids = np.repeat(np.arange(10), 5).astype(float)
    ids[7] = np.nan
    frame = pd.DataFrame(
        {"id": ids, "a": rng.normal(size=50), "label": np.repeat(np.arange(10) % 2, 5)}
    )
    path = _table(tmp_path / "l.csv", frame)
    err = _fails(["classify", path, "--label", "label", "--id-col", "id"], capsys)
    assert "The id column 'id' of" in err and "is empty in row 7" in err


def test_forecast_says_when_the_lstm_loses_to_a_baseline(tmp_path, capsys):
    """Check that a series the LSTM cannot learn in two epochs (a straight line, where
    the naive forecast is nearly exact) gets a plain warning in the output, the
    metrics and the report."""
    path = _table(tmp_path / "t.csv", pd.DataFrame({"y": np.arange(80.0) * 3 + 5}))
    args = ["forecast", path, "--target", "y", "--window", "6", "--horizon", "3"]
    assert (
        cli.main(args + ["--out", str(tmp_path), "--max-epochs", "1", "--no-progress"])
        == 0
    )
    metrics = _files(tmp_path, "forecast.png")
    assert metrics["warning"].startswith("Warning: the LSTM's CV MAE")
    assert "is not below naive" in capsys.readouterr().out
    assert "is not below naive" in (tmp_path / "report.md").read_text()


def test_classify_keeps_numeric_labels_numeric(tmp_path):
    """Check that numeric classes sort as numbers (2 before 10), not as strings."""
    rng = np.random.default_rng(0)
    wide = pd.DataFrame(rng.normal(size=(30, 8)))
    wide["label"] = np.array([1, 2, 10] * 10)
    path = _table(tmp_path / "w.csv", wide)
    args = [
        "classify",
        path,
        "--label",
        "label",
        "--folds",
        "2",
        "--out",
        str(tmp_path),
    ]
    assert cli.main(args + ["--max-epochs", "1", "--no-progress"]) == 0
    metrics = _files(tmp_path, "confusion.png")
    assert metrics["confusion_matrix"]["labels"] == [1, 2, 10]
    assert "| 10 |" in (tmp_path / "report.md").read_text()


def test_a_missing_label_shows_classifys_usage(tmp_path, capsys):
    """Check that without --label, the error shows classify's usage, not the top
    level's."""
    path = _table(tmp_path / "w.csv", pd.DataFrame({"a": [1.0], "label": [0]}))
    with pytest.raises(SystemExit):
        cli.main(["classify", path])
    err = capsys.readouterr().err
    assert err.startswith("usage: sklstm classify") and "--label COL" in err


def test_classify_reads_a_ucr_file_without_a_header(tmp_path, capsys):
    """Check that a UCR archive file (label first, no header row) fails with a message
    saying a header was expected and how to read it; --no-header reads it,
    and the summary calls its columns time steps of one channel."""
    rng = np.random.default_rng(0)
    rows = np.column_stack([np.array([1, 2] * 10), rng.normal(size=(20, 24))])
    path = tmp_path / "ucr.csv"
    np.savetxt(path, rows, delimiter=",", fmt="%.6g")
    err = _fails(["classify", str(path), "--label", "0"], capsys)
    assert "first row looks like data" in err and "--no-header --label 0" in err
    assert "its 25 columns are '1', " in err and len(err) < 600  # not all listed
    out = tmp_path / "out"
    args = ["classify", str(path), "--no-header", "--label", "0", "--folds", "2"]
    assert cli.main(args + ["--out", str(out), *QUICK]) == 0
    printed, err = capsys.readouterr()
    assert "one channel of 24 time steps" in printed and "classes [1, 2]" in printed
    # --no-progress: no bars, but a line per phase and step (on stderr)
    assert "cross-validating: 2 step(s)" in err and "cross-validating: 2/2 done" in err
    assert "fitting on the training set ..." in err
    assert "fitting on the training set: done" in err
    assert "one channel of 24 time steps" in (out / "report.md").read_text()
    metrics = _files(out, "confusion.png")
    assert metrics["confusion_matrix"]["labels"] == [1, 2]


def test_the_forecast_plot_zooms_on_the_forecasts_of_a_long_series():
    """Check that the forecast plot of a long series zooms on the CV origins and the
    forecast with some context (12 test points at the edge of 2,284 were a thin
    strip), and leaves a short series whole."""
    from types import SimpleNamespace

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sklstm.cli.forecast_job import _zoom

    plan = SimpleNamespace(horizon=12, season=12)
    for n, zoomed in ((2284, True), (144, False)):
        y = np.sin(np.arange(n) / 5) * 10 + np.arange(n) * 0.1
        folds = [
            {
                "origins": np.arange(o, o + 12),
                "forecast": [y[o + 1 : o + 13] + 1],
                "seasonal_forecast": [y[o + 1 : o + 13] - 1],
            }
            for o in (n - 48, n - 36, n - 24)
        ]
        fig, ax = plt.subplots()
        ax.plot(np.arange(n), y)
        start = _zoom(ax, y, plan, folds, y[-12:] + 2)
        plt.close(fig)
        if zoomed:
            assert start == n - 48 - 36
            assert ax.get_xlim() == (start - 0.5, n - 1 + 12 + 0.5)
            low, high = ax.get_ylim()
            assert low > y.min() and high < y.max() + 3  # the scale of the view
        else:
            assert start == 0


def test_threads_apply_while_the_job_runs_and_are_put_back(monkeypatch):
    """Check that --threads sets torch's threads for the job only (forecast
    and demo default to one, classify keeps torch's), read back from torch."""
    import torch

    seen = []
    monkeypatch.setattr(
        "sklstm.cli.classify_job.run",
        lambda *a, **k: seen.append(torch.get_num_threads()),
    )
    monkeypatch.setattr(
        "sklstm.cli.forecast_job.run",
        lambda *a, **k: seen.append(torch.get_num_threads()),
    )
    before = torch.get_num_threads()
    assert cli.main(["classify", "--dataset", "gunpoint", "--threads", "1"]) == 0
    assert cli.main(["classify", "--dataset", "gunpoint"]) == 0
    assert cli.main(["forecast"]) == 0
    assert cli.main(["demo", "--threads", "2"]) == 0
    assert seen == [1, before, 1, 2]
    assert torch.get_num_threads() == before
