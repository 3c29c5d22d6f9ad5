"""SequenceScaler: a 2-D scikit-learn scaler applied per channel to sequences."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_array
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import check_is_fitted, validate_data

from ._sequences import pad_ragged, to_3d
from ._transformer import SequenceOutputMixin


class SequenceScaler(
    SequenceOutputMixin, TransformerMixin, BaseEstimator, auto_wrap_output_keys=None
):
    """Scale each channel of sequence data with any 2-D scikit-learn scaler,
    or each sequence on its own.

    The scaler is fitted on every valid time step of every sample, one column
    per channel; padding (all-NaN steps) is ignored and stays NaN. So an
    already-3-D panel is scaled inside a ``Pipeline``, on the training fold
    only — the 3-D scaling scikit-learn itself leaves out of scope.

    With ``per_sequence=True`` every sequence's channels are then brought to
    zero mean and unit variance over that sequence's own valid steps: the
    z-normalisation of the UCR/UEA archives. It makes the level and amplitude
    of each sequence invisible, which helps where they vary for reasons that
    say nothing of the class (sensor offsets, gain, units) and hurts where
    they are the signal (appliance power, counts). The estimators offer the
    same through ``scaling="sequence"``.

    Parameters
    ----------
    scaler : scikit-learn transformer or None, default=None
        Any transformer of 2-D ``(n_rows, n_channels)`` data; None means
        ``StandardScaler()``. It is cloned in ``fit``.
    per_sequence : bool, default=False
        After the scaler, standardise each sequence and channel over its own
        valid steps (a constant sequence becomes zeros).

    Attributes
    ----------
    scaler_ : transformer
        The fitted clone.
    n_channels_in_ : int
        Channels per time step.
    n_features_in_ : int
        Time steps of the (longest) sequence in ``fit``, as the estimators
        count them; ``transform`` takes sequences of any length.
    feature_names_in_ : ndarray of str
        The columns of a DataFrame given to ``fit`` (2-D, one channel).

    Examples
    --------
    >>> import numpy as np
    >>> from sklstm import SequenceScaler
    >>> X = np.array([[[1.0, 10.0], [3.0, 30.0]], [[np.nan, np.nan], [5.0, 50.0]]])
    >>> Xs = SequenceScaler().fit_transform(X)
    >>> Xs[:, :, 0]
    array([[-1.22474487,  0.        ],
           [        nan,  1.22474487]])
    """

    _parameter_constraints: dict = {
        "scaler": [HasMethods(["fit", "transform"]), None],
        "per_sequence": ["boolean"],
    }

    def __init__(self, scaler=None, per_sequence=False):
        self.scaler = scaler
        self.per_sequence = per_sequence

    def fit(self, X, y=None):
        """Fit the scaler on all valid time steps.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or \
(n_samples, n_timesteps, n_channels), or list of arrays
            Sequences, NaN-padded or ragged.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted scaler.
        """
        self._validate_params()
        original = X
        X, _ = self._as_3d(X)
        # n_features_in_ (the time steps) and feature_names_in_ as scikit-learn
        # keeps them; transform takes other lengths, the channels must match
        names = original if hasattr(original, "columns") else X
        validate_data(self, names, reset=True, skip_check_array=True)
        self.n_channels_in_ = X.shape[2]
        rows = X.reshape(-1, X.shape[2])
        valid = ~np.isnan(rows).all(axis=1)
        self.scaler_ = clone(StandardScaler() if self.scaler is None else self.scaler)
        self.scaler_.fit(rows[valid])
        for name, value in vars(self.scaler_).items():
            if name.endswith("_") and isinstance(value, np.ndarray):
                value = np.asarray(value, dtype=float).reshape(-1)
                if value.size == X.shape[2] and not np.isfinite(value).all():
                    _overflow(int(np.flatnonzero(~np.isfinite(value))[0]), X)
        return self

    def transform(self, X):
        """Scale every valid time step; padding stays NaN.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or \
(n_samples, n_timesteps, n_channels), or list of arrays
            Sequences with the channels seen in ``fit``.

        Returns
        -------
        X_scaled : ndarray or list of ndarray
            The same shape as ``X`` (a list for a ragged list).
        """
        check_is_fitted(self)
        X, restore = self._as_3d(X)
        if X.shape[2] != self.n_channels_in_:
            raise ValueError(
                f"X has {X.shape[2]} channels per time step, but SequenceScaler "
                f"was fitted with {self.n_channels_in_}."
            )
        rows = X.reshape(-1, X.shape[2])
        valid = ~np.isnan(rows).all(axis=1)
        out = np.full(rows.shape, np.nan)
        out[valid] = self.scaler_.transform(rows[valid])
        out = out.reshape(X.shape)
        if self.per_sequence:
            out = _standardise_each(out)
        _check_finite(out, X)
        return restore(out)

    @staticmethod
    def _as_3d(X):
        """3-D float array plus a function that gives back the input's form."""
        shapes = [np.shape(s) for s in X] if isinstance(X, (list, tuple)) else None
        X = check_array(
            pad_ragged(X), allow_nd=True, ensure_all_finite="allow-nan", dtype=float
        )
        two_d = X.ndim == 2
        X = to_3d(X)

        def restore(out):
            if shapes is not None:  # a list in, a list of the same shapes out
                return [
                    o[: sh[0]].reshape(sh) for o, sh in zip(out, shapes, strict=True)
                ]
            return out[:, :, 0] if two_d else out

        return X, restore


def _check_finite(out, X):
    """Refuse scaled values that overflowed where the input was finite (a
    channel whose statistics leave float64's range, such as a value of 1e300)."""
    bad = np.isnan(out) & ~np.isnan(X)
    bad |= np.isinf(out)
    if bad.any():
        _overflow(int(np.argwhere(bad)[0][2]), X)


def _overflow(channel, X):
    """The error for a channel whose statistics overflow."""
    big = float(np.nanmax(np.abs(X[:, :, channel])))
    raise ValueError(
        f"Scaling channel {channel} overflowed: it holds a value of magnitude "
        f"{big:.3g}, whose square leaves float64's range. Expected magnitudes "
        "below about 1e150; divide that channel by a power of ten first."
    )


def _standardise_each(X: np.ndarray) -> np.ndarray:
    """Each sequence and channel of NaN-padded ``(n, t, c)`` to zero mean and
    unit variance over its valid steps (a spread of 0 counts as 1)."""
    mean = np.nanmean(X, axis=1, keepdims=True)
    spread = np.nanstd(X, axis=1, keepdims=True)
    return (X - mean) / np.where(spread > 0, spread, 1.0)
