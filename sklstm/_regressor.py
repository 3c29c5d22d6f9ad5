"""LSTMRegressor."""

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils import check_array
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ._base import _BaseLSTM
from ._intervals import check_coverage
from ._losses import PinballLoss
from ._recipe import usable_scale

LOSSES = {"mse": nn.MSELoss, "mae": nn.L1Loss, "huber": nn.HuberLoss}
# the quantiles loss="pinball" trains by default: the 50, 80, 90 and 95 %
# central intervals and the median
QUANTILES = (0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975)

# the largest mean distance (in standard deviations) between a target and a
# channel's last value for the channel to count as the target's own past
LINK_ERROR = 0.5
MAX_TARGET = 1e300  # larger targets would overflow their statistics
SHARE_PROBES = 1000  # targets looked up in the table
SHARE_SLICE = 8192  # table rows per lookup


def _numeric(y) -> bool:
    """Whether an object- or text-typed ``y`` converts to float."""
    try:
        np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return True


def _levels(value, name: str) -> np.ndarray:
    """``value`` (a level or a sequence of them) as a 1-D float array of
    levels strictly between 0 and 1, or a ValueError naming ``name``."""
    try:
        levels = np.atleast_1d(np.asarray(value, dtype=np.float64))
    except (TypeError, ValueError):
        levels = None
    if (
        levels is None
        or levels.ndim != 1
        or not len(levels)
        or not np.all((levels > 0) & (levels < 1))
    ):
        raise ValueError(
            f"{name} must be levels strictly between 0 and 1, e.g. (0.1, 0.5, "
            f"0.9); got {value!r}."
        )
    return levels


def _describe(levels) -> str:
    if levels is None:
        return "a point loss (no quantiles)"
    return f"quantiles {levels.tolist()}"


