"""The heap pad: freed blocks stay in the process while sklstm trains."""

import ctypes
import platform
import re
import resource
import threading
from contextlib import contextmanager

import numpy as np
import pytest

import sklstm._base
import sklstm._engine
import sklstm._heap
import sklstm._network
from sklstm import LSTMRegressor
from sklstm._heap import DEFAULT_PAD_MB, MIB, heap_pad, memory_limit, pad_bytes

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
needs_glibc = pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's")
BLOCK = 48 * MIB  # over glibc's largest mmap threshold: mmapped by default
PAGES = BLOCK // 4096


def _huge_pages_always() -> bool:
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as file:
            return "[always]" in file.read()
    except OSError:
        return False


# With transparent huge pages always on, a fresh mapping faults in 2 MiB pieces,
# so "every page faults again" cannot be told from "reused" by counting faults.
UNPADDED = 2 if _huge_pages_always() else PAGES // 2


def assert_unpadded():
    faults_of_a_fresh_block()
    assert faults_of_a_fresh_block() >= UNPADDED


def assert_padded():
    faults_of_a_fresh_block()  # the heap grows once
    assert faults_of_a_fresh_block() < PAGES // 10


def faults_of_a_fresh_block() -> int:
    """Page faults while a 48 MiB block is allocated, written and freed again."""
    libc = ctypes.CDLL("libc.so.6")  # own handle: restype stays ours
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    block = libc.malloc(BLOCK)
    assert block, "malloc failed"
    ctypes.memset(block, 1, BLOCK)
    libc.free(block)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


@pytest.fixture(autouse=True)
def _pad_256(monkeypatch):
    """A fixed pad, whatever the machine's memory."""
    monkeypatch.setenv("SKLSTM_HEAP_PAD_MB", "256")


def test_pad_size_from_the_environment_or_the_memory_limit(monkeypatch):
    """Check that SKLSTM_HEAP_PAD_MB sets the pad, 0 turns it off, and without it
    the pad is 1 GiB or an eighth of the memory limit, whichever is less."""
    assert pad_bytes() == 256 * MIB
    monkeypatch.setenv("SKLSTM_HEAP_PAD_MB", "0")
    assert pad_bytes() == 0
    monkeypatch.delenv("SKLSTM_HEAP_PAD_MB")
    monkeypatch.setattr("sklstm._heap.memory_limit", lambda: 64 << 30)
    assert pad_bytes() == DEFAULT_PAD_MB * MIB
    monkeypatch.setattr("sklstm._heap.memory_limit", lambda: 2 << 30)
    assert pad_bytes() == 256 * MIB
    monkeypatch.setattr("sklstm._heap.memory_limit", lambda: None)
    assert pad_bytes() == DEFAULT_PAD_MB * MIB


def test_memory_limit_reads_a_cgroup_limit(monkeypatch, tmp_path):
    """Check that a cgroup's limit below the machine's memory is the limit, and
    that "max" (no limit) leaves the machine's."""
    cgroup = tmp_path / "memory.max"
    monkeypatch.setattr("sklstm._heap.CGROUP_LIMITS", (str(cgroup),))
    cgroup.write_text("max\n")
    machine = memory_limit()
    assert machine is not None and machine > 1 << 28
    cgroup.write_text(f"{1 << 28}\n")
    assert memory_limit() == 1 << 28


@pytest.mark.parametrize("value", ["lots", "1.5", "-1", "4096"])
def test_bad_pad_size_is_named(monkeypatch, value):
    """Check that a bad SKLSTM_HEAP_PAD_MB names the variable and what came."""
    monkeypatch.setenv("SKLSTM_HEAP_PAD_MB", value)
    with pytest.raises(ValueError, match=r"SKLSTM_HEAP_PAD_MB must be .* from 0 "):
        pad_bytes()
    with pytest.raises(ValueError, match=f"got '{re.escape(value)}'"):
        pad_bytes()


@needs_glibc
def test_freed_blocks_are_reused_inside_and_returned_after():
    """Check that a big block faults its pages in once inside the pad, every time
    outside it (the kernel zeroes a fresh mapping)."""
    with heap_pad():
        assert_padded()
        with heap_pad():  # nested, as a fit inside a pipeline's fit
            pass
        assert faults_of_a_fresh_block() < PAGES // 10  # still padded
    assert_unpadded()


@needs_glibc
def test_pad_off_and_restored_after_an_error(monkeypatch):
    """Check that SKLSTM_HEAP_PAD_MB=0 leaves malloc alone, and that an error
    inside the block still restores glibc's settings."""
    with pytest.raises(RuntimeError, match="boom"), heap_pad():
        raise RuntimeError("boom")
    assert_unpadded()
    monkeypatch.setenv("SKLSTM_HEAP_PAD_MB", "0")
    with heap_pad():
        assert_unpadded()


def test_no_glibc_is_a_no_op(monkeypatch):
    """Check that without glibc the block runs untouched."""
    monkeypatch.setattr("sklstm._heap._glibc", lambda: None)
    ran = []
    with heap_pad():
        ran.append(True)
    assert ran == [True]


@needs_glibc
def test_only_the_main_thread_pads():
    """Check that a block in another thread neither pads the heap nor ends the
    main thread's pad (other threads' big blocks are always mapped)."""
    entered, leave = threading.Event(), threading.Event()

    def other():
        with heap_pad():
            entered.set()
            leave.wait(10)

    thread = threading.Thread(target=other)
    thread.start()
    entered.wait(10)
    try:
        assert_unpadded()
    finally:
        leave.set()
        thread.join()
    with heap_pad():
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()  # leaving in that thread must not end the main's pad
        assert_padded()


