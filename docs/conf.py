"""Sphinx configuration for sklstm's documentation (``make docs``)."""

import sklstm

project = "sklstm"
author = "the sklstm developers"
copyright = "2026, the sklstm developers"  # noqa: A001 - Sphinx's name
version = release = sklstm.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
templates_path = ["_templates"]
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

autosummary_generate = True
# scikit-learn's own methods (score, get_params, metadata routing, ...) are
# documented by scikit-learn; their docstrings point into its glossary.
_SKLEARN_METHODS = [
    "score",
    "get_params",
    "set_params",
    "get_metadata_routing",
    "fit_transform",
    "set_output",
] + [
    f"set_{m}_request"
    for m in ("fit", "partial_fit", "score", "predict", "predict_proba", "transform")
]
autodoc_default_options = {
    "members": True,
    "inherited-members": False,
    "exclude-members": ",".join(_SKLEARN_METHODS),
}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Fail the build (-W) when a docstring's Parameters do not match its signature.
numpydoc_validation_checks = {"PR01", "PR02", "PR03", "PR10"}
numpydoc_validation_exclude = {
    r"\.set_\w+_request$",
    r"PartialFitPipeline\.(?!partial_fit)",
}
numpydoc_xref_param_type = False

intersphinx_mapping = {}  # the build runs offline; links to other projects are URLs
html_theme = "alabaster"
html_theme_options = {"description": "LSTM networks in scikit-learn's idiom"}


def _write_cli_help(app):
    """Write each command's --help into _generated/, for cli.md to include."""
    import os
    from pathlib import Path

    from sklstm.cli.main import _parser

    os.environ["COLUMNS"] = "88"  # argparse wraps to the terminal's width
    out = Path(app.srcdir) / "_generated"
    out.mkdir(exist_ok=True)
    parser = _parser()
    commands = parser._subparsers._group_actions[0].choices
    (out / "sklstm-help.txt").write_text(parser.format_help())
    for name, sub in commands.items():
        (out / f"sklstm-{name}-help.txt").write_text(sub.format_help())


def setup(app):
    app.connect("builder-inited", _write_cli_help)
