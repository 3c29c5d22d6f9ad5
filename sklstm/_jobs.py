"""What the command's jobs share: reading tables, checking columns, writing files."""

from __future__ import annotations

import contextlib
import difflib
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


class InputError(ValueError):
    """Something the user gave the command is wrong: a file, a column, a value.

    The command prints the message and exits with status 2.
    """


def read_table(path, header=True):
    """Read a CSV file with pandas, turning every way it can fail into InputError.

    ``header=False``: the file has no header row; columns are numbered 0, 1, ...
    """
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise InputError(f"No such file: {str(path)!r}.")
    if not path.is_file():
        raise InputError(f"{str(path)!r} is a folder; expected a CSV file.")
    try:
        table = pd.read_csv(path, header=0 if header else None)
    except pd.errors.EmptyDataError:
        raise InputError(f"{str(path)!r} is empty; expected a CSV table.") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        reason = str(e).strip().splitlines()[0]
        raise InputError(
            f"{str(path)!r} could not be read as a CSV table ({reason})."
        ) from None
    if table.empty:
        raise InputError(f"{str(path)!r} has a header but no rows.")
    return table


def check_column(table, name, what, source, no_header_option=False):
    """The column ``name`` of ``table``, or an InputError listing the columns
    (and, when the header looks like data, saying a header was expected)."""
    if name in table.columns:
        return table[name]
    columns = [str(c) for c in table.columns]
    lower = {c.lower(): c for c in columns}
    close = difflib.get_close_matches(str(name).lower(), list(lower), n=1)
    hint = f" Did you mean {lower[close[0]]!r}?" if close else ""
    if sum(_is_number(c) for c in columns) > len(columns) / 2:
        hint = (
            " Its first row looks like data, not a header: a header row naming "
            "the columns was expected."
        )
        if no_header_option:
            hint += (
                " For a file without one (as the UCR archive ships them) pass "
                "--no-header; columns are then numbered 0, 1, ... (--no-header "
                "--label 0 for the UCR layout)."
            )
    shown = columns if len(columns) <= 8 else [*columns[:6], "...", columns[-1]]
    listed = ", ".join(repr(c) if c != "..." else c for c in shown)
    raise InputError(
        f"{source} has no column {name!r} for {what}; its {len(columns)} columns "
        f"are {listed}.{hint}"
    )


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def numeric_column(column, what, source):
    """``column`` as float64, or an InputError naming the first bad value."""
    import pandas as pd

    values = pd.to_numeric(column, errors="coerce")
    bad = values.isna() & column.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"The {what} column {column.name!r} of {source} must be numeric; row "
            f"{row} holds {_excerpt(column.iloc[row])}."
        )
    missing = values.isna()
    if missing.any():
        rows = np.flatnonzero(missing.to_numpy())
        raise InputError(
            f"The {what} column {column.name!r} of {source} has {len(rows)} missing "
            f"value(s), the first in row {int(rows[0])}; fill them first (for "
            "example with pandas' interpolate()) or drop those rows."
        )
    values = values.to_numpy(dtype=np.float64)
    huge = ~(np.abs(values) <= MAX_VALUE)
    if huge.any():
        row = int(np.flatnonzero(huge)[0])
        raise InputError(
            f"The {what} column {column.name!r} of {source} holds "
            f"{_excerpt(values[row])} in row {row}; expected finite values below "
            f"{MAX_VALUE:.0e} in magnitude."
        )
    return values


MAX_VALUE = 1e300  # beyond it, statistics of a column overflow float64


def _excerpt(value, limit=40) -> str:
    """A value as text, cut to ``limit`` characters for error messages."""
    text = repr(value.item() if hasattr(value, "item") else value)
    return text if len(text) <= limit else text[:limit] + "…"


def finite_or_none(value):
    """A float for JSON, with NaN and infinity as None."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


@contextlib.contextmanager
def replacing(path):
    """Yield a temporary path beside ``path``; on success it replaces ``path``.

    On any failure the temporary file is removed and ``path`` is left as it
    was, so a crash never leaves half a file where a good one was. A symlink
    is written through (its target is replaced, as editors do); anything else
    that is not a regular file (a folder, a device, a FIFO) is refused.
    Temporaries of the same target left by a killed earlier write (more than
    an hour old) are removed first.
    """
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()
    if path.exists() and not path.is_file():
        raise IsADirectoryError(
            f"{str(path)!r} exists and is not a regular file; expected a file path "
            "to write to."
        )
    _clean_stale(path)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield tmp
        mask = os.umask(0)  # mkstemp makes the file private; give it the usual mode
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


STALE_SECONDS = 3600  # a temporary older than this is a killed write's


def _clean_stale(path):
    """Remove temporaries ``replacing`` left beside ``path`` when killed."""
    import glob
    import time

    now = time.time()
    for old in path.parent.glob(f"{glob.escape(path.name)}.*.tmp"):
        try:
            if now - old.stat().st_mtime > STALE_SECONDS and old.is_file():
                old.unlink()
        except OSError:
            pass  # another process's, or gone already


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
