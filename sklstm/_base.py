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
import warnings

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

from ._data import (
    BatchIterator,
    SequenceDataset,
    TailSplit,
    normalised_weights,
    place,
)
from ._engine import (
    DEVICE,
    check_same_optimizer,
    cpu_pad,
    resolve_device,
    restore_rng,
    run_batches,
    save_rng,
    scheduler_state,
    to_cpu,
)
from ._inputs import read_sequences
from ._memory import check_allocation, network_bytes
from ._network import LSTMNetwork, attention_weights
from ._recipe import (
    AUTO_FCN,
    LSTM_STEPS,
    MIN_LR_FRACTION,
    auto_epochs,
    channel_statistics,
    validation_last,
)
from ._tokens import largest_id

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}

PRECISIONS = {"float32": None, "bfloat16": torch.bfloat16}

# parameters that shape the module; a warm start cannot change them
ARCHITECTURE = (
    "hidden_size",
    "num_layers",
    "bidirectional",
    "cell",
    "pooling",
    "conv_channels",
    "conv_kernel_size",
    "conv_batch_norm",
    "frame_pooling",
    "embedding_dim",
    "fcn_channels",
    "fcn_kernel_sizes",
    "squeeze_excite",
    "scaling",
    "downsample",
)


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


class TrainingDivergedError(FloatingPointError):
    """Training diverged (a non-finite loss, or a weight past 1e10); the last
    good weights are kept."""


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
            self._check_same_architecture()
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
            self._fitted_architecture = self._architecture()
            self._learn_scaling(sequences, y_enc, weight)
            self._downsample = self._steps_per_lstm_step(sequences)
            check_allocation(
                network_bytes(self._module_kwargs()),
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
        dataset = place(dataset, device)
        devices = [torch.cuda.current_device()] if device.startswith("cuda") else []
        _, lengths = sequences.bounds()
        need = self._block_bytes(self.batch_size, int(lengths.max()))
        # training runs on its own copy of torch's global random state
        with cpu_pad(device, need), torch.random.fork_rng(devices=devices):
            generator = torch.Generator()
            if reset:
                torch.manual_seed(self._seed)
                generator.manual_seed(self._seed)
            net = self._build_net(generator, incremental, device, n_epochs, n_valid)
            net.initialize()
            if reset:
                self._set_scaling(net.module_)
            else:
                net.module_.load_state_dict(self.module_.state_dict())
                if incremental and self._optimizer_state is not None:
                    check_same_optimizer(
                        net.optimizer_, self._optimizer_state, self.optimizer
                    )
                    net.optimizer_.load_state_dict(self._optimizer_state)
                # after initialize(), whose fresh weights drew random numbers, so
                # that continued training draws what one long fit would have
                restore_rng(self._rng_state, generator, devices)
            net.partial_fit(dataset, y=None, epochs=n_epochs)
            self._rng_state = save_rng(generator, devices)
            if not incremental and net.history:
                from ._training import refresh_batch_norm

                refresh_batch_norm(net.module_, dataset, self.batch_size)
        self.module_ = net.module_
        self._optimizer_state = net.optimizer_.state_dict()
        self._scheduler_state = scheduler_state(net)
        self._record(net, incremental=incremental)
        return self

    def _block_bytes(self, batch: int, steps: int) -> int:
        """A rough upper bound of the largest block one step of the fitted
        network asks of the allocator: the LSTM's workspace over a batch (four
        gates and their states per unit, layer and direction) or a convolution's
        unfolded input. It only decides whether the heap pad is worth making."""
        arch = self._module_kwargs()
        units = arch["hidden_size"] * arch["num_layers"] * (1 + arch["bidirectional"])
        lstm = batch * steps * units * 32
        channels = max((*arch["fcn_channels"], *arch["conv_channels"]), default=0)
        kernel = max((*arch["fcn_kernel_sizes"], arch["conv_kernel_size"]))
        return max(lstm, batch * steps * channels * kernel * 4)

    def _epochs(self, sequences) -> int:
        """``max_epochs``, or with ``"auto"`` a budget that adapts to the data."""
        if self.max_epochs != "auto":
            return self.max_epochs
        _, lengths = sequences.bounds()
        return auto_epochs(len(sequences), float(lengths.mean()), self.batch_size)

    def _steps_per_lstm_step(self, sequences) -> int:
        """``downsample``, or with ``"auto"`` the smallest factor that keeps the
        LSTM within LSTM_STEPS steps of the longest training sequence when a
        convolutional branch reads every step (else 1)."""
        if self.downsample != "auto":
            return self.downsample
        if not self._fcn_channels():
            return 1
        return max(1, math.ceil(sequences.steps / LSTM_STEPS))

    def _validation_groups(self, y):
        """Labels to stratify the validation split by (one group: none)."""
        return np.zeros(len(y))

    # -- input scaling ---------------------------------------------------------------

    def _learn_scaling(self, sequences, y, weight=None):
        """Learn the input scaling of ``scaling`` from the training data."""
        self._input_scaling = None
        self._per_sequence = ()
        self._target_channels = None
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

    def _link_targets(self, sequences, y, loc, scale, weight=None):
        """One input channel per output whose window each output is read
        relative to, or None (regressor only)."""
        return None

    def _set_scaling(self, module):
        if self._input_scaling is None:
            return
        loc, scale = self._input_scaling
        module.scaling.loc.copy_(torch.as_tensor(loc))
        module.scaling.scale.copy_(torch.as_tensor(scale))

    def _module_kwargs(self) -> dict:
        """The fitted model's ``LSTMNetwork`` arguments: its architecture as
        fitted, whatever ``set_params`` changed since."""
        arch = self._fitted_architecture
        return {
            "input_size": self.n_channels_in_,
            "output_size": self._n_model_outputs,
            "hidden_size": arch["hidden_size"],
            "num_layers": arch["num_layers"],
            "bidirectional": arch["bidirectional"],
            "cell": arch.get("cell", "lstm"),  # models saved before GRU: LSTM
            "dropout": self.dropout,
            "pooling": arch["pooling"],
            "conv_channels": arch["conv_channels"],
            "conv_kernel_size": arch["conv_kernel_size"],
            "conv_batch_norm": arch["conv_batch_norm"],
            "frame_pooling": arch["frame_pooling"],
            "frame_shape": self.frame_shape_,
            "vocab_size": self.vocab_size_,
            "embedding_dim": arch["embedding_dim"],
            "init": self.init,
            # models saved before the FCN branch and the scaling lack these
            "fcn_channels": arch.get("fcn_channels", ()),
            "fcn_kernel_sizes": arch.get("fcn_kernel_sizes", (8, 5, 3)),
            "squeeze_excite": arch.get("squeeze_excite", False),
            "input_scaling": getattr(self, "_input_scaling", None) is not None,
            "per_sequence": tuple(getattr(self, "_per_sequence", ())),
            "target_channels": _tuple_or_none(getattr(self, "_target_channels", None)),
            "downsample": getattr(self, "_downsample", 1),
            "both_scalings": arch.get("scaling") == "both",
            "anchor": "last" if arch.get("scaling") == "window" else "mean",
        }

    def _build_net(self, generator, incremental, device, epochs, n_valid=None):
        # skorch (about a second to import) is loaded by the first fit, not by
        # ``import sklstm``
        from ._training import Monitor, PlateauSchedule, ProgressBar, SequenceNet

        monitor_key = (
            "valid_loss" if self.early_stopping and not incremental else "train_loss"
        )
        callbacks = []
        if self.lr_schedule == "plateau":
            # before the monitor, which ends the last epoch by raising: the
            # schedule still records that epoch's learning rate
            callbacks.append(
                (
                    "lr_schedule",
                    PlateauSchedule(
                        monitor=monitor_key,
                        patience=max(1, self.n_iter_no_change // 2),
                        threshold=self.tol,
                        min_lr=self.lr * MIN_LR_FRACTION,
                        state=(
                            getattr(self, "_scheduler_state", None)
                            if incremental
                            else None
                        ),
                    ),
                )
            )
        # the user's skorch callbacks see every epoch, the last one included:
        # they run before the monitor, which ends the last epoch by raising
        callbacks += _user_callbacks(self.callbacks)
        callbacks.append(
            (
                "monitor",
                Monitor(
                    key=monitor_key,
                    tol=self.tol,
                    patience=None if incremental else self.n_iter_no_change,
                    restore_best=self.early_stopping and not incremental,
                ),
            )
        )
        if self.clip_grad_norm is not None:
            from skorch.callbacks import GradientNormClipping

            callbacks.append(("clip", GradientNormClipping(self.clip_grad_norm)))
        if self.verbose:
            callbacks.append(("progress", ProgressBar(epochs)))
        return SequenceNet(
            module=LSTMNetwork,
            **{f"module__{k}": v for k, v in self._module_kwargs().items()},
            criterion=self._criterion(),
            optimizer=OPTIMIZERS[self.optimizer],
            optimizer__weight_decay=self.weight_decay,
            lr=self.lr,
            batch_size=self.batch_size,
            max_epochs=epochs,
            iterator_train=BatchIterator,
            iterator_train__shuffle=self.shuffle,
            iterator_train__generator=generator,
            iterator_valid=BatchIterator,
            train_split=(
                TailSplit(self.validation_fraction, n_valid)
                if self.early_stopping and not incremental
                else None
            ),
            callbacks=callbacks,
            device=device,
            autocast=PRECISIONS[self.precision],
            cuda_graphs=True,
            verbose=0,
        )

    def _record(self, net, incremental=False):
        """Append the new epochs to ``history_`` and set the summary attributes.

        An interrupt that leaves no finished epoch of this call, or any
        interrupt of ``partial_fit``, raises ``KeyboardInterrupt`` (``_train``
        then puts the estimator back as it was, so a user's loop stops); so
        does a divergence in the first epoch of a call (as
        :class:`TrainingDivergedError`, with the model left as it was)."""
        monitor = dict(net.callbacks_)["monitor"]
        start = len(self.history_)
        self.history_ = list(self.history_)  # a new list: rollback keeps the old
        for i, row in enumerate(net.history):
            if "train_loss" not in row or "dur" not in row:
                continue  # an epoch that an interrupt cut short
            entry = {"epoch": start + i + 1, "train_loss": float(row["train_loss"])}
            if "valid_loss" in row:
                entry["valid_loss"] = float(row["valid_loss"])
            if "event_lr" in row:  # the learning rate this epoch trained with
                entry["lr"] = float(row["event_lr"])
            entry["dur"] = float(row["dur"])
            self.history_.append(entry)
        reason = monitor.stop_reason_
        if reason == "diverged":
            self.history_.pop()  # the non-finite epoch's weights were discarded
        if self.history_ and reason in ("diverged", "interrupted", "converged"):
            # a new dict: the one in history_ may be shared with a rollback copy
            self.history_[-1] = {**self.history_[-1], "stopped": reason}
        self.loss_curve_ = [h["train_loss"] for h in self.history_]
        self.n_iter_ = len(self.history_)
        key = "valid_loss" if self.early_stopping else "train_loss"
        scores = [h[key] for h in self.history_ if key in h]
        self.best_loss_ = min(scores) if scores else None
        finished = len(self.history_) - start  # epochs of this call
        if reason == "diverged":
            kept = (
                f"the weights of epoch {self.n_iter_} were kept"
                if finished
                else "the estimator was left as it was before this call"
            )
            error = TrainingDivergedError(
                f"Training diverged in epoch {self.n_iter_ + 1}: "
                f"{monitor.symptom_}; {kept}. Lower lr (now {self.lr}), set "
                "clip_grad_norm, or scale the inputs."
            )
            error.untrained = not finished
            raise error
        if reason == "interrupted" and (incremental or not finished):
            raise KeyboardInterrupt  # nothing of this call to keep: roll back
        if reason == "interrupted":
            warnings.warn(
                f"Training was interrupted; the weights of the last finished epoch "
                f"({self.n_iter_}) were kept.",
                UserWarning,
                stacklevel=4,
            )

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
            X, tokens=self.embedding_dim is not None, frames=bool(self._conv_channels())
        )
        # feature names and n_features_in_ (the time steps) as scikit-learn keeps
        # them; the sequence length may differ from fit, the channels may not
        names = original if hasattr(original, "columns") else X
        if reset or X.steps == self.n_features_in_:
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

    def _conv_channels(self) -> tuple:
        """``conv_channels`` as a tuple of positive ints, or a clear error."""
        return _positive_ints(
            self.conv_channels,
            "conv_channels",
            "output channels of each convolution, e.g. (32, 64)",
        )

    def _check_same_architecture(self):
        # models fitted before the GRU option have no "cell": they are LSTMs
        fitted = {"cell": "lstm", **self._fitted_architecture}
        now = self._architecture()
        changed = [p for p in ARCHITECTURE if now[p] != fitted[p]]
        if changed:
            raise ValueError(
                f"warm_start=True cannot change {', '.join(changed)} of a fitted "
                f"model (fitted with "
                f"{', '.join(f'{p}={fitted[p]!r}' for p in changed)}); set "
                "warm_start=False to train a new model."
            )

    def _architecture(self) -> dict:
        return {p: getattr(self, p) for p in ARCHITECTURE} | {
            "conv_channels": self._conv_channels(),
            "fcn_channels": self._fcn_channels(),
            "fcn_kernel_sizes": self._fcn_kernel_sizes(),
        }

    def _fcn_channels(self) -> tuple:
        """``fcn_channels`` as a tuple of positive ints, or a clear error;
        ``"auto"``: AUTO_FCN for numeric sequences, none for token ids and
        image sequences (their front ends embed or convolve already)."""
        if isinstance(self.fcn_channels, str):  # "auto", checked by then
            plain = self.embedding_dim is None and not getattr(
                self, "frame_shape_", None
            )
            return AUTO_FCN if plain else ()
        return _positive_ints(
            self.fcn_channels,
            "fcn_channels",
            "output channels of each block of the convolutional branch, e.g. "
            "(128, 256, 128), or () for none",
        )

    def _fcn_kernel_sizes(self) -> tuple:
        kernels = _positive_ints(
            self.fcn_kernel_sizes,
            "fcn_kernel_sizes",
            "one kernel size per block of the convolutional branch, e.g. (8, 5, 3)",
        )
        channels = self._fcn_channels()
        if channels and len(kernels) != len(channels):
            raise ValueError(
                f"fcn_kernel_sizes needs one kernel size per entry of fcn_channels: "
                f"got {len(kernels)} kernel sizes {kernels} for {len(channels)} "
                f"blocks {channels}."
            )
        return kernels

    # -- inference -----------------------------------------------------------------

    def _forward(self, X):
        """Raw network outputs for ``X`` as a float64 numpy array."""
        outputs = self._per_batch(self._validate_X(X), lambda m, x, n: m(x, n))
        return torch.cat(outputs).double().numpy()

    def _per_batch(self, sequences, fn) -> list:
        """``fn(module, x, lengths)`` for each inference batch, on the CPU."""
        batch_size = max(self.batch_size, 256)

        def need():  # asked only for more than one batch: a request pays nothing
            return self._block_bytes(batch_size, int(sequences.bounds()[1].max()))

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


def _user_callbacks(callbacks) -> list:
    """``callbacks`` as skorch's ``(name, callback)`` pairs, or a clear error."""
    from skorch.callbacks import Callback

    pairs = []
    for i, item in enumerate(callbacks or ()):
        name, callback = item if isinstance(item, tuple) else (None, item)
        if not isinstance(callback, Callback):
            raise TypeError(
                f"callbacks[{i}] is a {type(callback).__name__}; expected a skorch "
                "callback (skorch.callbacks.Callback) or a (name, callback) pair."
            )
        pairs.append((name or f"user_{i}_{type(callback).__name__}", callback))
    reserved = {"lr_schedule", "monitor", "clip", "progress", "epoch_timer"}
    clash = sorted({n for n, _ in pairs} & reserved)
    if clash:
        raise ValueError(f"callbacks may not be named {clash}: sklstm uses the names.")
    return pairs


def _positive_ints(value, name: str, meaning: str) -> tuple:
    """``value`` as a tuple of positive ints, or a ValueError naming ``name``."""
    values = tuple(value)
    if not all(isinstance(v, numbers.Integral) and v >= 1 for v in values):
        raise ValueError(
            f"{name} must be a sequence of positive ints ({meaning}); got {value!r}."
        )
    return tuple(int(v) for v in values)


def _tuple_or_none(value):
    return None if value is None else tuple(int(v) for v in value)
