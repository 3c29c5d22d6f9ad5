"""Reading the command's CSV tables, and the error for input that is wrong."""

from __future__ import annotations

import difflib
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
    raise InputError(
        f"{source} has no column {name!r} for {what}; its {len(columns)} columns "
        f"are {listed(columns)}.{hint}"
    )


def listed(columns) -> str:
    """Column names for a message: all of up to 8, else the first six, an
    ellipsis and the last."""
    columns = [str(c) for c in columns]
    if len(columns) <= 8:
        return ", ".join(map(repr, columns))
    return ", ".join([*map(repr, columns[:6]), "...", repr(columns[-1])])


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
