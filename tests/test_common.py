"""scikit-learn's common estimator checks on small, fast instances."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklstm import LSTMClassifier, LSTMRegressor

FAST = dict(hidden_size=4, max_epochs=3, batch_size=1024, random_state=0)

EXPECTED_FAILED = {
    "check_n_features_in_after_fitting": (
        "X.shape[1] is the sequence length, which may legitimately differ "
        "between fit and predict; only the channel count must match"
    ),
    "check_estimators_partial_fit_n_features": (
        "partial_fit accepts sequences of another length, as predict does; only "
        "the channel count must match"
    ),
    "check_estimators_nan_inf": (
        "for 2-D univariate input a NaN at X[0, 0] is leading padding of sample 0 "
        "by design; NaN inside a sequence and inf are refused (tests/test_inputs.py)"
    ),
}

CLASSIFIER_FAILED = {
    "check_classifiers_train": (
        "asserts that predict refuses X.shape[1] != n_features_in_, which is the "
        "sequence length here and may differ; its other assertions are covered "
        "in tests/test_classifier.py"
    ),
}


def _expected_failed(estimator):
    if isinstance(estimator, LSTMClassifier):
        return {**EXPECTED_FAILED, **CLASSIFIER_FAILED}
    return EXPECTED_FAILED


@parametrize_with_checks(
    [LSTMRegressor(**FAST), LSTMClassifier(**FAST)],
    expected_failed_checks=_expected_failed,
)
def test_sklearn_compatible_estimator(estimator, check):
    """Check that the estimators pass scikit-learn's common checks."""
    check(estimator)
