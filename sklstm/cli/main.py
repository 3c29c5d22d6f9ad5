"""The ``sklstm`` command: ``forecast``, ``classify`` and ``demo``.

Exit status: 0 when the job finished and wrote its files; 2 when what was
asked is wrong (an option, a file, a column, a value: the message says which
and what was expected); 1 when the job failed while running (training
diverged, a file could not be written); 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import sys

EPILOG = (
    "Exit status: 0 done; 2 wrong option, file, column or value (the message "
    "says which); 1 failed while running (e.g. training diverged, a file could "
    "not be written); 130 interrupted."
)


def _at_least(text, lowest):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer; got {text!r}") from None
    if value < lowest:
        raise argparse.ArgumentTypeError(
            f"expected an integer >= {lowest}; got {value}"
        )
    return value


def _positive(text):
    return _at_least(text, 1)


def _epochs(text):
    return "auto" if text.strip() == "auto" else _positive(text)


def _level(text):
    """A number strictly between 0 and 1 (a quantile level or a coverage)."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 < value < 1:
        raise argparse.ArgumentTypeError(
            f"expected a number strictly between 0 and 1; got {text!r}"
        )
    return value


def _origin(text):
    """A row count, or a negative one counting from the end; not 0."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value == 0:
        raise argparse.ArgumentTypeError(
            f"expected a row number (negative: from the end), not 0; got {text!r}"
        )
    return value


def _non_negative(text):
    return _at_least(text, 0)


def _common(
    p, *, max_epochs, trials=0, out_default="sklstm-output", threads=None, search=True
):
    if search:
        _search_options(p, trials)
    _run_options(p, max_epochs, out_default, threads)


def _search_options(p, trials):
    p.add_argument(
        "--trials",
        type=_non_negative,
        default=trials,
        metavar="N",
        help="tune with Optuna until the study holds N complete or pruned trials "
        f"(default {trials}{': no search' if not trials else ''}); a stopped "
        "search resumes from --storage",
    )
    p.add_argument(
        "--storage",
        metavar="URL",
        help="Optuna storage: a journal file path (default "
        "DIR/optuna.journal), sqlite:///file.db or postgresql://...",
    )


def _run_options(p, max_epochs, out_default, threads):
    p.add_argument(
        "--max-epochs",
        type=_epochs,
        default=max_epochs,
        metavar="N",
        help=f"most epochs per fit, or 'auto': a budget that adapts to the data "
        f"(default {max_epochs})",
    )
    p.add_argument(
        "--seed", type=_non_negative, default=0, help="random seed (default 0)"
    )
    p.add_argument(
        "--out",
        default=out_default,
        metavar="DIR",
        help=f"folder for the files written (default {out_default})",
    )
    default = "all cores" if threads is None else str(threads)
    p.add_argument(
        "--threads",
        type=_positive,
        default=threads,
        metavar="N",
        help=f"torch's CPU threads while the command runs (default {default}; "
        "on a machine busy with other work, 1 is fastest)",
    )
    p.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bars: one plain line per phase and step instead "
        "(both go to stderr)",
    )


def _forecast_parser(sub):
    p = sub.add_parser(
        "forecast",
        help="cross-validate, tune and fit an LSTM forecaster on a series",
        description="Forecast a series: TimeSeriesSplit cross-validation against "
        "naive and seasonal-naive baselines (MAE, RMSE, MAPE, MASE), an optional "
        "Optuna search, a refit on the whole series and a forecast of the next "
        "--horizon steps. Writes metrics.json, forecast.png, model.sklstm and "
        "report.md into --out.",
        epilog=EPILOG,
    )
    p.add_argument("csv", nargs="?", help="CSV file with one row per time step")
    p.add_argument("--target", metavar="COL", help="column to forecast")
    p.add_argument(
        "--time-col",
        metavar="COL",
        help="time column (dates or numbers); rows are sorted by it and "
        "its frequency sets the season (12 for months, 7 for days, ...)",
    )
    p.add_argument(
        "--dataset",
        choices=["airline", "sunspots"],
        help="a bundled dataset instead of a CSV (default airline)",
    )
    p.add_argument(
        "--window",
        type=_positive,
        metavar="W",
        help="past steps the LSTM reads (default 24, or the dataset's)",
    )
    p.add_argument(
        "--horizon",
        type=_positive,
        metavar="H",
        help="steps to forecast (default: the season, or 1)",
    )
    p.add_argument(
        "--season",
        type=_positive,
        metavar="S",
        help="steps per season for seasonal naive and MASE (default: "
        "from --time-col's frequency, else 1)",
    )
    p.add_argument(
        "--difference",
        choices=["auto", "none", "first", "seasonal"],
        help="model differences at lag 1 or the season (auto: for a seasonal "
        "series, the values or seasonal differences, whichever has the lower CV "
        "error)",
    )
    p.add_argument(
        "--log",
        choices=["auto", "yes", "no"],
        default="auto",
        help="model logs (auto: when every value is positive and the "
        "series is differenced)",
    )
    p.add_argument("--folds", type=_positive, default=3, help="CV folds (default 3)")
    p.add_argument(
        "--test-size",
        type=_positive,
        metavar="N",
        help="forecast origins per fold (default: the horizon)",
    )
    p.add_argument(
        "--quantiles",
        type=_level,
        nargs="+",
        metavar="Q",
        help="also forecast these quantiles (e.g. 0.1 0.5 0.9), from the "
        "cross-validated errors step by step; written to forecast.csv and "
        "metrics.json, drawn as a fan chart",
    )
    p.add_argument(
        "--coverage",
        type=_level,
        nargs="+",
        metavar="C",
        help="also forecast central intervals of these coverages (e.g. 0.8 0.95): "
        "the quantiles (1-C)/2 and (1+C)/2",
    )
    _covariate_options(p, "forecasts every series with one global model")
    _common(p, max_epochs="auto", threads=1)
    return p


def _covariate_options(p, global_model):
    p.add_argument(
        "--future-cols",
        nargs="+",
        default=[],
        metavar="COL",
        help="future covariates: columns known for the forecast steps too "
        "(calendar, planned prices); for forecast, the rows after each series' "
        "last value hold them, with the target empty",
    )
    p.add_argument(
        "--static-cols",
        nargs="+",
        default=[],
        metavar="COL",
        help="static covariates: one value per series (size, region)",
    )
    p.add_argument(
        "--id-col",
        metavar="COL",
        help="long table of many series: the column naming each row's series; "
        f"{global_model}",
    )


def _backtest_parser(sub):
    p = sub.add_parser(
        "backtest",
        help="forecast a series from many origins and score the forecasts",
        description="Backtest an LSTMRegressor (at its defaults) on a series: from "
        "every origin (--start, --stride) forecast the next --horizon values, "
        "fitted on the rows before it (--refit), with intervals; prints MAE, RMSE, "
        "MAPE, MASE, interval coverage, width and pinball loss beside the "
        "seasonal-naive forecast, and writes backtest.csv (every forecast) and "
        "backtest.json into --out.",
        epilog=EPILOG,
    )
    p.add_argument("csv", nargs="?", help="CSV file with one row per time step")
    p.add_argument("--target", metavar="COL", help="column to forecast")
    p.add_argument("--time-col", metavar="COL", help="time column (as for forecast)")
    p.add_argument(
        "--dataset",
        choices=["airline", "sunspots"],
        help="a bundled dataset instead of a CSV (default airline)",
    )
    _covariate_options(p, "backtests one global model over all of them")
    p.add_argument("--window", type=_positive, metavar="W", help="default 24")
    p.add_argument(
        "--horizon", type=_positive, metavar="H", help="default: the season, or 1"
    )
    p.add_argument(
        "--season", type=_positive, metavar="S", help="for seasonal naive and MASE"
    )
    p.add_argument(
        "--start",
        type=_origin,
        metavar="N",
        help="first origin: rows of each series seen before it, or a negative "
        "number counting from the end (default: -4 x horizon)",
    )
    p.add_argument(
        "--stride", type=_positive, default=1, metavar="K", help="rows between origins"
    )
    p.add_argument(
        "--refit",
        default="no",
        metavar="yes|no|K",
        help="fit before every origin (yes), once before the first (no, the "
        "default: one batched predict), or every K origins",
    )
    p.add_argument(
        "--coverage",
        type=_level,
        default=0.8,
        metavar="C",
        help="interval coverage (default 0.8)",
    )
    p.add_argument(
        "--interval",
        choices=["conformal", "quantile"],
        default="conformal",
        help="conformal (from the earlier origins' errors, the default) or "
        "quantile (the LSTM trained with the pinball loss)",
    )
    _common(p, max_epochs="auto", threads=1, search=False)
    return p


def _classify_parser(sub):
    p = sub.add_parser(
        "classify",
        help="train and evaluate an LSTM sequence classifier on a table",
        description="Classify sequences from a wide table (one row per sequence, "
        "one column per step) or a long one (one row per step, with --id-col). "
        "Reports accuracy, macro F1 and a confusion matrix on TEST, or by "
        "stratified cross-validation on TRAIN when no TEST is given. Writes "
        "metrics.json, confusion.png, model.sklstm and report.md into --out.",
        epilog=EPILOG,
    )
    p.add_argument("train", nargs="?", help="CSV of training sequences")
    p.add_argument("test", nargs="?", help="CSV of test sequences (optional)")
    p.add_argument("--label", metavar="COL", help="column holding the class")
    p.add_argument(
        "--no-header",
        action="store_true",
        help="the CSVs have no header row: columns are numbered 0, 1, ... (a "
        "UCR archive file: --no-header --label 0)",
    )
    p.add_argument(
        "--id-col",
        metavar="COL",
        help="long table: column telling the sequences apart (default "
        "'series_id' when there is one)",
    )
    p.add_argument(
        "--time-col",
        metavar="COL",
        help="long table: column ordering the steps of a sequence "
        "(default 'timestep' when there is one, else row order)",
    )
    p.add_argument(
        "--dataset",
        choices=["gunpoint", "japanese_vowels", "basic_motions"],
        help="a bundled dataset (official train/test split) instead of CSVs",
    )
    p.add_argument(
        "--folds",
        type=_positive,
        default=5,
        help="CV folds when there is no TEST (default 5)",
    )
    p.add_argument(
        "--hidden-size",
        type=_positive,
        default=None,
        metavar="N",
        help="LSTM units (default: LSTMClassifier's)",
    )
    p.set_defaults(subparser=p)  # its own usage in its errors
    _common(p, max_epochs="auto")
    return p


def _parser():
    parser = argparse.ArgumentParser(
        prog="sklstm",
        description="LSTM estimators in scikit-learn's idiom: forecast a series or "
        "classify sequences from a CSV file, or run the demo.",
        epilog=EPILOG,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _forecast_parser(sub)
    _backtest_parser(sub)
    _classify_parser(sub)
    demo = sub.add_parser(
        "demo",
        help="forecast the bundled airline series with a small search (what "
        "`make demo` runs)",
        description="sklstm forecast --dataset airline --trials 4: a year ahead, "
        "cross-validated against naive and seasonal naive.",
        epilog=EPILOG,
    )
    _common(demo, max_epochs="auto", trials=4, threads=1)
    return parser


def _check_storage(url):
    """Open ``--storage`` before any work: a bad URL or folder is bad input."""
    from ..tuning import _storage
    from .tables import InputError

    try:
        _storage(url)
    except ValueError as e:
        raise InputError(str(e)) from None


@contextlib.contextmanager
def _threads(n):
    """torch's intra-op threads set to ``n`` while the job runs, then put back
    (``main`` is also called in-process, by tests and notebooks).

    Small networks gain nothing from a second thread on a quiet machine and
    lose most when another process is busy: ``sklstm demo --max-epochs 60``
    on 2 cores took 18.6 s with torch's two threads and 18.6-21.2 s with one
    when quiet, 53-58 s against 17-18 s with one busy process beside it.
    """
    if n is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def main(argv=None) -> int:
    """Run the ``sklstm`` command; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    from .._history import TrainingDivergedError
    from .tables import InputError

    try:
        if getattr(args, "storage", None) and args.trials:
            _check_storage(args.storage)
        with _threads(args.threads):
            if args.command == "classify":
                _classify(parser, args)
            elif args.command == "backtest":
                _backtest(parser, args)
            else:
                _forecast(parser, args)
    except InputError as e:
        print(f"sklstm {args.command}: error: {e}", file=sys.stderr)
        return 2
    except (TrainingDivergedError, OSError) as e:
        print(f"sklstm {args.command}: failed: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"sklstm {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


def _forecast(parser, args):
    from .forecast_job import run

    if args.command == "demo":
        run(
            dataset="airline",
            trials=args.trials,
            storage=args.storage,
            max_epochs=args.max_epochs,
            seed=args.seed,
            out=args.out,
            show_progress=not args.no_progress,
        )
        return
    if args.csv is not None and args.dataset is not None:
        parser.error("give a CSV file or --dataset, not both")
    if args.csv is None and args.target is not None and args.dataset is None:
        parser.error(f"--target {args.target} needs a CSV file to read it from")
    if args.id_col or args.future_cols or args.static_cols:
        _global_forecast(parser, args)
        return
    run(
        args.csv,
        target=args.target,
        time_col=args.time_col,
        dataset=args.dataset or "airline",
        window=args.window,
        horizon=args.horizon,
        season=args.season,
        difference=args.difference,
        log=args.log,
        folds=args.folds,
        test_size=args.test_size,
        trials=args.trials,
        storage=args.storage,
        max_epochs=args.max_epochs,
        seed=args.seed,
        out=args.out,
        show_progress=not args.no_progress,
        quantiles=_levels(args),
    )


def _global_forecast(parser, args):
    from .global_job import run

    if args.csv is None:
        parser.error("--id-col, --future-cols and --static-cols need a CSV file")
    for flag, given in (
        ("--trials", args.trials),
        ("--difference", args.difference),
        ("--quantiles", args.quantiles),
        ("--coverage", args.coverage),
    ):
        if given:
            parser.error(
                f"{flag} is not available with --id-col, --future-cols or "
                "--static-cols (they forecast the values as they are with one model, "
                "backtested over the last origins)"
            )
    run(
        args.csv,
        target=args.target,
        id_col=args.id_col,
        time_col=args.time_col,
        future_cols=args.future_cols,
        static_cols=args.static_cols,
        window=args.window,
        horizon=args.horizon,
        season=args.season,
        test_size=args.test_size,
        folds=args.folds,
        max_epochs=args.max_epochs,
        seed=args.seed,
        out=args.out,
    )


def _backtest(parser, args):
    from .backtest_job import run

    if args.csv is not None and args.dataset is not None:
        parser.error("give a CSV file or --dataset, not both")
    if args.refit not in ("yes", "no") and not args.refit.isdigit():
        parser.error(
            f"--refit: expected yes, no or a number of origins; got {args.refit!r}"
        )
    if args.refit.isdigit() and int(args.refit) < 1:
        parser.error("--refit: a number of origins must be 1 or more")
    run(
        args.csv,
        target=args.target,
        time_col=args.time_col,
        dataset=args.dataset or "airline",
        future_cols=args.future_cols,
        static_cols=args.static_cols,
        id_col=args.id_col,
        window=args.window,
        horizon=args.horizon,
        season=args.season,
        start=args.start,
        stride=args.stride,
        refit=args.refit,
        coverage=args.coverage,
        interval=args.interval,
        max_epochs=args.max_epochs,
        seed=args.seed,
        out=args.out,
    )


def _levels(args):
    """The quantile levels that --quantiles and --coverage ask for."""
    levels = list(args.quantiles or [])
    for c in args.coverage or []:
        levels += [round((1 - c) / 2, 12), round((1 + c) / 2, 12)]
    return sorted(set(levels)) or None


def _classify(parser, args):
    from .classify_job import run

    if args.train is None and args.dataset is None:
        parser.error("give a TRAIN CSV file or --dataset")
    if args.train is not None and args.dataset is not None:
        parser.error("give CSV files or --dataset, not both")
    if args.train is not None and args.label is None:
        args.subparser.error("name the class column with --label COL")
    run(
        args.train,
        args.test,
        label=args.label,
        header=not args.no_header,
        id_col=args.id_col,
        time_col=args.time_col,
        dataset=args.dataset,
        folds=args.folds,
        hidden_size=args.hidden_size,
        trials=args.trials,
        storage=args.storage,
        max_epochs=args.max_epochs,
        seed=args.seed,
        out=args.out,
        show_progress=not args.no_progress,
    )


if __name__ == "__main__":
    sys.exit(main())