def test_fit_and_long_predict_are_padded(monkeypatch, small_regression):
    """Check that training and a many-batch predict run inside the pad and a
    one-batch predict (a served request) does not."""
    depth, seen = [0], []

    @contextmanager
    def recording():
        depth[0] += 1
        try:
            yield
        finally:
            depth[0] -= 1

    monkeypatch.setattr(sklstm._engine, "heap_pad", lambda need: recording())
    net_forward = sklstm._network.LSTMNetwork.forward

    def forward(module, *args, **kwargs):
        seen.append((module.training, depth[0]))
        return net_forward(module, *args, **kwargs)

    monkeypatch.setattr(sklstm._network.LSTMNetwork, "forward", forward)
    X, y = small_regression
    est = LSTMRegressor(4, max_epochs=1, batch_size=16, random_state=0).fit(X, y)
    # (heap_pad itself then skips work this small: see test_small_work_is_not_padded)
    assert seen and all(padded for training, padded in seen if training)
    seen.clear()
    est.predict(X)  # 60 samples: one inference batch
    assert seen == [(False, 0)]
    seen.clear()
    est.predict(np.repeat(X, 5, axis=0))  # 300: two batches
    assert seen == [(False, 1), (False, 1)]


def test_no_pad_where_the_network_runs_on_a_gpu(monkeypatch):
    """Check that the pad is for work on the CPU only: a GPU's kernels allocate no
    big blocks on the host, so the host's memory is left as it is."""
    entered = []

    @contextmanager
    def recording():
        entered.append(True)
        yield

    monkeypatch.setattr(sklstm._engine, "heap_pad", lambda need: recording())
    with sklstm._engine.cpu_pad("cuda", 1 << 30), sklstm._engine.cpu_pad("cuda:1", 0):
        assert entered == []
    with sklstm._engine.cpu_pad("cpu", 1 << 30):
        assert entered == [True]


PROBE = r"""
import ctypes, json, sys

class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in (
        "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks "
        "keepcost").split()]

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
libc.mallinfo2.restype = Info
from sklstm._heap import heap_pad  # both processes import the same

if sys.argv[1] == "pad":
    with heap_pad():
        block = libc.malloc(48 << 20)  # carved from the pad
        libc.free(block)
# glibc's state read back from its behaviour: whether it maps a block (the
# mmap threshold, and whether it still adapts), and how much free memory it
# keeps at the top of the heap after frees (the trim threshold and top pad)
seen = []
for size in (256 << 10, 1 << 20, 4 << 20, 16 << 20, 30 << 20):
    for _ in range(2):
        before = libc.mallinfo2().hblks
        block = libc.malloc(size)
        seen.append(libc.mallinfo2().hblks > before)
        libc.free(block)
pieces = [libc.malloc(100 << 10) for _ in range(40)]
for piece in reversed(pieces):
    libc.free(piece)
seen.append(libc.mallinfo2().keepcost < (1 << 20))
print(json.dumps(seen))
"""


@needs_glibc
def test_nothing_of_glibcs_state_outlasts_the_pad():
    """Check that after a pad (with a big block carved from it) malloc maps, adapts and
    trims exactly as in a process that never padded, read back from glibc's
    behaviour in fresh processes (mallopt would have fixed the thresholds for the
    rest of the process's life)."""
    import json
    import subprocess
    import sys

    def probe(mode):
        done = subprocess.run(
            [sys.executable, "-c", PROBE, mode],
            capture_output=True,
            text=True,
            check=True,
            env={"SKLSTM_HEAP_PAD_MB": "256", "PATH": "/usr/bin:/bin"},
        )
        return json.loads(done.stdout)

    fresh = probe("fresh")
    pairs = list(zip(fresh[0:10:2], fresh[1:10:2], strict=True))
    assert (True, False) in pairs  # the probe sees glibc map a block, then adapt
    assert probe("pad") == fresh


@needs_glibc
def test_small_work_is_not_padded():
    """Check that work whose blocks glibc reuses by itself is not padded (a big
    block still faults its pages in afresh) while big work is."""
    with heap_pad(need=1 << 20):
        assert_unpadded()
    with heap_pad(need=64 << 20):
        assert_padded()
    assert_unpadded()


def test_set_config_and_config_context_reach_the_switches(monkeypatch):
    """Check that sklstm.set_config / config_context set the heap pad and CUDA
    graphs over their environment variables, are put back on leaving, and
    refuse bad values naming them."""
    import sklstm
    from sklstm import _graphs

    monkeypatch.setenv("SKLSTM_CUDA_GRAPHS", "1")
    with sklstm.config_context(heap_pad_mb=0, cuda_graphs=False):
        assert pad_bytes() == 0 and not _graphs.enabled()
        with sklstm.config_context(heap_pad_mb=64):
            assert pad_bytes() == 64 * MIB
        assert pad_bytes() == 0
    assert pad_bytes() == 256 * MIB and _graphs.enabled()  # the environment's
    assert sklstm.get_config() == {"heap_pad_mb": None, "cuda_graphs": None}
    for bad in (dict(heap_pad_mb=-1), dict(heap_pad_mb=2.5), dict(cuda_graphs="no")):
        with pytest.raises(ValueError, match=next(iter(bad))):
            sklstm.set_config(**bad)
    assert sklstm.get_config() == {"heap_pad_mb": None, "cuda_graphs": None}
