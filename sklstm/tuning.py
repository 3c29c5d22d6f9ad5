"""Default search spaces for sklstm estimators, for Optuna and scikit-learn searches.

``search_space(estimator)`` returns the hyperparameters worth tuning first for
that estimator, as Optuna distributions for ``optuna_integration.OptunaSearchCV``
(the default), as short lists for ``GridSearchCV``, or as scipy distributions
for ``RandomizedSearchCV``. Optuna is imported only when its flavour is asked for.
"""

from __future__ import annotations

import numbers
import os
import time
import warnings
from pathlib import Path

from scipy.stats import loguniform, randint, uniform
from sklearn.base import is_regressor
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

__all__ = ["PartialFitPipeline", "create_study", "optuna_search", "search_space"]

DEFAULT_STORAGE = "sklstm-optuna.journal"

FLAVOURS = ("optuna", "grid", "random")


def _step(estimator, prefix):
    """The sklstm estimator to tune and the parameter prefix that reaches it."""
    from ._base import _BaseLSTM

    if prefix and not prefix.endswith("__"):
        prefix += "__"
    if isinstance(estimator, Pipeline):
        found = [(n, s) for n, s in estimator.steps if isinstance(s, _BaseLSTM)]
        if len(found) != 1:
            raise ValueError(
                f"search_space needs a Pipeline with exactly one sklstm estimator "
                f"step; this one has {len(found)} (steps: "
                f"{[n for n, _ in estimator.steps]})."
            )
        name, step = found[0]
        return step, prefix + name + "__"
    if not isinstance(estimator, _BaseLSTM):
        raise TypeError(
            "search_space takes an LSTMRegressor, an LSTMClassifier or a Pipeline "
            f"ending in one; got {type(estimator).__name__}."
        )
    return estimator, prefix


def _space(estimator):
    """``name: (optuna kind, args, grid values, scipy distribution)``."""
    space = {
        "hidden_size": ("int", (16, 256, True), [32, 64, 128], randint(16, 257)),
        "num_layers": ("int", (1, 3, False), [1, 2], randint(1, 4)),
        "bidirectional": ("cat", [False, True], [False, True], [False, True]),
        "dropout": ("float", (0.0, 0.5, False), [0.0, 0.2], uniform(0.0, 0.5)),
        "pooling": (
            "cat",
            ["last", "mean", "max", "attention"],
            ["last", "attention"],
            ["last", "mean", "max", "attention"],
        ),
        "lr": ("float", (1e-4, 1e-2, True), [1e-3, 3e-3], loguniform(1e-4, 1e-2)),
        "batch_size": ("cat", [16, 32, 64, 128], [32], [16, 32, 64, 128]),
    }
    if len(tuple(estimator.conv_channels)):  # options of a front end that is there
        space["conv_kernel_size"] = ("cat", [3, 5, 7], [3, 5], [3, 5, 7])
        space["conv_batch_norm"] = ("cat", [False, True], [False, True], [False, True])
    fcn = estimator.fcn_channels
    if estimator.embedding_dim is None if fcn == "auto" else len(tuple(fcn)):
        space["squeeze_excite"] = ("cat", [False, True], [False, True], [False, True])
    if estimator.embedding_dim is None:  # token ids are not scaled
        scalings = ["channel", "sequence", "both"]
        if is_regressor(estimator):
            scalings = ["window", "channel", "sequence"]
        space["scaling"] = ("cat", scalings, scalings, scalings)
    if estimator.embedding_dim is not None:
        space["embedding_dim"] = ("int", (8, 128, True), [16, 64], randint(8, 129))
    return space


