"""Default search spaces for sklstm estimators, for Optuna and scikit-learn searches.

``search_space(estimator)`` returns the hyperparameters worth tuning first for
that estimator, as Optuna distributions for ``optuna_integration.OptunaSearchCV``
(the default), as short lists for ``GridSearchCV``, or as scipy distributions
for ``RandomizedSearchCV``. Optuna is imported only when its flavour is asked for.
"""

from __future__ import annotations

from scipy.stats import loguniform, randint, uniform

__all__ = ["search_space"]

FLAVOURS = ("optuna", "grid", "random")


def _step(estimator, prefix):
    """The sklstm estimator to tune and the parameter prefix that reaches it."""
    from sklearn.pipeline import Pipeline

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
    if estimator.embedding_dim is not None:
        space["embedding_dim"] = ("int", (8, 128, True), [16, 64], randint(8, 129))
    return space


def search_space(estimator, *, prefix="", flavour="optuna", include=None):
    """A sensible default search space for an sklstm estimator.

    Hidden size, layers, direction, dropout, pooling, learning rate and batch
    size, plus the options of the front end the estimator has: the kernel
    size with ``conv_channels`` set, the embedding size with ``embedding_dim``
    set. The ranges are wide enough for most series and narrow enough that a
    few dozen trials cover them.

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
        name for ``GridSearchCV`` (96 combinations, more with a front end:
        pass ``include`` to keep a grid small). ``"random"``: scipy
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
