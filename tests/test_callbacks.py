"""skorch's own callbacks through the estimators' ``callbacks`` parameter."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from skorch.callbacks import Callback, Checkpoint, LRScheduler

import sklstm
from sklstm import LSTMClassifier, LSTMRegressor

FAST = dict(hidden_size=4, max_epochs=4, random_state=0)
rng = np.random.default_rng(0)
X = rng.normal(size=(40, 6, 2))
Y = X[:, -1, 0]


class Recorder(Callback):
    """A logger: what a TensorBoard or MLflow callback would see."""

    def initialize(self):
        self.epochs_ = []
        return self

    def on_epoch_end(self, net, **kwargs):
        self.epochs_.append(net.history[-1, "train_loss"])


def test_a_logger_sees_every_epoch_the_last_included():
    """Check that a user's skorch callback runs in every epoch of fit and of
    each partial_fit, with the losses history_ records."""
    recorder = Recorder()
    est = LSTMRegressor(**FAST, callbacks=[recorder]).fit(X, Y)
    assert recorder.epochs_ == pytest.approx(est.loss_curve_)
    est.partial_fit(X, Y)
    assert recorder.epochs_ == pytest.approx(est.loss_curve_[-1:])
    assert "callbacks" in est.get_params() and clone(est).callbacks is not None


def test_skorchs_lr_scheduler_and_checkpoint_work(tmp_path):
    """Check that skorch's LRScheduler steps the learning rate sklstm trains
    with and that its Checkpoint writes the parameters of the best epoch."""
    schedule = LRScheduler(policy="StepLR", step_size=1, gamma=0.5)
    checkpoint = Checkpoint(monitor="train_loss_best", dirname=str(tmp_path))
    est = LSTMClassifier(
        **FAST, callbacks=[("halve", schedule), checkpoint], lr_schedule=None
    ).fit(X, Y > 0)
    lrs = [h["lr"] for h in est.history_ if "lr" in h]
    assert lrs[:3] == pytest.approx([1e-3, 5e-4, 2.5e-4])
    assert (tmp_path / "params.pt").stat().st_size > 0


def test_bad_callbacks_are_refused_and_not_saved(tmp_path):
    """Check that something that is not a skorch callback, or a name sklstm
    uses, is a clear error, and that save leaves callbacks out with a warning."""
    with pytest.raises(TypeError, match=r"callbacks\[0\] is a str; expected a skorch"):
        LSTMRegressor(**FAST, callbacks=["log"]).fit(X, Y)
    with pytest.raises(ValueError, match="may not be named \\['monitor'\\]"):
        LSTMRegressor(**FAST, callbacks=[("monitor", Recorder())]).fit(X, Y)
    est = LSTMRegressor(**FAST, callbacks=[Recorder()]).fit(X, Y)
    with pytest.warns(UserWarning, match="does not store the estimator's skorch"):
        path = sklstm.save(est, tmp_path / "m.sklstm")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = sklstm.load(path)
    assert back.callbacks is None
    np.testing.assert_array_equal(back.predict(X), est.predict(X))


# skorch's methods that SequenceNet overrides, with the parameters they have in
# the skorch sklstm is tested with (constraints.txt): if skorch renames or
# reshapes one, the override may silently stop being called or misread its
# arguments (1.4 added fit_loop's _routing_method, which the CUDA-graph step
# must not pass on to the network)
OVERRIDDEN = {
    "fit_loop": ["self", "X", "y", "epochs", "_routing_method", "fit_params"],
    "train_step": ["self", "batch", "fit_params"],
    "get_default_callbacks": ["self"],
    "_set_training": ["self", "training"],
    "run_single_epoch": [
        "self",
        "iterator",
        "training",
        "prefix",
        "step_fn",
        "fit_params",
    ],
    "infer": ["self", "x", "fit_params"],
    "get_loss": ["self", "y_pred", "y_true", "X", "training"],
}


def test_the_skorch_methods_sklstm_overrides_are_still_skorchs():
    """Check that every skorch method SequenceNet overrides still exists in the
    installed skorch with the parameters the override was written for, and
    that skorch still calls callbacks through notify and records history rows
    the way sklstm reads them (a change there must fail here, not in users'
    fits)."""
    import inspect

    from skorch import NeuralNet

    from sklstm._training import SequenceNet

    for name, params in OVERRIDDEN.items():
        assert name in vars(SequenceNet), f"SequenceNet no longer overrides {name}"
        theirs = list(inspect.signature(getattr(NeuralNet, name)).parameters)
        assert theirs == params, f"skorch's NeuralNet.{name} is now {theirs}"
    recorder = Recorder()
    est = LSTMRegressor(**FAST, callbacks=[recorder]).fit(X, Y)
    assert len(recorder.epochs_) == est.n_iter_ == len(est.history_)
    assert {"epoch", "train_loss", "dur", "lr"} <= set(est.history_[0])
