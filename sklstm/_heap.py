"""Keep freed memory in the process while sklstm trains (glibc only).

torch's CPU LSTM allocates its training workspace afresh for every batch: two
blocks of 48 MiB per step for two layers of 64 units over 50 steps of 256
windows. glibc's malloc serves blocks that size with ``mmap`` and returns them
with ``munmap`` when they are freed (its threshold stops at 32 MiB), so the
kernel maps and zeroes the same pages again for the next batch: 14,854 page
faults, and half of every training step, measured.

Inside :func:`heap_pad` glibc keeps a pad of free memory at the top of its heap
(``M_TOP_PAD``), and big blocks are carved from it and reused; what does not fit
is mapped as before. What this added to a fit's peak memory stayed below the
pad in every run measured (``benchmarks/heap.py``, ``benchmarks/windows.py``);
the pad is virtual until touched. On leaving, glibc's default pad comes back
and free memory is returned to the system (``malloc_trim``). Setting any of these
parameters stops glibc adapting its thresholds, so they are left where that
adaptation ends (a 32 MiB mmap threshold, 64 MiB trim threshold).

sklstm pads only where the network runs on the CPU: on a GPU the big
blocks are the device's, and the host's heap is left alone.

Only the main thread's allocations come from the heap that glibc pads (other
threads get arenas of at most 64 MiB, whose big blocks are always mapped), so
in other threads this does nothing.

The pad is ``SKLSTM_HEAP_PAD_MB`` MiB when that is set (0 turns this off), else
1024 MiB or an eighth of the memory limit, whichever is less. Without glibc
(macOS, Windows, musl) this does nothing.
"""

from __future__ import annotations

import ctypes
import os
import platform
import threading
from contextlib import contextmanager

# mallopt(3) parameter numbers
M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3
M_MMAP_MAX = -4

MIB = 1 << 20
DEFAULT_PAD_MB = 1024
MAX_PAD_MB = 2047  # mallopt takes a C int
GLIBC_TOP_PAD = 128 * 1024  # glibc's own default
GLIBC_MMAP_MAX = 32 * MIB  # the highest mmap threshold glibc accepts (64-bit)
GLIBC_MMAP_COUNT = 65536  # glibc's default M_MMAP_MAX
CGROUP_LIMITS = (
    "/sys/fs/cgroup/memory.max",  # cgroup v2
    "/sys/fs/cgroup/memory/memory.limit_in_bytes",  # v1
)

_lock = threading.Lock()
_depth = 0  # heap_pad blocks open (nested: a fit inside a pipeline's fit)
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
    """The pad in bytes; 0 when ``SKLSTM_HEAP_PAD_MB=0`` turns it off."""
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
                _libc = libc
    return _libc or None


@contextmanager
def heap_pad():
    """Keep up to :func:`pad_bytes` of freed memory in the heap within the block."""
    global _depth
    pad = pad_bytes()
    libc = _glibc() if pad else None
    if libc is None or threading.current_thread() is not threading.main_thread():
        yield
        return
    with _lock:
        _depth += 1
        if _depth == 1:
            libc.mallopt(M_MMAP_THRESHOLD, GLIBC_MMAP_MAX)
            libc.mallopt(M_TRIM_THRESHOLD, pad)
            libc.mallopt(M_TOP_PAD, pad)
            # Grow the heap's free top to the pad now: a block that must come
            # from the heap, freed at once (trimming keeps the pad).
            libc.mallopt(M_MMAP_MAX, 0)
            libc.free(libc.malloc(pad))
            libc.mallopt(M_MMAP_MAX, GLIBC_MMAP_COUNT)
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                libc.mallopt(M_TOP_PAD, GLIBC_TOP_PAD)
                libc.mallopt(M_TRIM_THRESHOLD, 2 * GLIBC_MMAP_MAX)
                libc.malloc_trim(0)
