"""Ctrl-C and SIGTERM during ``salesml run``: runs marked KILLED, nothing half written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from salesml.runtime.interrupt import (
    Terminated,
    deferred,
    exit_code,
    interruptible,
    uninterrupted,
)


def test_sigterm_becomes_an_interruption_inside_the_block_only():
    with pytest.raises(Terminated), interruptible():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises before this ends
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    assert exit_code(Terminated("SIGTERM")) == 143
    assert exit_code(KeyboardInterrupt()) == 130


def test_a_deferred_block_finishes_then_the_interruption_is_raised():
    done = []
    with pytest.raises(Terminated), interruptible():
        with deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.2)  # the handler has run: the request is recorded, not raised
            done.append("write")
        done.append("after")  # not reached: raised as the block ended
    assert done == ["write"]


def test_an_uninterrupted_write_inside_the_cleanup_of_an_interruption_does_not_raise_again():
    calls = []

    @uninterrupted
    def mark_killed() -> None:
        calls.append("killed")

    with pytest.raises(KeyboardInterrupt) as caught, interruptible():
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        except KeyboardInterrupt:
            mark_killed()  # the request is the one being handled: no second raise
            raise
    assert calls == ["killed"] and not isinstance(caught.value, Terminated)
    assert mark_killed.__name__ == "mark_killed"
    with deferred():  # outside interruptible: a plain block
        calls.append("plain")
    assert calls[-1] == "plain"


def _sleep() -> None:
    time.sleep(30)


def _exit_with_disposition() -> None:
    sys.exit(0 if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL else 3)


def test_a_forked_worker_stopped_by_its_pool_ends_quietly_by_the_signal():
    import multiprocessing

    with interruptible():
        worker = multiprocessing.get_context("fork").Process(target=_sleep)
        worker.start()
        time.sleep(0.5)
        worker.terminate()  # what a process pool does to its workers: SIGTERM
        worker.join(10)
    # killed by the signal (-15), not ended by a Terminated exception (exit code 1)
    assert worker.exitcode == -signal.SIGTERM
    with interruptible():  # a worker starts with SIGTERM as it was: no Python handler to miss it
        probe = multiprocessing.get_context("fork").Process(target=_exit_with_disposition)
        probe.start()
        probe.join(10)
        assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL  # the parent's is ours
    assert probe.exitcode == 0


_RACE = """
import os, signal, sys, time
from salesml.runtime.interrupt import interruptible

delay = {"on": False}
# runs before salesml's own fork hook (registered later, in interruptible): it holds the
# child in the window where it still has the parent's Python handler
os.register_at_fork(after_in_child=lambda: time.sleep(1.0) if delay["on"] else None)
with interruptible():
    delay["on"] = True
    pid = os.fork()
    if pid == 0:
        time.sleep(20)
        os._exit(7)
    delay["on"] = False
    time.sleep(0.3)
    os.kill(pid, signal.SIGTERM)  # lands inside the window
    _, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
"""


def test_a_sigterm_right_after_fork_still_ends_the_child():
    """A pool stopping a worker it has just forked: the signal must not be lost."""
    started = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", _RACE], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == str(-signal.SIGTERM), out.stderr
    assert time.monotonic() - started < 15  # killed, not ended by its 20 s sleep


def _wait_for_running(store: str, name: str, proc: subprocess.Popen, timeout: float = 180) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(store)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        exp = client.get_experiment_by_name("interrupted") if Path(store[10:]).exists() else None
        if exp is not None:
            runs = client.search_runs([exp.experiment_id], f"attributes.run_name = '{name}'")
            if runs and runs[0].info.status == "RUNNING":
                return
        time.sleep(0.5)
    proc.kill()
    raise AssertionError(f"candidate {name!r} never started")


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_run_marks_its_runs_killed_and_writes_no_summary(
    tmp_path: Path, sig: signal.Signals, code: int
):
    from mlflow import MlflowClient

    config = {
        "name": "interrupted",
        "task": "lead_conversion",
        "data": {
            "path": "leads.csv",
            "generate": {"kind": "leads", "rows": 3000, "seed": 1},
            "target": "converted",
            "drop": ["last_stage_reached"],
        },
        "baselines": ["prior"],
        "models": [
            {"name": "slow", "type": "random_forest", "params": {"n_estimators": 20000}},
        ],
        "evaluation": {"bootstrap": 50},
    }
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": store,
        "SALESML_ARTIFACT_ROOT": str(tmp_path / "artifacts"),
    }
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "salesml", "run", str(path), "-o", str(out)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for_running(store, "slow", proc)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=120)

    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr + stdout
    assert "marked KILLED" in stderr and "no summary.json" in stderr
    client = MlflowClient(store)
    exp = client.get_experiment_by_name("interrupted")
    status = {r.info.run_name: r.info.status for r in client.search_runs([exp.experiment_id])}
    assert status == {"interrupted": "KILLED", "prior": "FINISHED", "slow": "KILLED"}
    assert not (out / "summary.json").exists()
    assert not list(out.rglob("*.tmp")), "no temp file left behind"


def test_an_interruption_swallowed_by_a_finalizer_is_delivered_again():
    """An interruption raised inside a weakref callback (where Python swallows it) still stops."""
    import gc
    import weakref

    from salesml.runtime.interrupt import Terminated, interruptible

    class Thing:
        pass

    def callback(_: object) -> None:
        # what the handler does when the signal lands while the callback runs
        raise Terminated("SIGTERM")

    started = time.monotonic()
    with pytest.raises(Terminated), interruptible():
        thing = Thing()
        ref = weakref.ref(thing, callback)
        del thing  # the callback runs here; Python prints "Exception ignored" and goes on
        gc.collect()  # may hold the interpreter for a while in a big test process
        started = time.monotonic()  # so the promptness is measured from here
        time.sleep(5)
        pytest.fail("the swallowed SIGTERM was not delivered again")
    assert ref() is None
    assert time.monotonic() - started < 4, "delivered again promptly, not at the end of the sleep"


def test_an_interruption_a_library_swallows_stops_at_the_next_safe_point():
    from salesml.runtime.interrupt import checkpoint, requested

    with pytest.raises(KeyboardInterrupt), interruptible():
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        except BaseException:  # what a library catching everything does
            pass
        assert requested() == signal.SIGINT
        checkpoint()
        pytest.fail("the recorded Ctrl-C did not stop at the safe point")
    assert requested() is None  # forgotten once the block is left
    checkpoint()  # outside a run it never raises


_SLOW_CLEANUP = """
import sys, time
from salesml.runtime.interrupt import interruptible
with interruptible():
    try:
        print("ready", flush=True)
        time.sleep(30)
    except KeyboardInterrupt:
        print("cleaning up", flush=True)
        time.sleep(30)  # a cleanup that hangs (a tracking server that does not answer)
