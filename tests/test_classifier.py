import numpy as np
import pytest
from sklearn.base import clone

from sklstm import LSTMClassifier
from sklstm.datasets import load_gunpoint, load_japanese_vowels

FAST = dict(hidden_size=8, max_epochs=3, batch_size=16, random_state=0)


def test_gunpoint_defaults_beat_95_percent():
    """Check that the untouched defaults beat 95 % on GunPoint's official test
    split (1.000 measured; 1-NN DTW scores 0.907)."""
    X, y = load_gunpoint(split="train")
    X_test, y_test = load_gunpoint(split="test")
    clf = LSTMClassifier(random_state=0).fit(X, y)
    assert clf.score(X_test, y_test) > 0.95


def test_string_labels_and_probabilities(small_classification):
    """Check that any labels work: classes_ in order, probabilities summing to 1."""
    X, y = small_classification
    clf = LSTMClassifier(**FAST).fit(X, y)
    assert list(clf.classes_) == ["down", "up"]
    proba = clf.predict_proba(X)
    assert proba.shape == (60, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    pred = clf.predict(X)
    assert pred.shape == (60,) and set(pred) <= {"down", "up"}
    np.testing.assert_array_equal(pred, clf.classes_[proba.argmax(axis=1)])


def test_learns_a_simple_rule(small_classification):
    """Check that a learnable rule is learned (training accuracy well above chance)."""
    X, y = small_classification
    clf = LSTMClassifier(16, max_epochs=60, lr=1e-2, random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.9


def test_multiclass_integer_labels():
    """Check that three integer classes give three sorted classes and probabilities."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(90, 6))
    y = np.digitize(X.mean(axis=1), [-0.2, 0.2]) * 10
    clf = LSTMClassifier(**FAST).fit(X, y)
    assert list(clf.classes_) == [0, 10, 20]
    assert clf.predict_proba(X).shape == (90, 3)


def test_one_class_is_refused():
    """Check that the error for a single class names the class."""
    X = np.zeros((10, 5))
    with pytest.raises(ValueError, match="at least 2 classes; got 1 class \\('a'\\)"):
        LSTMClassifier(**FAST).fit(X, ["a"] * 10)


def test_continuous_target_is_refused():
    """Check that a regression target is refused with sklearn's message."""
    X = np.zeros((10, 5))
    with pytest.raises(ValueError, match="Unknown label type"):
        LSTMClassifier(**FAST).fit(X, np.linspace(0, 1, 10))


def test_partial_fit_needs_classes_first(small_classification):
    """Check that partial_fit asks for classes, then accepts batches lacking some."""
    X, y = small_classification
    clf = LSTMClassifier(**FAST)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[y == "up"], y[y == "up"], classes=["down", "up", "sideways"])
    assert list(clf.classes_) == ["down", "sideways", "up"]
    clf.partial_fit(X, y)
    assert clf.n_iter_ == 2 and clf.predict_proba(X).shape == (60, 3)
    with pytest.raises(ValueError, match="not among the classes"):
        clf.partial_fit(X, np.where(y == "up", "left", y))


def test_partial_fit_classes_do_not_leak_into_fit(small_classification):
    """Check that a later fit learns classes from y, not an earlier partial_fit."""
    X, y = small_classification
    clf = LSTMClassifier(**FAST)
    with pytest.raises(ValueError):
        clf.partial_fit(X[:, :, :1], y, classes=["a", "b"])  # labels not in classes
    clf.fit(X, y)
    assert list(clf.classes_) == ["down", "up"]


@pytest.mark.parametrize("class_weight", ["balanced", {"down": 1.0, "up": 5.0}])
def test_class_weight_shifts_predictions(class_weight):
    """Check that class weights favour the weighted class."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 6))
    y = np.array(["down"] * 64 + ["up"] * 16)
    plain = LSTMClassifier(**FAST).fit(X, y).predict_proba(X)[:, 1].mean()
    weighted = (
        LSTMClassifier(**FAST, class_weight=class_weight).fit(X, y).predict_proba(X)
    )
    assert weighted[:, 1].mean() > plain


def test_pickle_and_determinism(small_classification):
    """Check that the classifier is deterministic and survives pickling."""
    import pickle

    X, y = small_classification
    a = LSTMClassifier(**FAST).fit(X, y)
    b = clone(a).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    c = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(a.predict_proba(X), c.predict_proba(X))
    np.testing.assert_array_equal(a.classes_, c.classes_)


def test_japanese_vowels_variable_length_beats_95_percent():
    """Check that the defaults score over 95 % on the official split of JapaneseVowels
    (ragged, 12 channels) on a 30-epoch budget (0.989 measured)."""
    X_train, y_train = load_japanese_vowels(split="train")
    X_test, y_test = load_japanese_vowels(split="test")
    assert len({len(s) for s in X_train}) > 1  # really variable length
    clf = LSTMClassifier(max_epochs=30, random_state=0)
    clf.fit(X_train, y_train)
    assert clf.score(X_test, y_test) > 0.95
