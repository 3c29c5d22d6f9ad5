"""Plots a person would rather look at than read; matplotlib is imported on use."""

from __future__ import annotations


def plot_history(estimator, *, ax=None):
    """Plot a fitted estimator's learning curves from ``history_``.

    The training loss per epoch, the validation loss when there is one (with
    ``early_stopping=True``), and a mark at the epoch whose weights were kept
    when early stopping restored the best one.

    Parameters
    ----------
    estimator : LSTMRegressor or LSTMClassifier
        A fitted estimator (or anything with a ``history_`` list of dicts
        holding ``epoch`` and ``train_loss``).
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import numpy as np
    >>> from sklstm import LSTMRegressor, plot_history
    >>> X = np.random.default_rng(0).normal(size=(40, 5, 1))
    >>> reg = LSTMRegressor(4, max_epochs=3, random_state=0).fit(X, X[:, -1, 0])
    >>> plot_history(reg).get_xlabel()
    'epoch'
    """
    history = getattr(estimator, "history_", None)
    if not history:
        state = "an empty one" if history == [] else "none"
        raise ValueError(
            "plot_history needs a fitted estimator with a history_; "
            f"{type(estimator).__name__} has {state}."
        )
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7, 4))
    epochs = [h["epoch"] for h in history]
    ax.plot(epochs, [h["train_loss"] for h in history], label="training loss")
    valid = [(h["epoch"], h["valid_loss"]) for h in history if "valid_loss" in h]
    if valid:
        ax.plot(*zip(*valid, strict=True), label="validation loss")
        best_epoch, best = min(valid, key=lambda v: v[1])
        ax.scatter([best_epoch], [best], color="black", zorder=3, label="kept")
    ax.set(xlabel="epoch", ylabel="loss", title=type(estimator).__name__)
    ax.legend()
    return ax


def plot_attention(estimator, X, *, ax=None, max_sequences=30):
    """Plot attention weights as a heatmap: one row per sequence, one column per step.

    The weights come from ``estimator.attention_weights(X)`` (an estimator
    fitted with ``pooling="attention"``, alone or as the last step of a
    ``Pipeline``, whose earlier steps then transform ``X`` first). Padding
    steps have weight 0 and show as the lightest colour.

    Parameters
    ----------
    estimator : LSTMRegressor, LSTMClassifier or Pipeline
        Fitted, with ``pooling="attention"``.
    X : array-like or list of arrays
        Sequences, as for ``predict``.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    max_sequences : int, default=30
        Show at most this many sequences (the first ones).

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on, with a colour bar.

    Examples
    --------
    >>> import numpy as np
    >>> from sklstm import LSTMClassifier, plot_attention
    >>> X = np.random.default_rng(0).normal(size=(20, 6))
    >>> clf = LSTMClassifier(4, pooling="attention", max_epochs=2, random_state=0)
    >>> plot_attention(clf.fit(X, X[:, 2] > 0), X).get_xlabel()
    'time step'
    """
    from sklearn.pipeline import Pipeline

    if isinstance(estimator, Pipeline):
        X = estimator[:-1].transform(X)
        estimator = estimator[-1]
    if getattr(estimator, "pooling", None) != "attention":
        raise ValueError(
            "plot_attention needs an estimator fitted with pooling='attention'; "
            f"got {type(estimator).__name__} with "
            f"pooling={getattr(estimator, 'pooling', None)!r}."
        )
    X = X[:max_sequences]  # a list or an array: the first sequences
    weights = estimator.attention_weights(X)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(8, 0.25 * len(weights) + 1.5))
    image = ax.imshow(weights, aspect="auto", cmap="viridis", interpolation="nearest")
    ax.figure.colorbar(image, ax=ax, label="attention weight")
    ax.set(xlabel="time step", ylabel="sequence", title="attention weights")
    return ax
