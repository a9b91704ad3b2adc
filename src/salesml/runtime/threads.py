"""Work on threads that gives up on the rest when one part fails or the user stops.

Fits that release the GIL (LightGBM, liblinear, numpy) share the process's data
on threads instead of copying it to worker processes. A plain
``with ThreadPoolExecutor() as pool`` waits for every submitted job before a
failure or a Ctrl-C reaches the caller: a search of 36 fits would finish all 36
first. :func:`thread_map` drops the jobs not started.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["resolve_jobs", "thread_map"]

T = TypeVar("T")
R = TypeVar("R")


def resolve_jobs(n_jobs: int | None) -> int:
    """Threads for ``n_jobs``: None or a negative value means every core."""
    if n_jobs is None or n_jobs < 0:
        return max(1, os.cpu_count() or 1)
    return max(1, n_jobs)


def thread_map(fn: Callable[[T], R], items: Sequence[T], n_jobs: int | None) -> list[R]:
    """``[fn(x) for x in items]`` on ``n_jobs`` threads (:func:`resolve_jobs`), in order.

    The first failure in order is raised (so is a Ctrl-C while waiting) once the
    jobs already running end; the jobs not started are cancelled.
    """
    if not items:
        return []
    threads = min(resolve_jobs(n_jobs), len(items))
    pool = ThreadPoolExecutor(threads, thread_name_prefix="salesml")
    try:
        futures = [pool.submit(fn, x) for x in items]
        return [f.result() for f in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
