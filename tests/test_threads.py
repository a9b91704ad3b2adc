"""thread_map: results in order; a failure drops the jobs not started."""

from __future__ import annotations

import threading
import time

import pytest

from salesml.runtime.threads import thread_map


def test_results_come_in_order_whatever_finishes_first():
    def slow_first(x: int) -> int:
        time.sleep(0.05 if x == 0 else 0.0)
        return x * x

    assert thread_map(slow_first, list(range(8)), n_jobs=2) == [x * x for x in range(8)]
    assert thread_map(slow_first, [], n_jobs=2) == []


def test_a_failure_is_raised_without_running_the_rest():
    started: list[int] = []
    lock = threading.Lock()

    def job(x: int) -> int:
        with lock:
            started.append(x)
        if x == 1:
            raise ValueError("trial 1 failed")
        time.sleep(0.05)
        return x

    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="trial 1 failed"):
        thread_map(job, list(range(40)), n_jobs=2)
    assert len(started) < 10  # the 40 jobs were not all run ...
    assert time.perf_counter() - t0 < 1.0  # ... nor waited for (40 x 0.05 s / 2 threads)
