"""StreamingPredictor: one observation at a time equals predict over the stream."""

import pickle

import numpy as np
import pytest

from sklstm import LSTMClassifier, LSTMRegressor, StreamingPredictor, make_windows

SERIES = np.sin(np.arange(160) / 5) + np.arange(160) / 160


def fitted(horizon=1, **kw):
    params = dict(hidden_size=8, max_epochs=1, random_state=0, scaling="channel")
    return LSTMRegressor(**(params | kw)).fit(
        *make_windows(SERIES, 12, horizon=horizon)
    )


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"scaling": None, "num_layers": 2},
        {"cell": "gru"},
        {"horizon": 3, "loss": "pinball"},
    ],
    ids=["lstm", "two-layers-unscaled", "gru", "horizon-3-quantiles"],
)
def test_each_update_equals_predict_over_the_stream_so_far(kw):
    """Check that the forecast after every new value equals predict over the
    whole stream so far, to 1e-6, with the rank of predict's output."""
    model = fitted(**kw)
    stream = StreamingPredictor(model)
    for t in range(60):
        got = stream.update(SERIES[t])
        expected = model.predict(SERIES[None, : t + 1, None])[0]
        np.testing.assert_allclose(got, expected, atol=1e-6, rtol=0)
    assert stream.n_seen_ == 60
    assert isinstance(got, float) if "horizon" not in kw else got.shape == (3,)


def test_several_channels_reset_and_pickle():
    """Check a two-channel stream, that reset starts afresh, and that a pickled
    predictor resumes the stream where it was."""
    table = np.c_[SERIES, np.cos(np.arange(160) / 7)]
    model = LSTMRegressor(
        hidden_size=8, max_epochs=1, random_state=0, scaling="channel"
    )
    model.fit(*make_windows(table, 12, target=0))
    stream = StreamingPredictor(model)
    for row in table[:30]:
        stream.update(row)
    copy = pickle.loads(pickle.dumps(stream))
    assert copy.update(table[30]) == stream.update(table[30])
    np.testing.assert_allclose(
        stream.update(table[31]), model.predict(table[None, :32])[0], atol=1e-6
    )
    stream.reset()
    assert stream.n_seen_ == 0
    np.testing.assert_allclose(
        stream.update(table[5]), model.predict(table[None, 5:6])[0], atol=1e-6
    )
    with pytest.raises(ValueError, match="one time step of 2 channel"):
        stream.update([1.0])
    with pytest.raises(ValueError, match="must be finite"):
        stream.update([np.nan, 1.0])
    with pytest.raises(TypeError, match="update expects a number"):
        stream.update(["a", "b"])


def test_models_that_read_whole_windows_are_refused():
    """Check that each part no step-by-step run can reproduce is named."""
    for kw, match in (
        ({"scaling": "window"}, "per-window or per-sequence input scaling"),
        ({"bidirectional": True}, "bidirectional=True"),
        ({"pooling": "mean"}, "pooling='mean'"),
        ({"fcn_channels": (4, 4, 4)}, "an FCN branch"),
        ({"conv_channels": (4,)}, "a convolutional front end"),
    ):
        with pytest.raises(ValueError, match=match):
            StreamingPredictor(fitted(**kw))
    X, y = make_windows(SERIES, 12)
    classifier = LSTMClassifier(hidden_size=4, max_epochs=1).fit(X, y > 1)
    with pytest.raises(TypeError, match="takes a fitted LSTMRegressor"):
        StreamingPredictor(classifier)
