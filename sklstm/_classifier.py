"""LSTMClassifier."""

import numpy as np
import torch
from scipy.special import softmax
from sklearn.base import ClassifierMixin
from sklearn.utils import column_or_1d
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from torch import nn

from ._base import _BaseLSTM


class LSTMClassifier(ClassifierMixin, _BaseLSTM):
    """LSTM network for sequence classification.

    One or more LSTM layers read each sequence, a pooling step turns their
    outputs into one vector and a linear layer gives one logit per class,
    trained with cross-entropy through skorch. Labels may be of any type
    (strings, integers); ``classes_`` keeps them in sorted order.

    The defaults are a recommendation, chosen by cross-validation on the
    training splits of eight public datasets (docs/architectures.md): an
    LSTM-FCN (a fully convolutional branch beside the LSTM), inputs scaled
    inside the network both per channel and per sequence, a learning rate
    halved on plateaus and a training budget that adapts to the data. So
    ``LSTMClassifier(random_state=0).fit(X, y)`` needs no scaler in front and
    no tuning to start from.

    Parameters
    ----------
    hidden_size : int, default=32
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
    fcn_channels : sequence of int or "auto", default="auto"
        A fully convolutional branch beside the LSTM: one Conv1d + BatchNorm +
        ReLU block per entry (its output channels), then the average over the
        valid steps; its features join the LSTM's before the output layer.
        This is LSTM-FCN (Karim et al., 2018); with ``squeeze_excite``,
        MLSTM-FCN; with ``pooling="attention"``, ALSTM-FCN. ``"auto"``:
        ``(64, 128, 64)`` (the paper's blocks at half width) on numeric
        sequences, none on token ids and image sequences. ``()``: the LSTM
        alone.
    fcn_kernel_sizes : sequence of int, default=(8, 5, 3)
        Kernel size of each block of the convolutional branch.
    squeeze_excite : bool, default=False
        Squeeze-and-excite blocks after every block of the convolutional
        branch but the last (MLSTM-FCN, Karim et al., 2019).
    downsample : int or "auto", default="auto"
        The LSTM reads each run of this many steps averaged into one (the
        convolutional branch at its own ``fcn_downsample``). ``"auto"``: with
        a convolutional branch, the smallest factor that keeps the LSTM within
        128 steps of the longest training sequence (an LSTM step is sequential
        work and LSTMs learn slowly over thousands of steps); without one, 1.
    fcn_downsample : int or "auto", default="auto"
        The convolutional branch reads each run of this many steps averaged
        into one (padding-aware). ``"auto"``: the smallest factor that keeps
        the branch within 512 steps of the longest training sequence, so a
        series of thousands of steps costs a few times less per epoch and
        gets that many more epochs of the budget; 1 for shorter data.
    scaling : {"both", "channel", "sequence"} or None, default="both"
        Input scaling inside the network, learned in ``fit`` (so no scaler is
        needed in front, and padding is handled): ``"channel"`` standardises
        each channel with its mean and spread over the training data;
        ``"sequence"`` then standardises each sequence and channel over its
        own valid steps (the z-normalisation of the UCR/UEA archives: levels
        and amplitudes disappear); ``"both"`` gives the layers each channel
        both ways, so that shape and level both count. None reads the input
        as it is. Token ids and image sequences are never scaled.
    class_weight : dict, "balanced" or None, default=None
        Weights per class, multiplied into the per-sample loss weights;
        ``"balanced"`` uses ``n_samples / (n_classes * np.bincount(y))``.
    max_epochs : int or "auto", default="auto"
        Most passes over the training data. ``"auto"``: a budget that adapts to
        the data: about 1,500 optimiser steps, but fewer epochs the more time
        steps an epoch holds (about 9 s for 100 sequences of 100 steps, under
        a minute for 1,000 of 500, on two cores); data between those sizes may
        take as many epochs as the time of the largest allows, at most 125
        (sequences of varying length cost more per step, so theirs can take
        longer). Between 10 and 1,000 epochs. The stopping rule (``n_iter_no_change``)
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
        Hold out ``validation_fraction`` of the samples (chosen by
        ``validation_split``), stop when the validation loss stops improving
        and restore the weights of the best epoch.
    validation_fraction : float, default=0.1
        Share of samples held out with ``early_stopping``.
    validation_split : {"stratified", "shuffle", "tail"}, default="stratified"
        Which samples ``early_stopping`` holds out: that share of every class,
        drawn at random (seeded by ``random_state``, so rows sorted by label
        are fine; a class of one sample stays in training), as
        ``MLPClassifier`` does; a random share; or the last rows (for windows
        in time order).
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
    classes_ : ndarray of shape (n_classes,)
        Class labels.
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

    See Also
    --------
    LSTMRegressor : The same network for regression and forecasting.

    Examples
    --------
    >>> import numpy as np
    >>> from sklstm import LSTMClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 12))
    >>> y = np.where(X.mean(axis=1) > 0, "up", "down")
    >>> clf = LSTMClassifier(hidden_size=8, max_epochs=5, random_state=0).fit(X, y)
    >>> clf.classes_
    array(['down', 'up'], dtype='<U4')
    >>> clf.predict_proba(X[:3]).shape
    (3, 2)
    """

    _parameter_constraints = {
        **_BaseLSTM._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
        hidden_size=32,
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
        fcn_channels="auto",
        fcn_kernel_sizes=(8, 5, 3),
        squeeze_excite=False,
        downsample="auto",
        fcn_downsample="auto",
        scaling="both",
        class_weight=None,
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
        validation_split="stratified",
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
        self.class_weight = class_weight

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch, starting a new model on the first call.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or \
(n_samples, n_timesteps, n_channels), or list of arrays
            Training sequences.
        y : array-like of shape (n_samples,)
            Class labels.
        classes : array-like of shape (n_classes,), default=None
            Every class that any call may see. Required on the first call,
            ignored afterwards.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights of the loss.

        Returns
        -------
        self : object
            The updated estimator.
        """
        if not self.__sklearn_is_fitted__():
            if classes is None:
                raise ValueError(
                    "classes must be passed on the first call to partial_fit, "
                    "e.g. classes=np.unique(y_all)."
                )
            self._partial_classes = np.unique(column_or_1d(classes))
        try:
            return self._partial_fit(X, y, sample_weight)
        finally:
            self.__dict__.pop("_partial_classes", None)

    def predict_proba(self, X):
        """Class probabilities for sequences ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or \
(n_samples, n_timesteps, n_channels), or list of arrays
            Sequences; their length may differ from the training sequences.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``.
        """
        return softmax(self._forward(X), axis=1)

    def predict(self, X):
        """Predict class labels for sequences ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or \
(n_samples, n_timesteps, n_channels), or list of arrays
            Sequences; their length may differ from the training sequences.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted labels.
        """
        out = self._forward(X)  # raises NotFittedError first where it should
        return self.classes_[out.argmax(axis=1)]

    def _criterion(self):
        return nn.CrossEntropyLoss(reduction="none")

    def _validation_groups(self, y):
        return y.numpy()

    def _check_targets(self, y, reset):
        y = column_or_1d(y, warn=True)
        if y.dtype == object:
            kinds = {type(v).__name__ for v in y.tolist()}
            if "str" in kinds and len(kinds) > 1:
                raise TypeError(
                    f"y mixes label types {sorted(kinds)}; expected labels of one "
                    "type (all strings, or all numbers), e.g. y.astype(str)."
                )
        check_classification_targets(y)
        if reset:
            classes = getattr(self, "_partial_classes", None)
            self.classes_ = np.unique(y) if classes is None else classes
            if len(self.classes_) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes; "
                    f"got 1 class ({self.classes_.tolist()[0]!r})."
                )
            self._n_model_outputs = len(self.classes_)
        unseen = np.setdiff1d(y, self.classes_)
        if unseen.size:
            raise ValueError(
                f"y contains labels {list(unseen[:5])} that are not among the "
                f"classes {list(self.classes_)}."
            )
        return np.searchsorted(self.classes_, y)

    def _finish_targets(self, y, weight, reset):
        if self.class_weight is not None:
            per_class = compute_class_weight(
                self.class_weight, classes=self.classes_, y=self.classes_[y]
            )
            bad = ~np.isfinite(per_class) | (per_class < 0)
            if bad.any():
                raise ValueError(
                    "class_weight must give each class a finite, non-negative "
                    f"weight; got {per_class[bad][0]} for class "
                    f"{self.classes_[bad].tolist()[0]!r}."
                )
            weight = per_class[y] if weight is None else weight * per_class[y]
            if not (weight > 0).any():
                raise ValueError(
                    "class_weight (with sample_weight) leaves every training "
                    f"sample a weight of 0 (class weights {per_class.tolist()} for "
                    f"classes {self.classes_.tolist()}); expected at least one "
                    "sample with a positive weight."
                )
        return torch.as_tensor(y, dtype=torch.int64), weight

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True
        return tags