class LSTMRegressor(RegressorMixin, _BaseLSTM):
    """LSTM network for sequence regression and forecasting.

    One or more LSTM layers read each sequence, a pooling step turns their
    outputs into one vector and a linear layer maps it to the targets. Training
    runs through skorch; the estimator follows scikit-learn's API, so it fits in
    a ``Pipeline``, ``cross_val_score`` and every search.

    Targets are standardised inside the estimator (mean 0, variance 1 per output)
    and predictions are mapped back, so ``y`` on its natural scale (hundreds of
    airline passengers, say) trains as well as a scaled one. The inputs are
    scaled inside the network too (``scaling``): by default each window is
    read relative to its own level and spread, and so are the targets whose
    past it holds (per-window normalisation, as RevIN), which keeps a series
    with a trend or a level shift inside what the network has seen.

    Parameters
    ----------
    hidden_size : int, default=64
        Units in each LSTM layer (per direction).
    num_layers : int, default=1
        Stacked LSTM layers.
    bidirectional : bool, default=False
        Read each sequence forwards and backwards and join both readings.
    cell : {"lstm", "gru"}, default="lstm"
        The recurrent layers: LSTM, or GRU (three gates instead of four and no
        cell state: about a quarter fewer weights and a little faster; GRU-FCN
        with ``fcn_channels``).
    dropout : float, default=0.0
        Dropout between LSTM layers and before the output layer.
    pooling : {"last", "mean", "max", "attention"}, default="last"
        How the per-step outputs become one vector: the output at the last valid
        step, the mean or maximum over valid steps, or ``"attention"``: additive
        attention over the valid steps, whose weights ``attention_weights``
        returns.
    conv_channels : sequence of int, default=()
        A convolutional front end, one layer per entry (its output channels).
        On ``(n, t, c)`` input: Conv1d + ReLU layers over time. On image
        sequences ``(n, t, height, width[, channels])``: a per-frame Conv2d +
        ReLU + max-pooling encoder ending in ``frame_pooling``, whose
        features feed the LSTM. Empty: the LSTM reads the input directly.
    conv_kernel_size : int, default=3
        Kernel size of every convolution.
    conv_batch_norm : bool, default=False
        Batch normalisation after every convolution, before its ReLU (the FCN
        of Wang et al., 2017). Its statistics come from the valid steps (or
        frames) of each batch, and at predict time from their running averages,
        so padding still never changes a prediction. It steadies the training
        of deeper or wider front ends; on GunPoint it lifts test accuracy from
        about 0.95 to 0.98 (see the architectures page). Batch statistics make
        ``sample_weight=2`` differ slightly from repeating a sample.
    frame_pooling : {"average", "flatten"}, default="average"
        On image sequences, how each frame's last feature map becomes the
        vector the LSTM reads: ``"average"``, global average pooling (one value
        per channel, wherever in the frame a feature is); ``"flatten"``, the
        whole map (Keras's ``Flatten``: keeps where things are, which tasks
        about position or motion need; larger). Unused on other input.
    embedding_dim : int or None, default=None
        ``X`` holds integer token ids (0 = padding at either end of a sequence;
        a 2-D array or a list of 1-D sequences); an embedding layer of this
        size feeds the LSTM. Ids unseen in ``fit`` (above ``vocab_size_ - 1``)
        are refused at predict time with a ``ValueError``.
    init : {"pytorch", "keras"}, default="pytorch"
        Initial weights. ``"pytorch"``: torch's defaults (uniform in
        ``±1/sqrt(hidden_size)``). ``"keras"``: as Keras initialises its layers
        (Glorot-uniform input weights, orthogonal recurrent weights, forget-gate
        bias 1, zero biases, Glorot-uniform dense and convolution kernels). On
        the seed's smooth forecasting tasks the Keras scheme reaches a lower
        loss; on GunPoint it did worse (measured, docs/architectures.md).
    fcn_channels : sequence of int or "auto", default=()
        A fully convolutional branch beside the LSTM: one Conv1d + BatchNorm +
        ReLU block per entry (its output channels), then the average over the
        valid steps; its features join the LSTM's before the output layer
        (LSTM-FCN, Karim et al., 2018). ``"auto"``: ``(64, 128, 64)`` on
        numeric sequences, none on token ids and image sequences. ``()``:
        the LSTM alone.
    fcn_kernel_sizes : sequence of int, default=(8, 5, 3)
        Kernel size of each block of the convolutional branch.
    squeeze_excite : bool, default=False
        Squeeze-and-excite blocks after every block of the convolutional
        branch but the last (MLSTM-FCN).
    downsample : int or "auto", default="auto"
        The LSTM reads each run of this many steps averaged into one (the
        convolutional branch at its own ``fcn_downsample``). ``"auto"``: with
        a convolutional branch, the smallest factor that keeps the LSTM within
        128 steps of the longest training sequence; without one, 1.
    fcn_downsample : int or "auto", default="auto"
        The convolutional branch reads each run of this many steps averaged
        into one (padding-aware). ``"auto"``: the smallest factor that keeps
        the branch within 512 steps of the longest training sequence, so a
        series of thousands of steps costs a few times less per epoch and
        gets that many more epochs of the budget; 1 for shorter data.
    scaling : {"window", "channel", "sequence", "both"} or None, \
default="window"
        Input scaling inside the network, learned in ``fit``. ``"window"``:
        each output is predicted relative to the last value and the spread of
        its own series' past in the window, which the network reads
        normalised the same way (per-window normalisation as in RevIN, Kim et
        al., 2022, anchored on the last value as in NLinear, Zeng et al.,
        2023), other channels standardised over the training data. The
        channel that holds an output's past is found in ``fit``
        (``module_.target_channels``): the only channel of univariate windows,
        else the one whose last value lies nearest that output, when it lies
        within half a standard deviation on average; when none does,
        ``"window"`` is ``"channel"``. ``"channel"``: each channel standardised
        with its mean and spread over the training data. ``"sequence"``: then
        each sequence and channel over its own steps, levels dropped;
        ``"both"``: each channel both ways. None: the input as it is.
    loss : {"mse", "mae", "huber", "pinball"}, default="mse"
        Training loss, computed on the standardised targets. ``"pinball"``:
        the quantile (pinball) loss of every level in ``quantiles``, trained
        jointly in one network; ``predict`` then returns the median, and
        ``predict_quantiles`` and ``predict_interval`` the other levels.
    quantiles : sequence of float, default=(0.025, 0.05, 0.1, 0.25, 0.5, \
0.75, 0.9, 0.95, 0.975)
        The quantile levels, each strictly between 0 and 1, that
        ``loss="pinball"`` trains (0.5 is always added: it is what ``predict``
        returns). Unused with the other losses.
    max_epochs : int or "auto", default="auto"
        Most passes over the training data. ``"auto"``: a budget that adapts to
        the data: about 1,500 optimiser steps, but fewer epochs the more time
        steps an epoch holds; data between 100 x 100 and 1,000 x 500 steps may
        take as many epochs as the largest's time allows, at most 125. Between
        10 and 1,000 epochs. The stopping rule (``n_iter_no_change``)
        usually ends training sooner.
    batch_size : int, default=32
        Samples per gradient step.
    lr : float, default=1e-3
        Learning rate.
    lr_schedule : {"plateau"} or None, default="plateau"
        ``"plateau"``: halve the learning rate when the monitored loss has not
        improved by ``tol`` for ``n_iter_no_change // 2`` epochs, down to
        ``lr / 100`` (skorch's ``LRScheduler`` with torch's
        ``ReduceLROnPlateau``; it carries over ``partial_fit`` calls).
        ``history_`` records each epoch's rate. None: a constant rate.
    optimizer : {"adam", "adamw", "sgd", "rmsprop"}, default="adam"
        Optimizer from ``torch.optim``.
    weight_decay : float, default=0.0
        L2 penalty passed to the optimizer.
    clip_grad_norm : float or None, default=None
        Clip the gradient norm to this value at every step.
    shuffle : bool, default=True
        Shuffle the training samples every epoch.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the samples (by default the last:
        the most recent, for windowed series), stop when the validation loss
        stops improving and restore the weights of the best epoch.
    validation_fraction : float, default=0.1
        Share of samples held out with ``early_stopping``.
    validation_split : {"tail", "shuffle"}, default="tail"
        Which samples ``early_stopping`` holds out: the last ones, or a random
        share (seeded by ``random_state``) for samples in no time order.
    n_iter_no_change : int, default=30
        Epochs without an improvement of more than ``tol`` before training
        stops (on the validation loss with ``early_stopping``, else on the
        training loss).
    tol : float, default=1e-4
        Smallest improvement of the monitored loss that counts.
    device : str, default="auto"
        Torch device; ``"auto"`` uses CUDA when present, else the CPU.
    precision : {"float32", "bfloat16"}, default="float32"
        Arithmetic of the forward pass. ``"bfloat16"`` runs it under
        ``torch.autocast`` (mixed precision: weights, gradients and the optimizer
        stay float32): faster on GPUs with bfloat16 units (A100, H100), slower on
        most CPUs, and slightly less accurate.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and dropout. An int gives
        identical predictions on every fit.
    verbose : int, default=0
        1 shows a progress bar over epochs with the losses.
    warm_start : bool, default=False
        Continue training the fitted network on the next ``fit``.
    callbacks : list of skorch callbacks or (name, callback) pairs, default=None
        skorch's own callbacks (``skorch.callbacks``: ``LRScheduler``,
        ``Checkpoint``, ``TensorBoard``, ``MlflowLogger``, ``WandbLogger``, or
        your own ``Callback``), run in every ``fit`` and ``partial_fit``
        beside sklstm's, on every epoch (the last included). They are used
        as given, as skorch uses them. ``sklstm.save`` does not store them.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network.
    history_ : list of dict
        One dict per epoch: ``epoch``, ``train_loss``, ``valid_loss`` (with
        early stopping), ``lr`` (with ``lr_schedule``: the rate the epoch
        trained with), ``dur`` (seconds); the last one has ``stopped`` when
        training ended early (``"converged"``, ``"interrupted"``, ``"diverged"``).
    loss_curve_ : list of float
        Training loss per epoch.
    best_loss_ : float
        Lowest monitored loss (validation loss with early stopping).
    n_iter_ : int
        Epochs trained.
    n_features_in_ : int
        Time steps per sequence seen in ``fit`` (scikit-learn's feature axis).
    feature_names_in_ : ndarray of str
        Column names when ``X`` was a DataFrame.
    n_channels_in_ : int
        Channels per time step (of each frame, for image sequences).
    frame_shape_ : tuple of int or None
        ``(height, width, channels)`` of image-sequence input, else None.
    vocab_size_ : int or None
        With ``embedding_dim``: the largest token id seen in ``fit`` plus one.
    n_outputs_ : int
        Number of targets.
    y_mean_, y_scale_ : ndarray of shape (n_outputs,)
        Target standardisation learned in ``fit``.
    quantiles_ : ndarray of float or None
        With ``loss="pinball"``: the quantile levels the network predicts,
        in increasing order, 0.5 among them; else None.

    See Also
    --------
    LSTMClassifier : The same network for sequence classification.

    Examples
    --------
    >>> import numpy as np
    >>> from sklstm import LSTMRegressor
    >>> X = np.sin(np.linspace(0, 20, 300)).reshape(30, 10)
    >>> y = X[:, -1] * 2
    >>> reg = LSTMRegressor(hidden_size=8, max_epochs=5, random_state=0).fit(X, y)
    >>> reg.predict(X[:2]).shape
    (2,)
    """

    _parameter_constraints = {
        **_BaseLSTM._parameter_constraints,
        "loss": [StrOptions({*LOSSES, "pinball"})],
        "quantiles": ["array-like"],
        "scaling": [StrOptions({"window", "channel", "sequence", "both"}), None],
        "validation_split": [StrOptions({"tail", "shuffle"})],
    }

    def __init__(
        self,
        hidden_size=64,
        *,
        num_layers=1,
        bidirectional=False,
        cell="lstm",
        dropout=0.0,
        pooling="last",
        conv_channels=(),
        conv_kernel_size=3,
        conv_batch_norm=False,
        frame_pooling="average",
        embedding_dim=None,
        init="pytorch",
        fcn_channels=(),
        fcn_kernel_sizes=(8, 5, 3),
        squeeze_excite=False,
        downsample="auto",
        fcn_downsample="auto",
        scaling="window",
        loss="mse",
        quantiles=QUANTILES,
        max_epochs="auto",
        batch_size=32,
        lr=1e-3,
        lr_schedule="plateau",
        optimizer="adam",
        weight_decay=0.0,
        clip_grad_norm=None,
        shuffle=True,
        early_stopping=False,
        validation_fraction=0.1,
        validation_split="tail",
        n_iter_no_change=30,
        tol=1e-4,
        device="auto",
        precision="float32",
        random_state=None,
        verbose=0,
        warm_start=False,
        callbacks=None,
    ):
        super().__init__(
            hidden_size,
            num_layers=num_layers,
            bidirectional=bidirectional,
            cell=cell,
            dropout=dropout,
            pooling=pooling,
            conv_channels=conv_channels,
            conv_kernel_size=conv_kernel_size,
            conv_batch_norm=conv_batch_norm,
            frame_pooling=frame_pooling,
            embedding_dim=embedding_dim,
            init=init,
            fcn_channels=fcn_channels,
            fcn_kernel_sizes=fcn_kernel_sizes,
            squeeze_excite=squeeze_excite,
            downsample=downsample,
            fcn_downsample=fcn_downsample,
            scaling=scaling,
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            lr_schedule=lr_schedule,
            optimizer=optimizer,
            weight_decay=weight_decay,
            clip_grad_norm=clip_grad_norm,
            shuffle=shuffle,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            validation_split=validation_split,
            n_iter_no_change=n_iter_no_change,
            tol=tol,
            device=device,
            precision=precision,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
            callbacks=callbacks,
        )
        self.loss = loss
        self.quantiles = quantiles

    def partial_fit(self, X, y, sample_weight=None):
        """Train for one epoch, starting a new model on the first call.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or \
(n_samples, n_timesteps, n_channels), or list of arrays
            Training sequences.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights of the loss.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._partial_fit(X, y, sample_weight)

    def predict(self, X):
        """Predict targets for sequences ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or \
