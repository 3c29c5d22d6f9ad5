"""The ``sklstm classify`` job: read sequences, evaluate, refit, write the files.

A wide table has one row per sequence and one column per time step (NaN at
the end of a shorter sequence is padding). A long table has one row per time
step, an id column telling the sequences apart, an optional time column
ordering their steps, and one column per channel. Either holds the label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .output import (
    markdown_table,
    out_folder,
    phase,
    progress,
    pyplot,
    save_figure,
    write_json,
    write_text,
)
from .tables import InputError, check_column, listed, read_table
from .trials import search_line, search_markdown

DATASETS = {
    "gunpoint": "load_gunpoint",
    "japanese_vowels": "load_japanese_vowels",
    "basic_motions": "load_basic_motions",
}
# The command trains LSTMClassifier at its own defaults, chosen on the
# development panel (docs/architectures.md): the command is as strong as the
# library, and a model it saves is what LSTMClassifier() would have fitted.
DEFAULT_PARAMS: dict = {}
TUNED = ["hidden_size", "pooling", "lr", "scaling"]


@dataclass
class Sequences:
    X: object  # 2-D, 3-D array or list of arrays
    y: np.ndarray
    source: str
    layout: str  # "wide", "long" or "bundled"
    channels: list  # a wide table's step columns; else the channels

    def shape(self) -> str:
        """What the model sees in each sequence, in words."""
        if self.layout == "wide":
            lengths = np.sum(~np.isnan(self.X), axis=1)  # NaN only pads
            shortest, longest = int(lengths.min()), int(lengths.max())
            if shortest == longest:
                return f"one channel of {longest} time steps"
            return f"one channel of {shortest}-{longest} time steps"
        return f"{len(self.channels)} channel(s)"


def load(
    path, *, label, header=True, id_col=None, time_col=None, like=None
) -> Sequences:
    """Read one CSV table of sequences; ``like`` is the training set to match.

    Without a header row (``header=False``) the columns are numbered 0, 1, ...
    and ``label``, ``id_col`` and ``time_col`` may name them by number.
    """
    table = read_table(path, header=header)
    if not header:
        label, id_col, time_col = (_number(c) for c in (label, id_col, time_col))
    source = str(path)
    labels = check_column(table, label, "--label", source, no_header_option=header)
    if labels.isna().any():
        row = int(np.flatnonzero(labels.isna().to_numpy())[0])
        raise InputError(
            f"The label column {label!r} of {source} is empty in row {row}."
        )
    if id_col is None and "series_id" in table.columns and label != "series_id":
        id_col = "series_id"
    if id_col is None:
        data = _wide(table, labels, source, like)
    else:
        data = _long(table, labels, id_col, time_col, source, like)
    from .._classifier import LSTMClassifier

    try:  # the estimator's own checks, before any training
        LSTMClassifier()._check_X(data.X, reset=True)
    except (ValueError, TypeError) as e:
        raise InputError(f"{source}: {e}") from None
    return data


def _number(column):
    """A column given on the command line as a number when it is one."""
    text = str(column)
    return int(text) if column is not None and text.isdigit() else column


def _numeric(table, columns, source):
    import pandas as pd

    bad = [c for c in columns if not pd.api.types.is_numeric_dtype(table[c])]
    if bad:
        example = table[bad[0]].dropna().iloc[0] if table[bad[0]].notna().any() else ""
        raise InputError(
            f"The feature column(s) {[str(c) for c in bad]} of {source} are not "
            f"numeric (e.g. {example!r}); every column but the label"
            " (and the id and time columns of a long table) must be a number."
        )
    if not columns:
        raise InputError(f"{source} has no feature columns besides the label.")
    return table[columns].to_numpy(np.float64)


def _match(channels, like, source, steps=False):
    """Refuse feature columns other than the training table's. With
    ``steps`` (a wide table's step columns) the table may end sooner, or go
    on where the columns are numbered steps (``t0, t1, ...``; ``1, 2, ...``
    without a header) that continue the training table's: a wide table is
    as wide as its longest sequence, and the model reads any length."""
    if like is None or channels == like.channels:
        return
    shorter = min(len(channels), len(like.channels))
    if steps and channels[:shorter] == like.channels[:shorter]:
        if len(channels) < len(like.channels) or _numbered(channels):
            return
    also = (
        " (in a wide table, the same step columns up to the narrower table's "
        "last, or more steps numbered on from the training table's: its "
        "sequences may be longer or shorter)"
        if steps
        else ""
    )
    raise InputError(
        f"{source} has the {len(channels)} columns {listed(channels)}, but the "
        f"training table has the {len(like.channels)} columns "
        f"{listed(like.channels)}; expected the same feature columns in both"
        f"{also}."
    )


def _numbered(columns) -> bool:
    """Whether the names run on in steps of one under a common prefix: ``t0,
    t1, ...``, ``1, 2, ...``."""
    found = [re.fullmatch(r"(.*?)(\d+)", c) for c in columns]
    if not all(found) or len({m.group(1) for m in found}) != 1:
        return False
    numbers = [int(m.group(2)) for m in found]
    return numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def _wide(table, labels, source, like):
    columns = [c for c in table.columns if c != labels.name]
    X = _numeric(table, columns, source)
    _match([str(c) for c in columns], like, source, steps=True)
    return Sequences(
        X, _label_values(labels), source, "wide", [str(c) for c in columns]
    )


def _long(table, labels, id_col, time_col, source, like):
    check_column(table, id_col, "--id-col", source)
    if table[id_col].isna().any():
        row = int(np.flatnonzero(table[id_col].isna().to_numpy())[0])
        raise InputError(
            f"The id column {id_col!r} of {source} is empty in row {row}; expected "
            "a sequence id in every row."
        )
    if time_col is None and "timestep" in table.columns:
        time_col = "timestep"
    if time_col is not None:
        check_column(table, time_col, "--time-col", source)
        table = table.sort_values([id_col, time_col], kind="stable")
    skip = {labels.name, id_col, time_col}
    columns = [c for c in table.columns if c not in skip]
    values = _numeric(table, columns, source)
    _match([str(c) for c in columns], like, source)
    ids = table[id_col].to_numpy()
    label_of = table[labels.name].astype(str)
    per_id = label_of.groupby(table[id_col], sort=False).nunique()
    if (per_id > 1).any():
        first = per_id.index[per_id > 1][0]
        first = first.item() if hasattr(first, "item") else first
        raise InputError(
            f"The sequence {first!r} of {source} has more than "
            f"one label in {labels.name!r}; expected one label per sequence."
        )
    order = {k: i for i, k in enumerate(dict.fromkeys(ids))}
    codes = np.array([order[k] for k in ids])
    sort = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[sort])) + 1
    X = np.split(values[sort], bounds)
    y = _label_values(table[labels.name])[sort][np.r_[0, bounds]]
    if len({len(x) for x in X}) == 1:
        X = np.stack(X)
    return Sequences(X, y, source, "long", [str(c) for c in columns])


def _label_values(labels):
    """Class labels as numbers when the column holds numbers (so that 2 sorts
    before 10), else as strings."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(labels) and not pd.api.types.is_bool_dtype(labels):
        values = labels.to_numpy()
        if np.all(values == np.round(values)):
            return values.astype(np.int64)
        return values.astype(np.float64)
    return labels.astype(str).to_numpy()


def bundled(name):
    from .. import datasets

    loader = getattr(datasets, DATASETS[name])
    out = []
    for split in ("train", "test"):
        X, y = loader(split=split)
        channels = [
            f"dim_{i}" for i in range(np.shape(X[0])[-1] if np.ndim(X[0]) > 1 else 1)
        ]
        out.append(
            Sequences(
                X,
                np.asarray(y),
                f"the bundled {name} dataset ({split})",
                "bundled",
                channels,
            )
        )
    return out


def _columns_words(data):
    """The report's line on the columns: steps of a wide table, else channels."""
    names = data["channels"]
    shown = f"{names[:8]}{' …' if len(names) > 8 else ''}"
    if data["layout"] == "wide":
        return f"one channel of {len(names)} time steps (columns {shown})"
    return f"channels {shown}"


def _plain_labels(labels):
    """The sorted distinct labels as plain Python values (numbers stay
    numbers, for JSON, the order and the messages: 1, not np.int64(1))."""
    return [c.item() if hasattr(c, "item") else c for c in sorted(set(labels))]


def _unseen(test_labels, train_labels) -> list:
    """The labels of ``test_labels`` that ``train_labels`` lacks, sorted."""
    known = set(_plain_labels(train_labels))
    return [c for c in _plain_labels(test_labels) if c not in known]


def make_pipeline(params, max_epochs, seed):
    from sklearn.pipeline import Pipeline

    from .._classifier import LSTMClassifier

    # no scaler in front: the estimator scales its input itself
    lstm = LSTMClassifier(max_epochs=max_epochs, random_state=seed)
    lstm.set_params(**params)
    return Pipeline([("lstm", lstm)])


def _take(X, index):
    return [X[i] for i in index] if isinstance(X, list) else X[index]


def cross_validate(data, params, *, folds, max_epochs, seed, report=None, bar=None):
    """Out-of-fold predictions from stratified K-fold CV."""
    from sklearn.model_selection import StratifiedKFold

    predicted = np.empty(len(data.y), dtype=object)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    correct = []
    for k, (train, test) in enumerate(splitter.split(np.zeros(len(data.y)), data.y)):
        pipe = make_pipeline(params, max_epochs, seed)
        pipe.fit(_take(data.X, train), data.y[train])
        predicted[test] = pipe.predict(_take(data.X, test))
        correct.append(float(np.mean(predicted[test] == data.y[test])))
        if bar is not None:
            bar.update()
        if report is not None:
            report(k, float(np.mean(correct)))
    return predicted.astype(data.y.dtype)


def _check_sizes(train, folds, evaluate_by_cv):
    classes, counts = np.unique(train.y, return_counts=True)
    if len(classes) < 2:
        raise InputError(
            f"{train.source} holds one class ({classes[0]!r}); a classifier needs "
            "at least two."
        )
    if evaluate_by_cv and counts.min() < folds:
        raise InputError(
            f"Too few sequences for {folds}-fold cross-validation: the class "
            f"{classes[np.argmin(counts)]!r} of {train.source} has {counts.min()}. "
            "Use --folds with a smaller number, or give a TEST file."
        )


def run(
    train=None,
    test=None,
    *,
    label=None,
    header=True,
    id_col=None,
    time_col=None,
    dataset=None,
    folds=5,
    hidden_size=None,
    trials=0,
    storage=None,
    max_epochs="auto",
    seed=0,
    out="sklstm-output",
    show_progress=True,
    echo=print,
):
    """Run the classification job and write its files into ``out``; returns metrics."""
    if dataset is not None:
        train_set, test_set = bundled(dataset)
    else:
        names = dict(label=label, header=header, id_col=id_col, time_col=time_col)
        train_set = load(train, **names)
        test_set = None
        if test is not None:
            test_set = load(test, **names, like=train_set)
    _check_sizes(train_set, folds, test_set is None)
    out = out_folder(out)
    n = len(train_set.y)
    echo(
        f"{n} training sequences from {train_set.source} ({train_set.layout} table, "
        f"{train_set.shape()}), classes {_plain_labels(train_set.y)}."
    )
    unseen = [] if test_set is None else _unseen(test_set.y, train_set.y)
    if unseen:
        echo(
            f"Note: {test_set.source} holds the label(s) {unseen}, which no "
            "training sequence has: the model cannot predict them, so those "
            "sequences count as errors."
        )
    fit_args = dict(max_epochs=max_epochs, seed=seed)
    params, study = dict(DEFAULT_PARAMS), None
    if hidden_size is not None:
        params["hidden_size"] = hidden_size
    if trials:
        params, study = _tune(
            train_set, params, folds, fit_args, trials, storage, out, show_progress
        )
        echo(search_line(study))
    if test_set is None:
        bar = progress(total=folds, desc="cross-validating", enabled=show_progress)
        predicted = cross_validate(train_set, params, folds=folds, bar=bar, **fit_args)
        bar.close()
        actual, evaluation = (
            train_set.y,
            f"stratified {folds}-fold CV on the training set",
        )
    if show_progress:
        echo("Fitting on the training set:")
    pipe = make_pipeline(params, **fit_args).set_params(
        lstm__verbose=int(show_progress)
    )
    with phase("fitting on the training set", enabled=not show_progress):
        pipe.fit(train_set.X, train_set.y).set_params(lstm__verbose=0)
    if test_set is not None:
        predicted, actual = pipe.predict(test_set.X), test_set.y
        evaluation = f"the test set ({test_set.source}, {len(actual)} sequences)"
    metrics = _metrics(
        train_set, evaluation, actual, predicted, params, study, fit_args
    )
    echo(
        f"On {evaluation}: accuracy {metrics['accuracy']:.4f}, "
        f"macro F1 {metrics['f1_macro']:.4f}"
    )
    from .._persistence import save

    model = save(pipe, out / "model.sklstm")
    write_json(out / "metrics.json", metrics)
    plot = _plot(out / "confusion.png", metrics, pipe)
    write_text(out / "report.md", _report(metrics, model.name, plot.name))
    echo(f"Wrote metrics.json, confusion.png, {model.name} and report.md to {out}")
    return metrics


def _tune(data, base, folds, fit_args, trials, storage, out, show_progress):
    """Tune ``TUNED`` on top of ``base``; returns ``(params, search summary)``."""
    import hashlib
    import json

    from .._classifier import LSTMClassifier
    from ..tuning import search_space
    from .trials import run_trials

    space = search_space(LSTMClassifier(), include=TUNED)

    def objective(params, report):
        params = dict(base, **params)
        predicted = cross_validate(data, params, folds=folds, report=report, **fit_args)
        return float(np.mean(predicted == data.y))

    setting = [folds, fit_args, data.channels, sorted(base.items())]
    h = hashlib.sha256(json.dumps(setting).encode())
    for x in data.X if isinstance(data.X, list) else [data.X]:
        h.update(np.ascontiguousarray(x).tobytes())
    h.update("\0".join(map(str, data.y)).encode())
    storage = storage or str(out / "optuna.journal")
    best, study = run_trials(
        objective,
        space,
        n_trials=trials,
        study_name=f"sklstm-classify-{h.hexdigest()[:10]}",
        storage=storage,
        direction="maximize",
        seed=fit_args["seed"],
        show_progress=show_progress,
    )
    study["objective"] = f"stratified {folds}-fold CV accuracy on the training set"
    return dict(base, **(best or {})), study


def _metrics(train, evaluation, actual, predicted, params, study, fit_args):
    from sklearn.metrics import (
        accuracy_score,
        classification_report,
        confusion_matrix,
        f1_score,
    )

    classes = _plain_labels(np.concatenate([actual, predicted]))
    return {
        "data": {
            "train": train.source,
            "layout": train.layout,
            "n_train": len(train.y),
            "channels": train.channels,
        },
        "settings": dict(fit_args),
        "params": params,
        "search": study,
        "evaluated_on": evaluation,
        "labels_not_in_training": _unseen(actual, train.y),
        "accuracy": float(accuracy_score(actual, predicted)),
        "f1_macro": float(f1_score(actual, predicted, average="macro")),
        "per_class": classification_report(
            actual, predicted, labels=classes, output_dict=True, zero_division=0
        ),
        "confusion_matrix": {
            "labels": classes,
            "rows_actual_columns_predicted": confusion_matrix(
                actual, predicted, labels=classes
            ).tolist(),
        },
    }


def _plot(path, metrics, pipe):
    from sklearn.metrics import ConfusionMatrixDisplay

    from .._plots import plot_history

    plt = pyplot()
    cm = metrics["confusion_matrix"]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.8))
    ConfusionMatrixDisplay(
        np.array(cm["rows_actual_columns_predicted"]), display_labels=cm["labels"]
    ).plot(ax=ax, colorbar=False, cmap="Blues")
    ax.set_title(
        f"accuracy {metrics['accuracy']:.3f}, macro F1 {metrics['f1_macro']:.3f}"
    )
    plot_history(pipe[-1], ax=ax2)
    ax2.set_title("training loss of the final fit")
    return save_figure(fig, path)