def search_space(estimator, *, prefix="", flavour="optuna", include=None):
    """A sensible default search space for an sklstm estimator.

    Hidden size, layers, direction, dropout, pooling, learning rate and batch
    size, the input scaling (``scaling``; not for token ids),
    plus the options of the parts the estimator has: the kernel size and batch
    norm with ``conv_channels`` set, squeeze-and-excite with ``fcn_channels``
    set, the embedding size with ``embedding_dim`` set. The ranges are wide
    enough for most series and narrow enough that a few dozen trials cover
    them.

    Parameters
    ----------
    estimator : LSTMRegressor, LSTMClassifier or Pipeline
        What will be searched. For a ``Pipeline``, the space addresses its one
        sklstm step (``"lstm__hidden_size"``), found by type.
    prefix : str, default=""
        Put before every name, to reach an estimator nested deeper (e.g.
        ``"model__"`` for a pipeline inside a ``TransformedTargetRegressor``);
        a missing trailing ``"__"`` is added.
    flavour : {"optuna", "grid", "random"}, default="optuna"
        ``"optuna"``: Optuna distributions for
        ``optuna_integration.OptunaSearchCV``. ``"grid"``: a few values per
        name for ``GridSearchCV`` (288 combinations with the scaling, twice
        that with an FCN branch, more with a front end: pass ``include`` to
        keep a grid small). ``"random"``: scipy
        distributions and lists for ``RandomizedSearchCV``.
    include : list of str, default=None
        Only these names (without prefix). An unknown name is an error.

    Returns
    -------
    space : dict
        Parameter name to distribution or list of values.

    Examples
    --------
    >>> from sklstm import LSTMRegressor
    >>> from sklstm.tuning import search_space
    >>> sorted(search_space(LSTMRegressor(), flavour="grid", include=["lr"]).items())
    [('lr', [0.001, 0.003])]
    """
    if flavour not in FLAVOURS:
        raise ValueError(f"flavour must be one of {FLAVOURS}; got {flavour!r}.")
    step, prefix = _step(estimator, prefix)
    space = _space(step)
    if include is not None:
        unknown = sorted(set(include) - set(space))
        if unknown:
            raise ValueError(
                f"include names {unknown}, not in the default space for "
                f"{type(step).__name__}; choose from {sorted(space)}."
            )
        space = {k: v for k, v in space.items() if k in include}
    if flavour == "grid":
        return {prefix + k: list(v[2]) for k, v in space.items()}
    if flavour == "random":
        return {prefix + k: v[3] for k, v in space.items()}
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    out = {}
    for name, (kind, args, _, _) in space.items():
        if kind == "int":
            low, high, log = args
            out[prefix + name] = IntDistribution(low, high, log=log)
        elif kind == "float":
            low, high, log = args
            out[prefix + name] = FloatDistribution(low, high, log=log)
        else:
            out[prefix + name] = CategoricalDistribution(args)
    return out


class PartialFitPipeline(Pipeline):
    """A ``Pipeline`` that trains its last step one epoch at a time.

    scikit-learn's ``Pipeline`` has no ``partial_fit``, so searches that train
    epoch by epoch (``OptunaSearchCV(enable_pruning=True)``, which reports each
    epoch's score to a pruner) cannot use one. This subclass adds it: the
    first call fits the transformers on ``X`` and calls the last step's
    ``partial_fit`` on the result; later calls reuse the fitted transformers,
    so every epoch sees the same preparation of the same training fold. All
    else is ``Pipeline``'s.

    Parameters
    ----------
    steps : list of (str, estimator) tuples
        As for ``Pipeline``; the last step needs ``partial_fit`` (an sklstm
        estimator does).
    transform_input : list of str, default=None
        As for ``Pipeline`` (scikit-learn 1.6 and later): fit parameters that
        the earlier steps transform before they reach the last one.
    memory : str or object with the joblib.Memory interface, default=None
        As for ``Pipeline``.
    verbose : bool, default=False
        As for ``Pipeline``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklstm import LSTMRegressor, SequenceWindower
    >>> from sklstm.tuning import PartialFitPipeline
    >>> pipe = PartialFitPipeline([("scale", StandardScaler()),
    ...                            ("window", SequenceWindower(5)),
    ...                            ("lstm", LSTMRegressor(4, random_state=0))])
    >>> t = np.arange(100.0)[:, None]
    >>> pipe.partial_fit(t, np.sin(t[:, 0])).partial_fit(t, np.sin(t[:, 0]))[-1].n_iter_
    2
    """

    def partial_fit(self, X, y=None, **params):
        """Fit the transformers on the first call, then train the last step one epoch.

        Parameters
        ----------
        X : array-like
            Training data, as for ``fit``.
        y : array-like, default=None
            Targets.
        **params : dict
            Passed to the last step's ``partial_fit`` (e.g. ``classes``,
            ``sample_weight``).

        Returns
        -------
        self : PartialFitPipeline
            This pipeline.
        """
        transformers = [
            s for _, s in self.steps[:-1] if s is not None and s != "passthrough"
        ]
        first = not all(_is_fitted(s) for s in transformers)
        Xt = X
        for step in transformers:
            Xt = step.fit_transform(Xt, y) if first else step.transform(Xt)
        last = self._final_estimator
        if not hasattr(last, "partial_fit"):
            raise TypeError(
                f"The last step, {type(last).__name__}, has no partial_fit; "
                "PartialFitPipeline needs one that trains incrementally."
            )
        last.partial_fit(Xt, y, **params)
        return self


