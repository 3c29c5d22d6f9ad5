"""Plumbing shared by LSTMRegressor and LSTMClassifier.

The estimator keeps flat hyperparameters and builds a skorch net inside ``fit``
(composition, not inheritance). After training it keeps the torch module, the
optimizer's state and the random-number state, so ``partial_fit`` and
``warm_start`` continue exactly where the last call stopped.
"""

from __future__ import annotations

import copy
import math
import numbers

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_consistent_length, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._architecture import (
    architecture,
    check_same_architecture,
    conv_channels,
    fcn_channels,
    module_kwargs,
)
from ._data import SequenceDataset, normalised_weights
from ._engine import (
    DEVICE,
    OPTIMIZERS,
    PRECISIONS,
    Carry,
    Plan,
    ready,
    resolve_device,
    run_batches,
    to_cpu,
)
from ._history import TrainingDivergedError, record
from ._inputs import read_sequences
from ._memory import block_bytes, check_allocation, network_bytes
from ._network import attention_weights, autocast
from ._recipe import (
    FCN_STEPS,
    LSTM_STEPS,
    MIN_LR_FRACTION,
    auto_epochs,
    channel_statistics,
    sequence_eps,
    validation_last,
)
from ._tokens import largest_id


class _Device(StrOptions):
    """scikit-learn's parameter constraint for ``device``: 'auto', 'cpu' or
    'cuda', optionally with an index (scikit-learn takes only its own
    constraint classes, hence a StrOptions that also accepts indices)."""

    def __init__(self):
        super().__init__({"auto", "cpu", "cuda"})

    def is_satisfied_by(self, val):
        return isinstance(val, str) and DEVICE.fullmatch(val) is not None

    def __str__(self):
        return "a str among 'auto', 'cpu', 'cuda', optionally with an index ('cuda:1')"


NEGLIGIBLE_WEIGHT = 1e-30  # of the largest sample weight: counts as zero


