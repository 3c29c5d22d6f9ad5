"""What the command writes and shows: files in --out, figures, progress."""

from __future__ import annotations

import contextlib
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from .._files import replacing
from .tables import InputError


def write_text(path, text):
    """Write ``text`` to ``path`` through a temporary file (see ``replacing``)."""
    with replacing(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path, data):
    """Write ``data`` as indented JSON (atomically)."""
    return write_text(path, json.dumps(data, indent=2, default=_plain) + "\n")


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def out_folder(out):
    """Create the output folder; an InputError when a file is in the way."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {str(out)!r} is a file; expected a folder.")
    out.mkdir(parents=True, exist_ok=True)
    return out


def progress(*, total, desc, enabled=True):
    """A tqdm bar on stderr, updated by hand; when bars are off, a plain line
    per step instead, so that a long run without bars still shows life."""
    if not enabled:
        return _PhaseLines(total, desc)
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=False, dynamic_ncols=True)


class _PhaseLines:
    """``progress`` without a bar: a line on stderr as the phase starts and
    as each of its steps ends, with the time since the start."""

    def __init__(self, total, desc):
        self.total, self.desc, self.done = total, desc, 0
        self.start = time.perf_counter()
        if total:
            _say(f"{desc}: {total} step(s)")

    def update(self, n=1):
        self.done += n
        elapsed = time.perf_counter() - self.start
        _say(f"{self.desc}: {self.done}/{self.total} done ({elapsed:.0f} s)")

    def close(self):
        pass


@contextlib.contextmanager
def phase(desc, enabled):
    """One line as a phase starts and one as it ends, when ``enabled``."""
    start = time.perf_counter()
    if enabled:
        _say(f"{desc} ...")
    yield
    if enabled:
        _say(f"{desc}: done ({time.perf_counter() - start:.0f} s)")


def _say(line):
    print(line, file=sys.stderr, flush=True)


def save_figure(fig, path):
    """Lay out, write as PNG and close a figure; returns the path."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def pyplot():
    """matplotlib's pyplot on the file-only Agg backend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def markdown_table(header, rows):
    """A GitHub Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def finite_or_none(value):
    """A float for JSON, with NaN and infinity as None."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