def _is_fitted(estimator) -> bool:
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return False
    return True


def _storage(storage):
    """An Optuna storage from a path (journal file), a URL, or a storage object."""
    import optuna

    if storage is None:
        storage = DEFAULT_STORAGE
    if not isinstance(storage, (str, os.PathLike)):
        return storage  # an Optuna storage object, taken as it is
    text = os.fspath(storage)
    if "://" in text:  # an RDB URL: sqlite:///file.db, postgresql://user@host/db
        for attempt in range(_RETRIES):
            try:
                return optuna.storages.RDBStorage(text)
            except Exception as error:  # sqlalchemy's and the drivers' many errors
                if attempt + 1 < _RETRIES and _raced(error):
                    time.sleep(0.2 * (attempt + 1))  # another worker is creating it
                    continue
                reason = str(error).rstrip(".")
                raise ValueError(
                    f"Cannot open the Optuna storage {text!r}: {reason}. Expected "
                    "a journal file path, sqlite:///path.db, or an RDB URL such as "
                    "postgresql://user:password@host/database."
                ) from None
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    folder = Path(text).resolve().parent
    if not folder.is_dir():
        raise ValueError(
            f"Cannot open the Optuna journal file {text!r}: the folder {str(folder)!r} "
            "does not exist."
        )
    return JournalStorage(JournalFileBackend(text))


_RETRIES = 6


def _raced(error) -> bool:
    """Whether ``error`` is another worker creating the same storage or study."""
    text = str(error).lower()
    return any(s in text for s in ("already exists", "unique", "duplicate", "locked"))


def create_study(
    study_name, *, storage=None, direction="maximize", sampler=None, pruner=None
):
    """Create an Optuna study, or load it if it exists; every worker may call it.

    The storage persists every finished trial, so a search killed mid-way and
    started again with the same ``storage`` and ``study_name`` goes on from
    there, and several processes (or machines, with an RDB) can run trials of
    one study at once. Pass the study to ``OptunaSearchCV(study=...)``.

    Two processes that both create a new study in one RDB at the same moment
    can collide (one gets a duplicate-study error). This function retries
    such a collision as a load, so workers may all call it at start.

    Parameters
    ----------
    study_name : str
        The study's name in the storage.
    storage : str, path-like, Optuna storage or None, default=None
        A file path: Optuna's journal file storage, which Optuna recommends
        for several processes on one machine (default
        ``"sklstm-optuna.journal"`` in the working folder). A URL:
        ``"sqlite:///study.db"`` (one process at a time) or an RDB such as
        ``"postgresql://user:password@host/db"`` (several machines).
    direction : {"maximize", "minimize"}, default="maximize"
        ``"maximize"`` for scikit-learn scores (``OptunaSearchCV``'s
        objective). An existing study with the other direction is an error.
    sampler, pruner : Optuna sampler and pruner, default=None
        Optuna's defaults (TPE, median pruner) when None.

    Returns
    -------
    study : optuna.Study
        The study, with the trials already in it.
    """
    import optuna

    if direction not in ("maximize", "minimize"):
        raise ValueError(
            f"direction must be 'maximize' or 'minimize'; got {direction!r}."
        )
    store = _storage(storage)
    kwargs = dict(study_name=study_name, storage=store, sampler=sampler, pruner=pruner)
    for attempt in range(_RETRIES):
        try:
            study = optuna.create_study(
                direction=direction, load_if_exists=True, **kwargs
            )
            break
        except Exception as error:
            if attempt + 1 == _RETRIES or not (
                isinstance(error, optuna.exceptions.DuplicatedStudyError)
                or _raced(error)
            ):
                raise
            time.sleep(0.2 * (attempt + 1))  # another worker created it: load it
    existing = study.direction.name.lower()
    if existing != direction:
        raise ValueError(
            f"The study {study_name!r} in this storage exists with direction "
            f"{existing!r}, but {direction!r} was asked; use another study_name."
        )
    return study