class _BaseLSTM(BaseEstimator):
    _parameter_constraints: dict = {
        "hidden_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "num_layers": [Interval(numbers.Integral, 1, None, closed="left")],
        "bidirectional": ["boolean"],
        "cell": [StrOptions({"lstm", "gru"})],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "pooling": [StrOptions({"last", "mean", "max", "attention"})],
        "conv_channels": ["array-like"],
        "conv_kernel_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "conv_batch_norm": ["boolean"],
        "frame_pooling": [StrOptions({"average", "flatten"})],
        "embedding_dim": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "init": [StrOptions({"pytorch", "keras"})],
        "fcn_channels": ["array-like", StrOptions({"auto"})],
        "fcn_kernel_sizes": ["array-like"],
        "squeeze_excite": ["boolean"],
        "downsample": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "fcn_downsample": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "scaling": [
            StrOptions({"channel", "sequence", "both"}),
            None,
        ],
        "max_epochs": [
            Interval(numbers.Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        # the optimisers compute in float32: a rate beyond its range overflows
        "lr": [Interval(numbers.Real, 0, 1e38, closed="neither")],
        "optimizer": [StrOptions(set(OPTIMIZERS))],
        "weight_decay": [Interval(numbers.Real, 0, 1e38, closed="left")],
        "clip_grad_norm": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "shuffle": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither")],
        "validation_split": [StrOptions({"stratified", "shuffle", "tail"})],
        "lr_schedule": [StrOptions({"plateau"}), None],
        "n_iter_no_change": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "device": [_Device()],
        "precision": [StrOptions({"float32", "bfloat16"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "callbacks": ["array-like", None],
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
        scaling="channel",
        max_epochs=100,
        batch_size=32,
        lr=1e-3,
        lr_schedule=None,
        optimizer="adam",
        weight_decay=0.0,
        clip_grad_norm=None,
        shuffle=True,
        early_stopping=False,
        validation_fraction=0.1,
        validation_split="tail",
        n_iter_no_change=10,
        tol=1e-4,
        device="auto",
        precision="float32",
        random_state=None,
        verbose=0,
        warm_start=False,
        callbacks=None,
    ):
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.cell = cell
        self.dropout = dropout
        self.pooling = pooling
        self.conv_channels = conv_channels
        self.conv_kernel_size = conv_kernel_size
        self.conv_batch_norm = conv_batch_norm
        self.frame_pooling = frame_pooling
        self.embedding_dim = embedding_dim
        self.init = init
        self.fcn_channels = fcn_channels
        self.fcn_kernel_sizes = fcn_kernel_sizes
        self.squeeze_excite = squeeze_excite
        self.downsample = downsample
        self.fcn_downsample = fcn_downsample
        self.scaling = scaling
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.clip_grad_norm = clip_grad_norm
        self.shuffle = shuffle
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.validation_split = validation_split
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.callbacks = callbacks

    # Subclasses provide ``_criterion()`` (a torch loss with reduction="none"),
    # ``_check_targets(y, reset)`` (validates y; on reset learns the targets'
    # description and sets ``_n_model_outputs``) and ``_finish_targets(y,
    # weight, reset)`` (turns kept targets and weights into training tensors).

    def _target_scaling(self):
        """``(mean, scale)`` that standardise the targets batch by batch, or None."""
        return None

    # -- scikit-learn protocol ---------------------------------------------------

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        # NaN is accepted only as padding (all-NaN steps at either end of a
        # sequence), not as missing values anywhere, so allow_nan stays False
        return tags

    def __sklearn_is_fitted__(self):
        return hasattr(self, "module_")

    def fit(self, X, y, sample_weight=None):
        """Train on sequences ``X`` and targets ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps) or \
(n_samples, n_timesteps, n_channels), or list of arrays
            Training sequences; see the input conventions in the user guide.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights of the loss. Zero-weight samples (and weights
            below 1e-30 of the largest, which the float32 loss would read as
            zero) are removed before training.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._validate_params()
        warm = self.warm_start and self.__sklearn_is_fitted__()
        if warm:
            check_same_architecture(self)
        return self._train(X, y, sample_weight, reset=not warm, epochs=None)

    def _partial_fit(self, X, y, sample_weight=None):
        self._validate_params()
        first = not self.__sklearn_is_fitted__()
        return self._train(X, y, sample_weight, reset=first, epochs=1)

    # -- training ----------------------------------------------------------------

    def _train(self, X, y, sample_weight, *, reset, epochs):
        """Validate, train and record; a failure leaves the estimator as it was."""
        before = self.__dict__.copy()
        try:
            return self._train_steps(X, y, sample_weight, reset=reset, epochs=epochs)
        except TrainingDivergedError as error:
            if getattr(error, "untrained", False):  # not one epoch finished
                self.__dict__.clear()
                self.__dict__.update(before)
            raise  # else keeps the last good weights of this training, by design
        except BaseException:
            # validation (reset=True) rewrites n_channels_in_, classes_, y_mean_
            # ... before it can fail; the fitted model must survive a bad call
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _train_steps(self, X, y, sample_weight, *, reset, epochs):
        device = self._device()  # refuses an unavailable device before any work
        sequences, y_enc, weight = self._validate_fit_data(X, y, sample_weight, reset)
        if reset:
            self._seed = int(check_random_state(self.random_state).randint(2**31 - 1))
            self.history_ = []
            self._fitted_architecture = architecture(self)
            self._learn_scaling(sequences, y_enc, weight)
            self._downsample = self._steps_per_lstm_step(sequences)
            self._fcn_downsample = self._steps_per_fcn_step(sequences)
            check_allocation(
                network_bytes(module_kwargs(self)),
                f"Training this network (hidden_size={self.hidden_size}, "
                f"num_layers={self.num_layers}, {self.n_channels_in_} input "
                f"channels, vocab_size_={self.vocab_size_}, conv_kernel_size="
                f"{self.conv_kernel_size})",
                "expected sizes that follow the data; lower the one that is far "
                "above it.",
            )
        incremental = epochs is not None
        validating = self.early_stopping and not incremental
        n_valid = None  # the tail of validation_fraction
        if validating and self.validation_split != "tail":
            order, n_valid = validation_last(
                self._validation_groups(y_enc),
                self.validation_fraction,
                self.validation_split,
                self._seed,
            )
            sequences = sequences.select(order)
            y_enc = (
                y_enc[torch.as_tensor(order)]
                if torch.is_tensor(y_enc)
                else y_enc[order]
            )
            weight = None if weight is None else weight[order]
        n_epochs = epochs or self._epochs(sequences)
        dataset = SequenceDataset(sequences, y_enc, weight, self._target_scaling())
        _, lengths = sequences.bounds()
        plan = self._plan(n_epochs, incremental, n_valid, int(lengths.max()))
        carry = None
        if not reset:
            carry = Carry(
                self.module_,
                self._rng_state,
                self._optimizer_state if incremental else None,
                getattr(self, "_scheduler_state", None) if incremental else None,
            )
        from ._training import train  # skorch is loaded by the first fit

        trained = train(plan, dataset, device, seed=self._seed, carry=carry)
        self.module_ = trained.carry.module
        self._rng_state = trained.carry.rng_state
        self._optimizer_state = trained.carry.optimizer_state
        self._scheduler_state = trained.carry.scheduler_state
        record(self, trained, incremental=incremental)
        return self

    def _plan(self, epochs, incremental, n_valid, longest) -> Plan:
        """This call's training in the engine's terms."""
        from . import _callbacks  # skorch is loaded by the first fit

        validating = self.early_stopping and not incremental
        arch = module_kwargs(self)
        return Plan(
            module_kwargs=arch,
            input_scaling=self._input_scaling,
            criterion=self._criterion(),
            optimizer=self.optimizer,
            lr=self.lr,
            weight_decay=self.weight_decay,
            batch_size=self.batch_size,
            epochs=epochs,
            shuffle=self.shuffle,
            validation=self.validation_fraction if validating else None,
            n_valid=n_valid,
            patience=None if incremental else self.n_iter_no_change,
            tol=self.tol,
            plateau=(
                max(1, self.n_iter_no_change // 2)
                if self.lr_schedule == "plateau"
                else None
            ),
            min_lr=self.lr * MIN_LR_FRACTION,
            clip_grad_norm=self.clip_grad_norm,
            callbacks=_callbacks.user_callbacks(self.callbacks),
            progress=bool(self.verbose),
            precision=self.precision,
            block_bytes=block_bytes(arch, self.batch_size, longest),
            refresh_norms=not incremental,
        )

    def _epochs(self, sequences) -> int:
        """``max_epochs``, or with ``"auto"`` a budget that adapts to the data."""
        if self.max_epochs != "auto":
            return self.max_epochs
        _, lengths = sequences.bounds()
        # the steps the network reads at full width: the FCN branch's, fewer
        # when it reads averaged runs of steps and nothing reads every step
        reads_all = conv_channels(self) or not fcn_channels(self)
        k = 1 if reads_all else getattr(self, "_fcn_downsample", 1)
        steps = float(np.ceil(lengths / k).mean())
        ragged = bool(lengths.min() != lengths.max())
        return auto_epochs(len(sequences), steps, self.batch_size, ragged)

    def _steps_per_lstm_step(self, sequences) -> int:
        """``downsample``, or with ``"auto"`` the smallest factor that keeps the
        LSTM within LSTM_STEPS steps of the longest training sequence when a
        convolutional branch reads every step (else 1)."""
        if self.downsample != "auto":
            return self.downsample
        if not fcn_channels(self):
            return 1
        return max(1, math.ceil(sequences.steps / LSTM_STEPS))

    def _steps_per_fcn_step(self, sequences) -> int:
        """``fcn_downsample``, or with ``"auto"`` the smallest factor that keeps
        the FCN branch within FCN_STEPS steps of the longest training
        sequence (1 without the branch)."""
        if self.fcn_downsample != "auto":
            return self.fcn_downsample
        if not fcn_channels(self):
            return 1
        return max(1, math.ceil(sequences.steps / FCN_STEPS))

    def _validation_groups(self, y):
        """Labels to stratify the validation split by (one group: none)."""
        return np.zeros(len(y))

    # -- input scaling ---------------------------------------------------------------

    def _learn_scaling(self, sequences, y, weight=None):
        """Learn the input scaling of ``scaling`` from the training data."""
        self._input_scaling = None
        self._per_sequence = ()
        self._target_channels = None
        self._sequence_eps = sequence_eps(linked=False)
        if (
            self.scaling is None
            or self.embedding_dim is not None
            or self.frame_shape_ is not None
        ):
            return  # token ids and image sequences are read as they are
        loc, scale = channel_statistics(sequences, weight)
        self._input_scaling = (loc, scale)
        channels = sequences.table.shape[1]
        if self.scaling in ("sequence", "both"):
            self._per_sequence = tuple(range(channels))
        elif self.scaling == "window":
            self._target_channels = self._link_targets(sequences, y, loc, scale, weight)
            if self._target_channels is not None:
                self._per_sequence = tuple(sorted(set(self._target_channels)))
                self._sequence_eps = sequence_eps(linked=True)

    def _link_targets(self, sequences, y, loc, scale, weight=None):
        """One input channel per output whose window each output is read
        relative to, or None (regressor only)."""
        return None

    # -- validation ----------------------------------------------------------------

    def _validate_fit_data(self, X, y, sample_weight, reset):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        X = self._check_X(X, reset)
        check_consistent_length(X, y)
        y = self._check_targets(y, reset)
        weight = None
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
            # zero weight means "not there": dropping keeps batches identical;
            # weights below NEGLIGIBLE_WEIGHT of the largest would be 0 in the
            # float32 loss, and count as zero
            keep = sample_weight > sample_weight.max() * NEGLIGIBLE_WEIGHT
            X = X.select(keep)
            y, weight = y[keep], sample_weight[keep]
        y, weight = self._finish_targets(y, weight, reset)
        if weight is not None:  # class weights of 0 drop samples as well
            keep = weight > weight.max() * NEGLIGIBLE_WEIGHT
            if not keep.all():
                X = X.select(keep)
                y = y[torch.as_tensor(keep)] if torch.is_tensor(y) else y[keep]
                weight = weight[keep]
        return X, y, normalised_weights(weight)

    def _check_X(self, X, reset):
        """Validate ``X`` and return it as :class:`Sequences` (NaN = padding)."""
        original = X
        X, frame_shape = read_sequences(
            X, tokens=self.embedding_dim is not None, frames=bool(conv_channels(self))
        )
        # feature names and n_features_in_ (the time steps) as scikit-learn keeps
        # them; the sequence length may differ from fit, the channels may not
        names = original if hasattr(original, "columns") else X
        plain = (  # nothing for scikit-learn's name check to find or to warn about
            not reset
            and type(original) is np.ndarray
            and not hasattr(self, "feature_names_in_")
        )
        if (reset or X.steps == self.n_features_in_) and not plain:
            # plain arrays skip it: with X.steps == n_features_in_ it only looks
            # for column names (a fifth of a one-sample predict, through narwhals)
            validate_data(self, names, reset=reset, skip_check_array=True)
        if reset:
            self.frame_shape_ = frame_shape
            self.n_channels_in_ = frame_shape[2] if frame_shape else X.shape[2]
            self.vocab_size_ = None
            if self.embedding_dim is not None:
                self.vocab_size_ = largest_id(X) + 1
        else:
            self._check_channels(X, frame_shape)
        return X

    def _validate_X(self, X):
        """Check ``X`` for prediction and return it as :class:`Sequences`."""
        if "module_" not in self.__dict__:  # else fitted: spare the tag lookup
            check_is_fitted(self)
        return self._check_X(X, reset=False)

    def _check_channels(self, X, frame_shape):
        if frame_shape != self.frame_shape_:
            fitted = self.frame_shape_ or "no image"
            raise ValueError(
                f"X holds frames of shape (height, width, channels) "
                f"{frame_shape or 'none (not image sequences)'}, but "
                f"{type(self).__name__} was fitted on frames {fitted}."
            )
        largest = None if self.vocab_size_ is None else largest_id(X)
        if largest is not None and largest >= self.vocab_size_:
            raise ValueError(
                f"X holds token id {largest}, unseen in fit: the model knows "
                f"ids 0 to {self.vocab_size_ - 1} (vocab_size_={self.vocab_size_}). "
                "Map unknown tokens to an id seen in fit (e.g. reserve one for "
                "out-of-vocabulary words) before predicting."
            )
        if frame_shape is None and X.shape[2] != self.n_channels_in_:
            raise ValueError(
                f"X has {X.shape[2]} channels per time step (shape {X.shape}), but "
                f"{type(self).__name__} was fitted with {self.n_channels_in_} "
                "channels. The sequence length may change between fit and "
                "predict; the channel count may not."
            )

    # -- inference -----------------------------------------------------------------

    def _forward(self, X):
        """Raw network outputs for ``X`` as a float64 numpy array."""
        out = self._plain_request(X)
        if out is not None:
            return out
        outputs = self._per_batch(self._validate_X(X), lambda m, x, n: m(x, n))
        return torch.cat(outputs).double().numpy()

    def _plain_request(self, X):
        """The outputs for a served request, straight to the network: a plain
        float array of one batch, without padding, on the CPU. It is the batch
        the general path would build (the same float32 numbers, no lengths),
        so the outputs are the same; anything else (other types, NaN or
        infinite values, wrong channels, tokens, frames, names, more than one
        batch, a GPU) returns None and takes the general path, with its checks
        and errors."""
        if (
            type(X) is not np.ndarray
            or X.dtype not in (np.float32, np.float64)
            or X.ndim not in (2, 3)
            or "module_" not in self.__dict__
            or hasattr(self, "feature_names_in_")
            or getattr(self, "vocab_size_", None) is not None
            or getattr(self, "frame_shape_", None) is not None
            or not 0 < len(X) <= max(self.batch_size, 256)
            or X.shape[1] < 1
            or (X.shape[2] if X.ndim == 3 else 1) != self.n_channels_in_
            or self.device not in ("cpu", "auto")
        ):
            return None
        biggest = np.abs(X).max()
        if not biggest <= np.finfo(np.float32).max:  # NaN, inf, too big
            return None
        device = self._device(training=False)
        if device != "cpu":
            return None
        x = torch.tensor(X if X.ndim == 3 else X[:, :, None], dtype=torch.float32)
        module = ready(self.module_, device)
        # what ``forward`` does for a CPU batch without lengths, less its
        # wrapper (a served request pays for every call; double() reads
        # bfloat16 outputs exactly as float() would)
        with torch.inference_mode(), autocast(device, PRECISIONS[self.precision]):
            out = module(x)
        return out.double().numpy()

    def _per_batch(self, sequences, fn) -> list:
        """``fn(module, x, lengths)`` for each inference batch, on the CPU."""
        batch_size = max(self.batch_size, 256)

        def need():  # asked only for more than one batch: a request pays nothing
            longest = int(sequences.bounds()[1].max())
            return block_bytes(module_kwargs(self), batch_size, longest)

        return run_batches(
            self.module_,
            SequenceDataset(sequences),
            self._device(training=False),
            batch_size=batch_size,
            dtype=PRECISIONS[self.precision],
            need=need,
            fn=fn,
        )

    def attention_weights(self, X):
        """Where the model looked: attention weights over each sequence's steps.

        Only for ``pooling="attention"``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps[, n_channels]), or list \
of arrays
            Sequences, as for ``predict``.

        Returns
        -------
        weights : ndarray of shape (n_samples, n_timesteps)
            Weights at each input time step; they sum to 1 over a sequence's
            valid steps and are 0 on padding (for a list of sequences,
            ``n_timesteps`` is the longest one).
        """
        check_is_fitted(self)
        if self.module_.pooling != "attention":
            raise ValueError(
                "attention_weights needs a model fitted with pooling='attention'; "
                f"this one was fitted with pooling={self.module_.pooling!r}."
            )
        sequences = self._validate_X(X)
        out = np.zeros((len(sequences), sequences.steps))
        _, lengths = sequences.bounds()
        leads = sequences.leads()
        start = 0
        for w in self._per_batch(sequences, attention_weights):
            rows = np.arange(start, start + len(w))
            steps = np.arange(w.shape[1])
            valid = steps < lengths[rows, None]
            cols = leads[rows, None] + steps
            out[np.broadcast_to(rows[:, None], valid.shape)[valid], cols[valid]] = (
                w.double().numpy()[valid]
            )
            start += len(w)
        return out

    def _device(self, training=True):
        return resolve_device(self.device, training)

    # -- introspection ---------------------------------------------------------------

    def summary(self):
        """Describe the fitted network layer by layer, like Keras's ``summary()``.

        Returns
        -------
        table : str
            One row per layer with its output shape and parameter count, then the
            total.
        """
        check_is_fitted(self)
        from ._summary import summarize

        return summarize(self.module_, self.n_features_in_)

    def __getstate__(self):
        state = self.__dict__.copy()
        module = state.get("module_")
        if module is not None and any(p.is_cuda for p in module.parameters()):
            # pickles from a GPU must load on a machine without one
            state["module_"] = copy.deepcopy(module).cpu()
            state["_optimizer_state"] = to_cpu(state.get("_optimizer_state"))
        return state
