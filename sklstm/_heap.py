"""Keep freed memory in the process while sklstm trains (glibc only).

torch's CPU LSTM allocates its training workspace afresh for every batch: two
blocks of 48 MiB per step for two layers of 64 units over 50 steps of 256
windows. glibc's malloc serves blocks that size with ``mmap`` and returns them
with ``munmap`` when they are freed (its threshold stops at 32 MiB), so the
kernel maps and zeroes the same pages again for the next batch: 14,854 page
faults, and half of every training step, measured.

Inside :func:`heap_pad` the heap holds a pad of free memory, and big blocks
are carved from it and reused; what does not fit is mapped as before. The pad
is made with plain ``malloc`` and ``free``, no ``mallopt``: the heap is grown
in pieces below any mmap threshold, all but the highest piece are freed (they
merge into one free chunk), and the highest stays allocated as a fence that
keeps glibc from trimming the free chunk. On leaving, the fence is freed, the
free memory merges into the heap's top and goes back to the system
(``malloc_trim``); glibc's settings and its own adaptation of its thresholds
are never touched, so nothing outlasts the call. What this added to a fit's
peak memory stayed below the pad in every run measured (``benchmarks/heap.py``,
``benchmarks/windows.py``); the pad is virtual until touched, but for the
header of each piece (about 3 % of it).

sklstm pads only where the network runs on the CPU: on a GPU the big
blocks are the device's, and the host's heap is left alone.

Only the main thread's allocations come from the heap that glibc pads (other
threads get arenas of at most 64 MiB, whose big blocks are always mapped), so
in other threads this does nothing.

The pad is ``sklstm.set_config(heap_pad_mb=...)`` MiB when set, else
``SKLSTM_HEAP_PAD_MB`` MiB when that is set (0 turns this off), else 1024 MiB or
an eighth of the memory limit, whichever is less. Without glibc
(macOS, Windows, musl) this does nothing.
"""

from __future__ import annotations

import ctypes
import os
import platform
import threading
from contextlib import contextmanager

MIB = 1 << 20
DEFAULT_PAD_MB = 1024
MAX_PAD_MB = 2047
# below glibc's lowest mmap threshold (128 KiB), so each piece is from the heap
PIECE = 120 * 1024
# glibc reuses blocks up to its highest mmap threshold (32 MiB) by itself;
# work whose blocks stay below this is not padded
SMALL_BLOCK = 16 * MIB
CGROUP_LIMITS = (
    "/sys/fs/cgroup/memory.max",  # cgroup v2
    "/sys/fs/cgroup/memory/memory.limit_in_bytes",  # v1
)

_lock = threading.Lock()
_depth = 0  # heap_pad blocks open (nested: a fit inside a pipeline's fit)
_fence = None  # the live chunk above the pad while one is open
_libc = None


def memory_limit() -> int | None:
    """Bytes this process may use: the machine's memory or its cgroup's limit."""
    limits = []
    try:
        limits.append(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        pass
    for path in CGROUP_LIMITS:
        try:
            with open(path) as file:
                limits.append(int(file.read()))  # "max" (no limit) fails here
        except (OSError, ValueError):
            pass
    return min(limits) if limits else None


def pad_bytes() -> int:
    """The pad in bytes: ``sklstm.set_config(heap_pad_mb=...)``, else
    ``SKLSTM_HEAP_PAD_MB``, else the default; 0 turns it off."""
    from ._config import get_config

    chosen = get_config()["heap_pad_mb"]
    if chosen is not None:
        return chosen * MIB
    raw = os.environ.get("SKLSTM_HEAP_PAD_MB")
    if raw is None:
        limit = memory_limit()
        default = DEFAULT_PAD_MB * MIB
        return default if limit is None else min(default, limit // 8)
    try:
        megabytes = int(raw)
    except ValueError:
        megabytes = -1
    if not 0 <= megabytes <= MAX_PAD_MB:
        raise ValueError(
            f"SKLSTM_HEAP_PAD_MB must be a whole number of MiB from 0 (off) to "
            f"{MAX_PAD_MB}, got {raw!r}"
        )
    return megabytes * MIB


def _glibc():
    """The C library when it is glibc, else None."""
    global _libc
    if _libc is None:
        _libc = False
        if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
            try:
                libc = ctypes.CDLL("libc.so.6")
            except OSError:
                pass
            else:
                libc.malloc.restype = ctypes.c_void_p
                libc.malloc.argtypes = [ctypes.c_size_t]
                libc.free.argtypes = [ctypes.c_void_p]
                libc.malloc_trim.argtypes = [ctypes.c_size_t]
                _libc = libc
    return _libc or None


def _reserve(libc, pad):
    """Grow the heap by ``pad`` bytes and leave them free below one live chunk.

    The pad is allocated in pieces small enough to come from the heap at any
    mmap threshold glibc may be at (its lowest is 128 KiB), so no setting is
    touched; all but the highest piece are freed again and merge into one free
    chunk, which the live piece (the fence) keeps from being trimmed. Big
    blocks are then carved from that free chunk rather than mapped. Returns the
    fence, to free on leaving.
    """
    # the list is made whole first: grown while the pieces are taken, its
    # buffers would land between them and split the free chunk
    pieces = [0] * (pad // PIECE)
    for i in range(len(pieces)):
        pieces[i] = libc.malloc(PIECE)
    pieces = [p for p in pieces if p]
    if not pieces:
        return None
    fence = max(pieces)
    for piece in pieces:
        if piece != fence:
            libc.free(piece)
    return fence


@contextmanager
def heap_pad(need=None):
    """Keep up to :func:`pad_bytes` of freed memory in the heap within the block.

    ``need``: the largest block the work is expected to ask for, in bytes;
    below :data:`SMALL_BLOCK` glibc's own adaptive threshold serves it well
    and nothing is done (padding costs about 26 ms a GiB).
    """
    global _depth, _fence
    pad = pad_bytes() if need is None or need >= SMALL_BLOCK else 0
    libc = _glibc() if pad else None
    if libc is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    with _lock:
        _depth += 1
        if _depth == 1:
            _fence = _reserve(libc, pad)
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _fence is not None:
                libc.free(_fence)  # the free chunk merges into the top: trimmed
                _fence = None
                libc.malloc_trim(0)
