"""Public names are documented; docstring parameters match their signatures."""

import inspect
import re

import pytest

import sklstm
import sklstm.datasets
import sklstm.tuning

MODULES = [sklstm, sklstm.tuning, sklstm.datasets]
PUBLIC = [
    (module.__name__, name, getattr(module, name))
    for module in MODULES
    for name in module.__all__
    if not name.startswith("__")
]


def _documented_parameters(doc):
    """Names in the numpydoc 'Parameters' section (``a, b : type`` counts both)."""
    match = re.search(
        r"\n\s*Parameters\n\s*-+\n(.*?)(\n\s*\n\s*[A-Z][a-z]+\n\s*-+\n|\Z)", doc, re.S
    )
    if not match:
        return []
    names = []
    for line in match.group(1).splitlines():
        if line and not line[0].isspace():  # getdoc dedents: names at column 0
            head = line.split(" : ")[0].strip()
            names += [n.strip() for n in head.split(",")]
    return names


def _signature_parameters(obj):
    target = obj.__init__ if inspect.isclass(obj) else obj
    names = []
    for p in inspect.signature(target).parameters.values():
        if p.name == "self":
            continue
        names.append("**" + p.name if p.kind is p.VAR_KEYWORD else p.name)
    return names


@pytest.mark.parametrize(
    "module, name, obj", PUBLIC, ids=[f"{m}.{n}" for m, n, _ in PUBLIC]
)
def test_public_name_is_documented(module, name, obj):
    """Check that each public name has a real docstring (over 40 characters)."""
    doc = inspect.getdoc(obj)
    assert doc and len(doc) > 40, f"{module}.{name} has no real docstring"


CALLABLES = [
    p
    for p in PUBLIC
    if callable(p[2])
    and not isinstance(p[2], type(Exception))
    and not (inspect.isclass(p[2]) and issubclass(p[2], Exception))
]


@pytest.mark.parametrize(
    "module, name, obj", CALLABLES, ids=[f"{m}.{n}" for m, n, _ in CALLABLES]
)
def test_docstring_parameters_match_the_signature(module, name, obj):
    """Check that each public callable documents its parameters, in order."""
    documented = _documented_parameters(inspect.getdoc(obj))
    expected = _signature_parameters(obj)
    assert documented == expected, (
        f"{module}.{name}: documents {documented}, takes {expected}"
    )


METHODS = [
    (cls, method)
    for cls in (sklstm.LSTMRegressor, sklstm.LSTMClassifier)
    for method in ("fit", "partial_fit", "predict", "score", "predict_proba")
    + ("attention_weights", "summary")
    if hasattr(cls, method)
]


@pytest.mark.parametrize(
    "cls, method", METHODS, ids=[f"{c.__name__}.{m}" for c, m in METHODS]
)
def test_estimator_methods_document_their_parameters(cls, method):
    """Check that the estimators' public methods document exactly their parameters."""
    fn = getattr(cls, method)
    documented = _documented_parameters(inspect.getdoc(fn))
    assert documented == _signature_parameters(fn), f"{cls.__name__}.{method}"
