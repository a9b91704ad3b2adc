"""Worker processes that are not forked from this process.

statsforecast runs a multiprocessing ``Pool`` (``n_jobs`` > 1) whose workers
are forked from the calling process. A process that has other threads (the
Spark gateway's and accumulator server's, MLflow's, a thread pool's) can hand
a forked child a lock that one of those threads held at the moment of the
fork: nobody in the child will ever release it, and the worker, then the pool,
then the run, wait forever. :func:`fork_server_pools` makes a statsforecast
object start its pool from multiprocessing's fork server instead: a
single-threaded process started once (by ``exec``, not ``fork``), which has
statsforecast imported already and forks the workers from itself. Results do
not change: the same work goes to the same number of workers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# What the fork server imports once, so its workers start with it loaded.
PRELOAD = ["statsforecast.core", "statsforecast.models"]


def fork_server_pool() -> tuple[Any, dict[str, Any]]:
    """A ``Pool`` class of the fork-server context, in statsforecast's ``_get_pool`` form."""
    import multiprocessing

    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)  # takes effect when the server starts
    return ctx.Pool, {}


@contextmanager
def fork_server_pools(sf: Any) -> Iterator[Any]:
    """Inside the block, ``sf`` (a ``StatsForecast``) takes its pools from the fork server.

    statsforecast asks its own ``_get_pool`` method for the pool class; the
    block sets it on the instance and removes it after, so a pickled (exported)
    object is a plain ``StatsForecast``. With ``n_jobs`` 1 nothing changes.
    """
    if getattr(sf, "n_jobs", 1) == 1:
        yield sf
        return
    sf._get_pool = fork_server_pool
    try:
        yield sf
    finally:
        del sf._get_pool
