"""sklstm models logged to MLflow as .sklstm files and loaded back (sklstm[mlflow])."""

import numpy as np
import pytest

mlflow = pytest.importorskip("mlflow")

from sklearn.pipeline import make_pipeline  # noqa: E402

import sklstm.mlflow  # noqa: E402
from sklstm import LSTMClassifier, LSTMRegressor, SequenceScaler  # noqa: E402


@pytest.fixture
def tracking(tmp_path, monkeypatch):
    """A local tracking store in a temporary folder."""
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/mlflow.db")
    mlflow.set_experiment("sklstm")
    yield tmp_path
    mlflow.set_tracking_uri(None)


def test_log_load_predict_equals_the_model(
    tracking, small_regression, small_classification
):
    """Check that a regressor pipeline and a classifier logged with
    sklstm.mlflow.log_model predict exactly as before after
    mlflow.pyfunc.load_model, predict_proba through params, and that the run
    stores a .sklstm file, not a pickle of the model."""
    X, y = small_regression
    regressor = make_pipeline(
        SequenceScaler(), LSTMRegressor(hidden_size=4, max_epochs=2, random_state=0)
    ).fit(X, y)
    Xc, yc = small_classification
    classifier = LSTMClassifier(hidden_size=4, max_epochs=2, random_state=0).fit(Xc, yc)
    with mlflow.start_run():
        info = sklstm.mlflow.log_model(regressor, name="regressor")
        info_c = sklstm.mlflow.log_model(classifier, name="classifier")
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    np.testing.assert_array_equal(loaded.predict(X), regressor.predict(X))
    loaded_c = mlflow.pyfunc.load_model(info_c.model_uri)
    np.testing.assert_array_equal(loaded_c.predict(Xc), classifier.predict(Xc))
    np.testing.assert_array_equal(
        loaded_c.predict(Xc, params={"method": "predict_proba"}),
        classifier.predict_proba(Xc),
    )
    files = [p.name for p in tracking.rglob("*") if p.is_file()]
    assert "model.sklstm" in files
    assert not [f for f in files if f.endswith(".pkl")]  # no pickle of anything
    with pytest.raises(ValueError, match="params\\['method'\\] must be"):
        loaded_c.predict(Xc, params={"method": "fit"})
