"""export_onnx: onnxruntime's outputs equal predict / predict_proba (sklstm[onnx])."""

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from sklearn.pipeline import make_pipeline  # noqa: E402

from sklstm import (  # noqa: E402
    LSTMClassifier,
    LSTMRegressor,
    SequenceScaler,
    export_onnx,
    make_windows,
)

SERIES = np.sin(np.arange(200) / 5) + np.arange(200) / 200
X, Y = make_windows(SERIES, 16, horizon=2)
X = np.array(X, dtype=np.float32)


def _run(model, tmp_path, x):
    session = ort.InferenceSession(str(export_onnx(model, tmp_path / "m.onnx")))
    return session.run(None, {"x": x})[0]


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"cell": "gru", "num_layers": 2},
        {"bidirectional": True},
        {"pooling": "attention"},
        {"pooling": "max", "scaling": "both"},
        {"fcn_channels": (4, 4, 4), "squeeze_excite": True},
        {"conv_channels": (4,)},
        {"scaling": None, "pooling": "mean"},
        {"loss": "pinball"},
    ],
    ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()) or "defaults",
)
def test_the_graph_predicts_what_predict_does(kw, tmp_path):
    """Check every architecture option at the training length and at another
    length (the steps axis is dynamic), within 1e-5."""
    model = LSTMRegressor(hidden_size=8, max_epochs=1, random_state=0, **kw).fit(X, Y)
    predict = model.predict_quantiles if "loss" in kw else model.predict
    np.testing.assert_allclose(
        _run(model, tmp_path, X[:40]), predict(X[:40]), atol=1e-5
    )
    shorter = np.ascontiguousarray(X[:9, 4:])
    np.testing.assert_allclose(
        _run(model, tmp_path, shorter), predict(shorter), atol=1e-5
    )


def test_a_classifier_graph_gives_predict_proba_and_downsampling_fixes_the_steps(
    tmp_path,
):
    """Check a classifier's probabilities and a downsampling model (its steps
    fixed at the training length)."""
    labels = np.where(Y[:, 0] > 1, "up", "down")
    classifier = LSTMClassifier(hidden_size=8, max_epochs=1, random_state=0).fit(
        X, labels
    )
    np.testing.assert_allclose(
        _run(classifier, tmp_path, X[:30]), classifier.predict_proba(X[:30]), atol=1e-5
    )
    # 16 steps in runs of 3: the last run is short (an exported graph once
    # rounded the runs down and failed at run time)
    coarse = LSTMRegressor(hidden_size=8, max_epochs=1, downsample=3).fit(X, Y)
    np.testing.assert_allclose(
        _run(coarse, tmp_path, X[:30]), coarse.predict(X[:30]), atol=1e-5
    )
    branch = LSTMRegressor(
        hidden_size=8,
        max_epochs=1,
        fcn_channels=(4,),
        fcn_kernel_sizes=(3,),
        fcn_downsample=3,
    ).fit(X, Y)
    np.testing.assert_allclose(
        _run(branch, tmp_path, X[:30]), branch.predict(X[:30]), atol=1e-5
    )


def test_what_cannot_be_exported_is_named(tmp_path):
    """Check that a pipeline is refused with the steps to run in Python, and a
    non-sklstm estimator and an unfitted model get clear errors."""
    pipe = make_pipeline(SequenceScaler(), LSTMRegressor(max_epochs=1)).fit(X, Y)
    with pytest.raises(ValueError, match=r"runs \['sequencescaler'\] before"):
        export_onnx(pipe, tmp_path / "p.onnx")
    np.testing.assert_allclose(
        _run(pipe[-1], tmp_path, pipe[:-1].transform(X[:5]).astype(np.float32)),
        pipe.predict(X[:5]),
        atol=1e-5,
    )
    from sklearn.exceptions import NotFittedError
    from sklearn.linear_model import Ridge

    with pytest.raises(TypeError, match="takes a fitted LSTMRegressor"):
        export_onnx(Ridge(), tmp_path / "r.onnx")
    with pytest.raises(NotFittedError):
        export_onnx(LSTMRegressor(), tmp_path / "u.onnx")