def _report(metrics, model_name, plot_name):
    per = metrics["per_class"]
    rows = [
        [
            c,
            f"{per[str(c)]['precision']:.3f}",
            f"{per[str(c)]['recall']:.3f}",
            f"{per[str(c)]['f1-score']:.3f}",
            int(per[str(c)]["support"]),
        ]
        for c in metrics["confusion_matrix"]["labels"]
    ]
    tuned = search_markdown(metrics["search"])
    d = metrics["data"]
    return f"""# Sequence classification

Data: {d["train"]} ({d["layout"]} table), {d["n_train"]} training sequences,
{_columns_words(d)}.

Model: `LSTMClassifier` at its defaults, with {metrics["params"]}
and {metrics["settings"]}.

## Evaluation on {metrics["evaluated_on"]}

Accuracy **{metrics["accuracy"]:.4f}**, macro F1 **{metrics["f1_macro"]:.4f}**.

{markdown_table(["class", "precision", "recall", "F1", "support"], rows)}

## Search

{tuned}

## Files

- `{plot_name}`: the confusion matrix and the final fit's learning curve.
- `{model_name}`: the fitted pipeline, trained on the whole training set;
  `sklstm.load("{model_name}")` reads it back (no pickle).
- `metrics.json`: every figure here and the confusion matrix.
"""
