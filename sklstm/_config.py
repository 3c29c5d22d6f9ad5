"""sklstm's global switches, in scikit-learn's idiom: ``set_config``,
``get_config`` and ``config_context``.

Two switches are not estimator parameters because they are about the
machine, not the model: the heap pad for CPU training (:mod:`sklstm._heap`)
and CUDA graphs for GPU training (:mod:`sklstm._graphs`). Each is read when
a fit starts. Unset, each follows its environment variable
(``SKLSTM_HEAP_PAD_MB``, ``SKLSTM_CUDA_GRAPHS``), then its default.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

_UNSET = object()
_local = threading.local()  # each thread its own settings, as scikit-learn's


def _settings() -> dict:
    if not hasattr(_local, "settings"):
        _local.settings = {"heap_pad_mb": None, "cuda_graphs": None}
    return _local.settings


def get_config() -> dict:
    """sklstm's switches as set in this thread (None: from the environment).

    Returns
    -------
    config : dict
        ``heap_pad_mb`` and ``cuda_graphs``; see :func:`set_config`.
    """
    return dict(_settings())


def set_config(heap_pad_mb=_UNSET, cuda_graphs=_UNSET) -> None:
    """Set sklstm's switches for this thread, as ``sklearn.set_config`` does.

    Parameters
    ----------
    heap_pad_mb : int or None
        MiB of freed memory kept in the heap while a network trains on the
        CPU (glibc only; 0 turns the pad off; at most 2047). None: from
        ``SKLSTM_HEAP_PAD_MB``, else 1024 or an eighth of the memory limit.
        Nothing of it outlasts the fit.
    cuda_graphs : bool or None
        Capture training steps of equal shape as CUDA graphs on a GPU. None:
        from ``SKLSTM_CUDA_GRAPHS`` (``0`` turns them off), else on.
    """
    new = dict(_settings())
    if heap_pad_mb is not _UNSET:
        if heap_pad_mb is not None and (
            type(heap_pad_mb) is not int or not 0 <= heap_pad_mb <= 2047
        ):
            raise ValueError(
                "heap_pad_mb must be None or a whole number of MiB from 0 (off) "
                f"to 2047; got {heap_pad_mb!r}."
            )
        new["heap_pad_mb"] = heap_pad_mb
    if cuda_graphs is not _UNSET:
        if cuda_graphs is not None and not isinstance(cuda_graphs, bool):
            raise ValueError(
                f"cuda_graphs must be True, False or None; got {cuda_graphs!r}."
            )
        new["cuda_graphs"] = cuda_graphs
    _settings().update(new)


@contextmanager
def config_context(**changes):
    """Set sklstm's switches inside a ``with`` block, as
    ``sklearn.config_context`` does; they are put back on leaving.

    Parameters
    ----------
    **changes
        ``heap_pad_mb`` and ``cuda_graphs``, as for :func:`set_config`.

    Examples
    --------
    >>> import sklstm
    >>> with sklstm.config_context(heap_pad_mb=0):
    ...     sklstm.get_config()["heap_pad_mb"]
    0
    >>> sklstm.get_config()["heap_pad_mb"] is None
    True
    """
    before = get_config()
    set_config(**changes)
    try:
        yield
    finally:
        _settings().update(before)