def optuna_search(
    estimator, param_distributions=None, *, cv=None, enable_pruning=False, **kwargs
):
    """An ``optuna_integration.OptunaSearchCV`` with sklstm's defaults and guards.

    - ``param_distributions`` defaults to ``search_space(estimator)``;
    - with ``enable_pruning=True`` a plain ``Pipeline`` becomes a
      :class:`PartialFitPipeline` (the same steps), so that epochs can be
      reported and trials pruned;
    - with ``enable_pruning=True`` and a splitter that shuffles without an int
      ``random_state``, a ``UserWarning``: OptunaSearchCV splits again on every
      epoch, so such a splitter moves samples a model has trained on into its
      validation fold (optuna-integration issue #317).

    Parameters
    ----------
    estimator : LSTMRegressor, LSTMClassifier or Pipeline
        What to tune.
    param_distributions : dict or None, default=None
        Optuna distributions; None for :func:`search_space`'s default.
    cv : int, splitter or None, default=None
        As for ``OptunaSearchCV`` (None: 5-fold).
    enable_pruning : bool, default=False
        Train epoch by epoch and let the study's pruner stop bad trials. Each
        trial then trains ``max_iter`` epochs (one ``partial_fit`` call each):
        unless given, the estimator's ``max_epochs``, or PRUNED_EPOCHS (100)
        when that is ``"auto"`` (optuna-integration's own default is 1,000).
    **kwargs : dict
        Any other ``OptunaSearchCV`` argument (``n_trials``, ``study``,
        ``max_iter``, ``scoring``, ``timeout``, ...).

    Returns
    -------
    search : optuna_integration.OptunaSearchCV
        Not yet fitted.
    """
    from optuna_integration import OptunaSearchCV

    if param_distributions is None:
        param_distributions = search_space(estimator)
    known = estimator.get_params(deep=True)
    unknown = sorted(set(param_distributions) - set(known))
    if unknown:
        import difflib

        hints = [
            f"{name!r} (closest: {difflib.get_close_matches(name, known, 2, 0.4)})"
            for name in unknown
        ]
        raise ValueError(
            f"The search space names parameters that {type(estimator).__name__} "
            f"does not have: {', '.join(hints)}. Names of a Pipeline's steps take "
            "the step's name and '__', e.g. 'lstm__hidden_size'."
        )
    if enable_pruning:
        if "max_iter" not in kwargs:
            epochs = _step(estimator, "")[0].max_epochs
            kwargs["max_iter"] = PRUNED_EPOCHS if epochs == "auto" else epochs
        if type(estimator) is Pipeline:
            estimator = PartialFitPipeline(
                estimator.steps, memory=estimator.memory, verbose=estimator.verbose
            )
        if _reshuffles(cv):
            warnings.warn(
                f"Pruning with {cv!r}: OptunaSearchCV splits again on every epoch, "
                "and this splitter shuffles without an int random_state, so each "
                "epoch validates on samples the model trained on in earlier epochs "
                "(optuna-integration issue #317). Use TimeSeriesSplit for series, "
                "or fix random_state to an int.",
                UserWarning,
                stacklevel=2,
            )
    return OptunaSearchCV(
        estimator, param_distributions, cv=cv, enable_pruning=enable_pruning, **kwargs
    )


# epochs of a pruned trial when the estimator's budget is "auto" (which depends
# on data that optuna_search does not see)
PRUNED_EPOCHS = 100


def _reshuffles(cv) -> bool:
    """Whether ``cv`` may give different folds each time it splits the same data."""
    shuffles = getattr(cv, "shuffle", False) or "Shuffle" in type(cv).__name__
    seed = getattr(cv, "random_state", None)
    return bool(shuffles) and not isinstance(seed, numbers.Integral)
