"""Bootstrap replicates: the frequency weights every CI in salesml is computed from.

:func:`bootstrap_weights` (rows) and :func:`circular_block_weights` (blocks of
consecutive units) draw deterministic replicates in chunks; :func:`bootstrap_map`
evaluates a statistic on every chunk on threads, in order; :func:`shared_replicates`
keeps one run's replicates so that each candidate evaluated on them does not draw
them again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import numpy as np

from salesml.runtime.threads import resolve_jobs

T = TypeVar("T")

__all__ = [
    "bootstrap_map",
    "bootstrap_weights",
    "chunk_size",
    "circular_block_weights",
    "shared_replicates",
]

# Replicates per chunk: at most 100, fewer for long test sets so a (chunk, n) block of
# weights stays near 32 MB and the threads have several chunks to share.
_BLOCK = 4_000_000


def chunk_size(n: int) -> int:
    """Replicates per chunk for ``n`` resampled units (100, fewer above 40,000 units)."""
    return max(1, min(100, _BLOCK // max(n, 1)))


def bootstrap_weights(
    n: int, n_boot: int, seed: int, chunk: int | None = None
) -> Iterator[np.ndarray]:
    """Yield ``(chunk, n)`` arrays of bootstrap frequency weights, deterministically.

    Parameters
    ----------
    n : int
        Number of rows (or series) resampled.
    n_boot : int
        Total number of replicates across all chunks.
    seed : int
        Same seed, same replicates: this is what pairs two candidates.
    chunk : int, optional
        Replicates per yielded block, to bound memory (default :func:`chunk_size`).
        The replicates do not depend on it.
    """
    chunk = chunk or chunk_size(n)
    rng = np.random.default_rng(seed)
    done = 0
    while done < n_boot:
        b = min(chunk, n_boot - done)
        yield _counts(rng.integers(0, n, size=(b, n)), n)
        done += b


def circular_block_weights(
    n: int, block: int, n_boot: int, seed: int, chunk: int | None = None
) -> Iterator[np.ndarray]:
    """Yield ``(chunk, n)`` frequency weights of a circular block bootstrap, deterministically.

    Each replicate joins ``ceil(n / block)`` blocks of ``block`` consecutive
    units (``n`` of them, in time order), each starting at a uniformly drawn
    unit and wrapping from the last to the first (Politis and Romano's circular
    bootstrap: every unit is drawn equally often on average), and keeps the
    first ``n`` units. Neighbours stay together, so their dependence (errors of
    one forecast origin) is kept. ``n_boot``, ``seed``, ``chunk``: as in
    :func:`bootstrap_weights`.
    """
    block = max(1, min(int(block), n))
    k = -(-n // block)
    chunk = chunk or chunk_size(n)
    rng = np.random.default_rng(seed)
    done = 0
    while done < n_boot:
        b = min(chunk, n_boot - done)
        starts = rng.integers(0, n, size=(b, k))
        idx = ((starts[:, :, None] + np.arange(block)) % n).reshape(b, k * block)[:, :n]
        yield _counts(idx, n)
        done += b


def _counts(idx: np.ndarray, n: int) -> np.ndarray:
    """How often each of ``n`` units is drawn in each row of ``idx``, as floats (row by row:
    three times faster than one count over the flattened block)."""
    out = np.empty((len(idx), n))
    for i, row in enumerate(idx):
        out[i] = np.bincount(row, minlength=n)
    return out


def bootstrap_map(
    statistic: Callable[[np.ndarray], T],
    n: int,
    n_boot: int,
    seed: int,
    n_jobs: int | None = None,
    block: int | None = None,
) -> list[T]:
    """``statistic`` of every chunk of :func:`bootstrap_weights`, in order, on ``n_jobs`` threads.

    The weights are drawn in this thread, in order, and at most ``2 * n_jobs``
    chunks are held at once, so memory stays bounded and the results equal a
    serial loop's. With ``block`` the weights are those of
    :func:`circular_block_weights` (units in time order, blocks of ``block``).
    """
    jobs = resolve_jobs(n_jobs)
    chunks = _replicates(n, n_boot, seed, block)
    if jobs == 1:
        return [statistic(w) for w in chunks]
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    out: list[T] = []
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        pending: deque = deque()
        for w in chunks:
            pending.append(pool.submit(statistic, w))
            if len(pending) >= 2 * jobs:
                out.append(pending.popleft().result())
        out.extend(f.result() for f in pending)
    return out


#: The replicates drawn inside :func:`shared_replicates`: (n, n_boot, seed, block) to their
#: weights as small integers, one array per chunk.
_SHARED: dict[tuple[int, int, int, int | None], list[np.ndarray]] | None = None
#: Largest set of replicates kept (one byte per unit and replicate).
SHARED_BYTES = 256 * 2**20


@contextmanager
def shared_replicates() -> Iterator[None]:
    """Within it, the bootstrap replicates of each ``(n, n_boot, seed, block)`` are drawn once.

    Every candidate of a run is evaluated on the same replicates (that is what pairs
    them), so the second candidate's CIs reuse the first's draws instead of drawing
    them again: on 250,000 test rows, drawing 1,000 replicates takes longer than
    evaluating one candidate on them. The weights are kept as one byte per unit and
    replicate (two when a unit is drawn more than 255 times), up to
    :data:`SHARED_BYTES`; larger sets are drawn each time, as outside. Nothing
    changes in the results. Not thread-safe: enter it in the thread that evaluates.
    """
    global _SHARED
    outer, _SHARED = _SHARED, {} if _SHARED is None else _SHARED
    try:
        yield
    finally:
        if outer is None:
            _SHARED = None


def _replicates(n: int, n_boot: int, seed: int, block: int | None) -> Iterator[np.ndarray]:
    """The weights :func:`bootstrap_map` evaluates, drawn or (in :func:`shared_replicates`) kept."""
    key = (n, n_boot, seed, block)
    if _SHARED is not None and key in _SHARED:
        yield from (c.astype(float) for c in _SHARED[key])
        return
    if block is None:
        chunks = bootstrap_weights(n, n_boot, seed)
    else:
        chunks = circular_block_weights(n, block, n_boot, seed)
    keep = _SHARED is not None and n * n_boot <= SHARED_BYTES
    kept: list[np.ndarray] = []
    for chunk in chunks:
        if keep:
            top = chunk.max(initial=0)
            kept.append(
                chunk.astype(np.uint8 if top < 2**8 else np.uint16 if top < 2**16 else np.uint32)
            )
        yield chunk
    if keep and _SHARED is not None:  # only a whole set is kept
        _SHARED[key] = kept
