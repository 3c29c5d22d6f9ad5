"""Quantiles and intervals from a fitted model or a ``Pipeline`` ending in one.

scikit-learn's ``Pipeline`` forwards ``predict`` but not other prediction
methods; these functions run the pipeline's transformers, then the final
estimator's ``predict_quantiles`` / ``predict_interval``.
"""

from __future__ import annotations

import numbers

from sklearn.pipeline import Pipeline


def check_coverage(coverage, *, optional=False):
    """``coverage`` as a float in (0, 1), or a ValueError saying what came
    (None passes through when ``optional``)."""
    if optional and coverage is None:
        return None
    if not (
        isinstance(coverage, numbers.Real)
        and not isinstance(coverage, bool)
        and 0 < coverage < 1
    ):
        allowed = "None or a number" if optional else "a number"
        raise ValueError(
            f"coverage must be {allowed} strictly between 0 and 1 (0.9 for a 90 % "
            f"interval); got {coverage!r}."
        )
    return float(coverage)


def predict_quantiles(model, X, quantiles=None):
    """Predicted quantiles of ``model``'s targets for ``X``.

    Parameters
    ----------
    model : LSTMRegressor or Pipeline
        A fitted ``LSTMRegressor(loss="pinball")``, or a fitted ``Pipeline``
        whose last step is one (its other steps transform ``X`` first).
    X : array-like
        Input of ``model.predict``.
    quantiles : float or sequence of float, default=None
        Levels to predict; None: the trained ones.

    Returns
    -------
    y : ndarray of shape (n_samples, n_quantiles) or \
(n_samples, n_outputs, n_quantiles)
        See :meth:`LSTMRegressor.predict_quantiles`.
    """
    final, Xt = _final_step(model, X, "predict_quantiles")
    return final.predict_quantiles(Xt, quantiles)


def predict_interval(model, X, coverage=0.9):
    """Predicted central intervals of ``model``'s targets for ``X``.

    Parameters
    ----------
    model : LSTMRegressor or Pipeline
        As for :func:`predict_quantiles`.
    X : array-like
        Input of ``model.predict``.
    coverage : float, default=0.9
        The share of targets the interval is meant to hold.

    Returns
    -------
    interval : ndarray of shape (n_samples, 2) or (n_samples, n_outputs, 2)
        Lower and upper ends; see :meth:`LSTMRegressor.predict_interval`.
    """
    final, Xt = _final_step(model, X, "predict_interval")
    return final.predict_interval(Xt, coverage)


def _final_step(model, X, method):
    """The estimator that predicts, and ``X`` as it receives it."""
    if isinstance(model, Pipeline):
        final = model.steps[-1][1]
        if hasattr(final, method):
            return final, model[:-1].transform(X)
        what = f"a Pipeline ending in {type(final).__name__}"
    elif hasattr(model, method):
        return model, X
    else:
        what = type(model).__name__
    raise TypeError(
        f"{method} needs an LSTMRegressor fitted with loss='pinball', or a "
        f"Pipeline ending in one; got {what}."
    )
