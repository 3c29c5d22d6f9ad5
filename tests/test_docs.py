"""The documentation site builds without a warning and covers every public name."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_docstrings import PUBLIC

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_sphinx_builds_without_warnings(tmp_path):
    """Check that make docs builds with no Sphinx or numpydoc warning."""
    pytest.importorskip("sphinx")
    pytest.importorskip("numpydoc")
    pytest.importorskip("myst_parser")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            "-d",
            str(tmp_path / "doctrees"),
            str(DOCS),
            str(tmp_path / "html"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "html" / "generated" / "sklstm.LSTMRegressor.html").exists()
    cli = (tmp_path / "html" / "cli.html").read_text()
    assert "--trials" in cli and "--label" in cli  # the commands' own --help


def test_every_public_name_is_in_the_api_reference():
    """Check that every public name is listed in docs/api.rst."""
    listed = set(re.findall(r"^   (\w+)$", (DOCS / "api.rst").read_text(), re.M))
    public = {name for _, name, _ in PUBLIC if name != "__version__"}
    assert public - listed == set(), "add these to docs/api.rst"


def test_every_example_is_in_the_gallery():
    """Check that every numbered example script is linked from the examples gallery."""
    gallery = (DOCS / "examples.md").read_text()
    scripts = sorted(p.name for p in (DOCS.parent / "examples").glob("[0-9]*.py"))
    assert scripts and [s for s in scripts if f"../examples/{s}" not in gallery] == []


def test_every_user_guide_page_is_in_the_toctree():
    """Check that every user-guide page is in the toctree of docs/index.md."""
    index = (DOCS / "index.md").read_text()
    pages = {p.stem for p in DOCS.glob("*.md")} - {"index"}
    assert {p for p in pages if f"\n{p}\n" not in index} == set()
