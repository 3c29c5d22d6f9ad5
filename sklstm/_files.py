"""Writing a file so that a failure never leaves half of it: a temporary
beside the target, renamed over it on success. Used by ``sklstm.save`` and by
the command line's outputs."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


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
