"""plot_attention: the heatmap shows exactly attention_weights, padding at 0."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from sklstm import LSTMClassifier, LSTMRegressor, SequenceScaler, plot_attention

rng = np.random.default_rng(0)
X = rng.normal(size=(24, 9, 2))
X[:4, :3] = np.nan  # leading padding
y = (X[:, -1, 0] > 0).astype(int)


def test_heatmap_shows_the_attention_weights():
    """Check that the heatmap shows exactly attention_weights, with padding at 0."""
    clf = LSTMClassifier(4, pooling="attention", max_epochs=2, random_state=0)
    clf.fit(X, y)
    ax = plot_attention(clf, X, max_sequences=10)
    shown = ax.images[0].get_array()
    np.testing.assert_allclose(shown, clf.attention_weights(X[:10]))
    assert shown.shape == (10, 9) and np.all(shown[:4, :3] == 0)
    assert ax.figure.axes[-1].get_ylabel() == "attention weight"


def test_a_pipeline_transforms_first():
    """Check that plotting a pipeline's attention applies its transforms first."""
    pipe = make_pipeline(
        SequenceScaler(),
        LSTMRegressor(4, pooling="attention", max_epochs=2, random_state=0),
    ).fit(X * 100, y)
    shown = plot_attention(pipe, X * 100).images[0].get_array()
    np.testing.assert_allclose(
        shown, pipe[-1].attention_weights(pipe[0].transform(X * 100))
    )


def test_needs_attention_pooling():
    """Check that plot_attention refuses a model without attention pooling."""
    clf = LSTMClassifier(4, max_epochs=1, random_state=0).fit(X, y)
    with pytest.raises(
        ValueError, match="pooling='attention'; got LSTMClassifier with pooling='last'"
    ):
        plot_attention(clf, X)
