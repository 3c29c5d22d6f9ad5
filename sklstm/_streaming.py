"""One observation at a time: StreamingPredictor."""

from __future__ import annotations

import numbers

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ._engine import ready


class StreamingPredictor:
    """Forecast from a stream, one new observation at a time, in constant time.

    Instead of running the network over the whole history for every new value,
    the predictor carries the LSTM's state from step to step: each ``update``
    costs one step of the network whatever the length of the stream, and
    returns what ``model.predict`` returns for the whole stream so far (to
    float32 rounding). For online sensors and IoT feeds.

    Parameters
    ----------
    model : LSTMRegressor
        A fitted regressor whose network can run step by step: one direction,
        ``pooling="last"``, no convolutional front end or FCN branch,
        ``downsample=1``, and input scaling that does not read a whole window
        (``scaling=None`` or ``"channel"``). Anything else is refused with
        the reason.

    Attributes
    ----------
    n_seen_ : int
        Observations since the last ``reset``.

    Notes
    -----
    The state holds everything since the last ``reset``, so the forecast is
    ``predict`` over the whole stream, not over its last ``window`` steps: a
    model trained on windows of 24 steps reads a longer history than it was
    trained on. An LSTM's memory fades, and ``reset`` (say, daily) bounds it.
    The predictor pickles with its state, so a stream can be resumed
    elsewhere.

    Examples
    --------
    >>> import numpy as np
    >>> from sklstm import LSTMRegressor, StreamingPredictor, make_windows
    >>> series = np.sin(np.arange(200) / 5)
    >>> model = LSTMRegressor(scaling="channel", max_epochs=2, random_state=0)
    >>> model = model.fit(*make_windows(series, 20))
    >>> stream = StreamingPredictor(model)
    >>> for value in series[:30]:
    ...     forecast = stream.update(value)
    >>> bool(np.isclose(forecast, model.predict(series[None, :30, None])[0], atol=1e-5))
    True
    """

    def __init__(self, model):
        from ._regressor import LSTMRegressor

        if not isinstance(model, LSTMRegressor):
            raise TypeError(
                "StreamingPredictor takes a fitted LSTMRegressor (not a Pipeline: "
                f"its steps read whole tables); got {type(model).__name__}."
            )
        check_is_fitted(model)
        why = model.module_.not_streamable()
        if why is not None:
            raise ValueError(
                f"This model cannot predict one step at a time: {why}. Refit with "
                "bidirectional=False, pooling='last', conv_channels=(), "
                "fcn_channels=(), downsample=1 and scaling=None or 'channel' for a "
                "StreamingPredictor, or call predict on each window."
            )
        if model.frame_shape_ is not None:
            raise ValueError("StreamingPredictor does not take image sequences.")
        self.model = model
        self.reset()

    def reset(self):
        """Forget the stream: the next ``update`` is its first observation.

        Returns
        -------
        self : StreamingPredictor
            This predictor.
        """
        self._state = None
        self.n_seen_ = 0
        return self

    def update(self, x):
        """Take the next observation and return the forecast after it.

        Parameters
        ----------
        x : float or array-like of shape (n_channels,)
            The new time step: one number for a univariate model, else one
            value per channel seen in ``fit`` (a token id for a token model).

        Returns
        -------
        forecast : float or ndarray of shape (n_outputs,)
            What ``model.predict`` returns for the stream so far, for one
            sample: a number for a model fitted on a 1-D ``y``, else its
            outputs (the median of each for ``loss="pinball"``).
        """
        model = self.model
        step = self._check(x)
        device = model._device(training=False)
        module = ready(model.module_, device)
        with torch.inference_mode():
            out, state = module.step(
                torch.as_tensor(step[None], device=device), self._state
            )
        self._state = state
        self.n_seen_ += 1
        out = model._on_target_scale(out.double().cpu().numpy())
        if out.ndim == 3:  # quantiles: the median
            out = out[:, :, int(np.flatnonzero(model.quantiles_ == 0.5)[0])]
        return float(out[0, 0]) if model._y_ndim == 1 else out[0]

    def _check(self, x):
        model = self.model
        channels = model.n_channels_in_
        try:
            values = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                f"update expects a number or {channels} numbers (one per channel); "
                f"got {type(x).__name__} {x!r:.60}."
            ) from None
        values = values.reshape(-1) if values.ndim <= 1 else values
        if values.shape != (channels,):
            raise ValueError(
                f"update expects one time step of {channels} channel(s), the "
                f"channels seen in fit; got shape {np.shape(x)}."
            )
        if not np.isfinite(values).all():
            raise ValueError(
                f"update got {values.tolist()}: a stream has no padding, so every "
                "value must be finite (impute a missing reading first)."
            )
        limit = float(np.finfo(np.float32).max)
        if np.abs(values).max() > limit:
            raise ValueError(
                f"update got {values.tolist()}, beyond float32's range ({limit:.3g}) "
                "in which the network computes; scale the inputs first."
            )
        if model.vocab_size_ is not None:
            if (
                not all(
                    isinstance(v, numbers.Integral) or float(v).is_integer()
                    for v in values
                )
                or not 0 <= values[0] < model.vocab_size_
            ):
                raise ValueError(
                    f"update got token {values.tolist()}; expected an id in 0 … "
                    f"{model.vocab_size_ - 1} (vocab_size_)."
                )
        return values.astype(np.float32)