(n_samples, n_timesteps, n_channels), or list of arrays
            Sequences; their length may differ from the training sequences.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions, with the rank of the ``y`` seen in ``fit``; with
            ``loss="pinball"``, the predicted medians.
        """
        out = self._outputs(X)
        if out.ndim == 3:  # quantiles: the median
            out = out[:, :, int(np.flatnonzero(self.quantiles_ == 0.5)[0])]
        return out.ravel() if self._y_ndim == 1 else out

    def predict_quantiles(self, X, quantiles=None):
        """Predict quantiles of the targets (a model fitted with
        ``loss="pinball"``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or \
(n_samples, n_timesteps, n_channels), or list of arrays
            Sequences, as for ``predict``.
        quantiles : float or sequence of float, default=None
            Levels in ``[quantiles_[0], quantiles_[-1]]``; a level between two
            trained ones is interpolated linearly between their predictions.
            None: the trained levels ``quantiles_``.

        Returns
        -------
        y : ndarray of shape (n_samples, n_quantiles) or \
(n_samples, n_outputs, n_quantiles)
            Predicted quantiles, non-decreasing along the last axis (the
            network's outputs are sorted: they never cross). The first shape
            for a 1-D ``y`` in ``fit``, the second for a 2-D one.
        """
        levels = self._check_levels(quantiles)
        out = self._outputs(X)  # (n, outputs, trained levels), sorted
        idx = np.searchsorted(self.quantiles_, levels, side="right") - 1
        idx = np.clip(idx, 0, len(self.quantiles_) - 2)
        low, high = self.quantiles_[idx], self.quantiles_[idx + 1]
        share = (levels - low) / (high - low)
        result = out[:, :, idx] * (1 - share) + out[:, :, idx + 1] * share
        return result[:, 0, :] if self._y_ndim == 1 else result

    def predict_interval(self, X, coverage=0.9):
        """Predict central intervals of the targets (a model fitted with
        ``loss="pinball"``): the quantiles ``(1 - coverage) / 2`` and
        ``(1 + coverage) / 2``.

        These are the network's own quantiles: their coverage on new data
        is what the pinball loss learned, not a guarantee. For intervals
        with a coverage guarantee, calibrate them (conformal prediction, e.g.
        MAPIE; see the forecasting guide).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or \
(n_samples, n_timesteps, n_channels), or list of arrays
            Sequences, as for ``predict``.
        coverage : float, default=0.9
            The share of targets the interval is meant to hold, in (0, 1);
            its ends must lie within the trained levels ``quantiles_``.

        Returns
        -------
        interval : ndarray of shape (n_samples, 2) or (n_samples, n_outputs, 2)
            Lower and upper ends, for a 1-D or a 2-D ``y`` in ``fit``.
        """
        half = (1 - check_coverage(coverage)) / 2
        return self.predict_quantiles(X, [half, 1 - half])

    def _outputs(self, X):
        """The network's outputs for ``X`` on the targets' scale: ``(n,
        outputs)``, or with quantiles ``(n, outputs, levels)`` sorted along
        the levels."""
        return self._on_target_scale(self._forward(X))

    def _on_target_scale(self, out):
        """Raw network outputs ``(n, model outputs)`` as in ``_outputs``."""
        levels = getattr(self, "quantiles_", None)
        if levels is not None:
            out = np.sort(out.reshape(len(out), self.n_outputs_, len(levels)), axis=2)
            out = out * self.y_scale_[:, None] + self.y_mean_[:, None]
        else:
            out = out * self.y_scale_ + self.y_mean_
        if not np.isfinite(out).all():
            bad = ~np.isfinite(out)
            i = int(np.argwhere(bad)[0][0])
            raise FloatingPointError(
                f"The prediction for sample {i} is not finite ({bad.sum()} values "
                "of the predictions are NaN or infinite): the network's output "
                "overflowed. Check that X holds values of the size seen in fit, or "
                "refit with scaled inputs or a smaller lr."
            )
        return out

    def _check_levels(self, quantiles):
        """``quantiles`` as an array of levels this model can predict."""
        check_is_fitted(self)
        trained = getattr(self, "quantiles_", None)
        if trained is None:
            raise ValueError(
                f"predict_quantiles and predict_interval need a model fitted with "
                f"loss='pinball'; this one was fitted with loss={self.loss!r}. "
                "Refit with loss='pinball' (and the levels you need in "
                "quantiles), or calibrate its point forecasts with conformal "
                "prediction (MAPIE)."
            )
        if quantiles is None:
            return trained.copy()
        levels = _levels(quantiles, "quantiles")
        # a level within rounding of a trained one is that one: (1 - 0.8) / 2
        # is 0.09999999999999998, and 0.1 was trained
        near = np.abs(levels[:, None] - trained[None, :]) <= 1e-12
        levels = np.where(near.any(axis=1), trained[near.argmax(axis=1)], levels)
        outside = levels[(levels < trained[0]) | (levels > trained[-1])]
        if len(outside):
            raise ValueError(
                f"quantile {outside[0]:g} lies outside the levels this model was "
                f"trained for ({trained[0]:g} to {trained[-1]:g}, quantiles_="
                f"{trained.tolist()}); refit with it among quantiles."
            )
        return levels

    def _criterion(self):
        if self.loss == "pinball":
            return PinballLoss(self.quantiles_)
        return LOSSES[self.loss](reduction="none")

    def _trained_levels(self):
        """The quantile levels ``loss`` and ``quantiles`` ask for (sorted, 0.5
        among them), or None for a point loss."""
        if self.loss != "pinball":
            return None
        return np.union1d(_levels(self.quantiles, "quantiles"), [0.5])

    def _check_targets(self, y, reset):
        kind = getattr(y, "dtype", None)
        text = kind is not None and np.asarray(y).dtype.kind in "OUS"
        if str(kind) == "category" or (text and not _numeric(y)):
            raise ValueError(
                f"LSTMRegressor needs numeric targets; y holds {kind} values "
                f"(e.g. {np.asarray(y).ravel()[:3].tolist()}). For labels use "
                "LSTMClassifier; for numbers stored as text convert y first."
            )
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
        if y.ndim not in (1, 2):
            raise ValueError(
                f"y must be 1-D (n_samples,) or 2-D (n_samples, n_outputs); got "
                f"shape {y.shape}."
            )
        y2 = y.reshape(len(y), -1)
        levels = self._trained_levels()
        if reset:
            self._y_ndim = y.ndim
            self.n_outputs_ = y2.shape[1]
            self.quantiles_ = levels
            self._n_model_outputs = y2.shape[1] * (1 if levels is None else len(levels))
            return y2
        if y2.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {y2.shape[1]} outputs, but {type(self).__name__} was "
                f"fitted with {self.n_outputs_}."
            )
        fitted = getattr(self, "quantiles_", None)
        if (levels is None) != (fitted is None) or (
            levels is not None and not np.array_equal(levels, fitted)
        ):
            raise ValueError(
                f"Continued training must keep the quantiles the model predicts: "
                f"it was fitted with {_describe(fitted)}, and loss / quantiles now "
                f"ask for {_describe(levels)}. Set them back, or set "
                "warm_start=False to train a new model."
            )
        return y2

    def _finish_targets(self, y, weight, reset):
        if reset:
            self._check_target_range(y)
            # weighted, so that integer weights equal repeated samples; in units
            # of each column's largest value, so that the squares cannot overflow
            w = None if weight is None else weight / weight.max()
            unit = np.abs(y).max(axis=0)
            unit = np.where(unit > 0, unit, 1.0)
            mean = np.average(y / unit, axis=0, weights=w)
            spread = np.sqrt(np.average((y / unit - mean) ** 2, axis=0, weights=w))
            self.y_mean_ = mean * unit
            self.y_scale_ = usable_scale(spread * unit)
        # standardised batch by batch (see _target_scaling): no copy of y here
        return y, weight

    def _check_target_range(self, y):
        """Refuse targets so large that their statistics, or predictions a
        little beyond them, would leave float64's range."""
        big = np.abs(y).max(axis=0)
        for j in np.flatnonzero(big > MAX_TARGET):
            where = f"column {j} of y" if y.shape[1] > 1 else "y"
            raise ValueError(
                f"{where} holds a value of magnitude {big[j]:.3g}; expected "
                f"magnitudes below {MAX_TARGET:.0e}, so that the targets' mean and "
                "spread, and predictions beyond them, stay finite in float64. "
                "Rescale y first (e.g. divide it by a power of ten)."
            )

    def _target_scaling(self):
        return self.y_mean_, self.y_scale_

    def _link_targets(self, sequences, y, loc, scale, weight=None):
        """The input channel that holds each output's own past, or None.

        Both sides standardised (the channels by ``loc``/``scale``, the targets
        by ``y_mean_``/``y_scale_``), output ``j`` is linked to the channel
        whose last value in each window is closest to it on average (weighted
        by ``weight``, so a sample of weight 0 counts as absent), when that
        is within LINK_ERROR (a series' next values stay near its last one;
        an unrelated channel misses by about 1.1). A univariate window is its
        target's own past whatever the distance.
        """
        weight = np.ones(sequences.n) if weight is None else np.asarray(weight)
        if sequences.table.shape[1] == 1:
            links = (0,) * self.n_outputs_
            self._share_units(sequences, y, links, (loc, scale), weight)
            return links
        starts, lengths = sequences.bounds()
        last = (sequences.table[starts + lengths - 1] - loc) / scale  # (n, c)
        targets = (np.asarray(y) - self.y_mean_) / self.y_scale_  # (n, outputs)
        error = np.abs(targets[:, :, None] - last[:, None, :])
        error = np.average(error, axis=0, weights=weight)
        nearest = error.argmin(axis=1)
        linked = {int(k) for j, k in enumerate(nearest) if error[j, k] < LINK_ERROR}
        if not linked or not all(int(k) in linked for k in nearest):
            return None
        links = tuple(int(k) for k in nearest)
        self._share_units(sequences, y, links, (loc, scale), weight)
        return links

    def _share_units(self, sequences, y, links, units, weight):
        """Standardise each linked output as its channel when both hold the
        same numbers (``make_windows`` cuts both from one table): prediction
        is then exactly shift- and scale-equivariant. Targets in other units
        (a scaler in front of the windows) keep their own statistics. Up to
        SHARE_PROBES targets are looked up, in the table a slice at a time."""
        y = np.asarray(y)[weight > 0]
        probes = np.linspace(0, len(y) - 1, min(len(y), SHARE_PROBES)).astype(int)
        for j, k in enumerate(links):
            wanted = y[probes, j]
            found = np.zeros(len(wanted), dtype=bool)
            column = sequences.table[:, k]
            for start in range(0, len(column), SHARE_SLICE):
                found |= np.isin(wanted, column[start : start + SHARE_SLICE])
            if found.mean() > 0.9:
                self.y_mean_[j], self.y_scale_[j] = units[0][k], units[1][k]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        tags.target_tags.multi_output = True
        return tags