"""


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_second_signal_exits_at_once(sig: signal.Signals, code: int):
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_CLEANUP],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "ready"
    started = time.monotonic()
    proc.send_signal(sig)
    assert proc.stdout.readline().strip() == "cleaning up"
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=10)
    assert proc.returncode == code
    assert time.monotonic() - started < 5, "not at once"
    assert "second" in stderr and "stopping at once" in stderr
    assert "Traceback" not in stderr


_BUSY = """
import gc, os, signal, sys, threading, time, weakref
import numpy as np
from salesml.runtime.interrupt import checkpoint, exit_code, interruptible

class Node:
    def __del__(self):  # a finalizer with work in it: signals land here too
        sum(range(200))

def callback(_):
    sum(range(200))

try:
    with interruptible():
        print("ready", flush=True)
        while True:
            things = [Node() for _ in range(200)]
            refs = [weakref.ref(t, callback) for t in things]
            del things
            gc.collect()
            np.linalg.svd(np.ones((40, 40)))
            time.sleep(0.001)
            checkpoint()
except KeyboardInterrupt as exc:
    sys.exit(exit_code(exc))
"""


def _signal_and_wait(
    proc: subprocess.Popen, sig: signal.Signals, timeout: float, trial: int
) -> tuple[str, str]:
    """Send ``sig``; the process must end within ``timeout`` seconds. Its stdout and stderr."""
    proc.send_signal(sig)
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"trial {trial}: {sig.name} was lost")


_TEARDOWN = """
import atexit, sys, time
from salesml.cli.guard import main_guarded

atexit.register(time.sleep, 3)  # a slow teardown, as with MLflow and LightGBM loaded
main_guarded(lambda: print("done", flush=True))
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_after_the_command_finished_changes_nothing(sig: signal.Signals):
    """Caught in the interpreter's teardown, Ctrl-C killed a finished command silently (-2)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _TEARDOWN], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "done"
    time.sleep(0.5)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, (proc.returncode, stderr)
    assert stderr == ""


@pytest.mark.slow
def test_a_signal_at_a_random_moment_always_stops():
    """Thirty signals at seeded random moments in a loop full of finalizers and weakref
    callbacks (where Python swallows exceptions): every one stops the process promptly."""
    import random

    rng = random.Random(19)
    for trial in range(30):
        sig, code = rng.choice([(signal.SIGINT, 130), (signal.SIGTERM, 143)])
        proc = subprocess.Popen(
            [sys.executable, "-c", _BUSY], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        time.sleep(rng.uniform(0.0, 0.4))
        sent = time.monotonic()
        _, stderr = _signal_and_wait(proc, sig, 10, trial)
        assert proc.returncode == code, (trial, stderr)
        assert time.monotonic() - sent < 3, f"trial {trial}: stopped late"
        assert "Traceback" not in stderr


@pytest.mark.slow
def test_salesml_run_stops_cleanly_at_random_moments(tmp_path: Path):
    """The real command, signalled at seeded random moments from start-up to the last fit:
    always exit code 130 or 143 with one line, no traceback, no summary; or, when the
    signal comes after the end, a finished run."""
    import random

    config = {
        "name": "random-moments",
        "task": "lead_conversion",
        "data": {
            "path": "leads.csv",
            "generate": {"kind": "leads", "rows": 2000, "seed": 1},
            "target": "converted",
            "drop": ["last_stage_reached"],
        },
        "baselines": ["prior", "control_points"],
        "models": ["logistic", {"type": "lightgbm", "params": {"n_estimators": 60}}],
        "evaluation": {"bootstrap": 200},
    }
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    rng = random.Random(7)
    outcomes = []
    for trial in range(5):
        sig, code = rng.choice([(signal.SIGINT, 130), (signal.SIGTERM, 143)])
        out = tmp_path / f"out{trial}"
        proc = subprocess.Popen(
            [sys.executable, "-m", "salesml", "run", str(path), "-o", str(out)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(rng.uniform(0.5, 9.0))
        stdout, stderr = _signal_and_wait(proc, sig, 60, trial)
        assert "Traceback" not in stdout + stderr, (trial, stderr)
        if proc.returncode == 0:
            assert (out / "summary.json").exists()
        else:
            assert proc.returncode == code, (trial, proc.returncode, stderr)
            assert stderr.strip().splitlines()[-1].startswith("error:"), stderr
            assert not (out / "summary.json").exists()
        outcomes.append(proc.returncode)
    assert set(outcomes) - {0}, "no signal landed during a run: make the run longer"
