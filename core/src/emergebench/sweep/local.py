"""``--executor local``: several runs at once in worker processes of this machine.

Each worker is a spawned process that runs one spec at a time with the ordinary runner (journal,
cache, resume, registry ingest: exactly as ``emergebench run``). Calls in flight per endpoint are
bounded across all workers by lock-file slots (:mod:`.limits`), spending by a total in shared
memory. Workers die with the driver (``PR_SET_PDEATHSIG`` on Linux, a watchdog elsewhere): after a
SIGKILL of the driver no orphan keeps writing, so the next sweep resumes every unfinished run.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.connection import Connection, wait
from typing import Any

from ..budget import SharedBudget
from ..pricing import load_prices
from .jobs import RunEvent, RunJob, SampleEvent, WorkerConfig
from .limits import FileSlotLimiter
from .worker import execute

PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """Exit when the driver goes, however it goes (SIGKILL included)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # it died before prctl took effect
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="watch-driver", daemon=True).start()


def worker_main(conn: Connection, config: WorkerConfig, spent: Any, parent_pid: int) -> None:
    die_with_parent(parent_pid)
    limiter = FileSlotLimiter(config.slots_dir, config.limits) if config.slots_dir and config.limits.active else None
    budget = SharedBudget(config.cost_limit, spent) if config.cost_limit is not None else None
    prices = load_prices(config.prices_file)
    try:
        while True:
            job = conn.recv()
            if job is None:
                return
            execute(job, config, conn.send, limiter=limiter, budget=budget, prices=prices)
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        return


class LocalExecutor:
    """A pool of ``workers`` processes; the driver hands each one job at a time."""

    name = "local"

    def __init__(self, workers: int) -> None:
        self.capacity = workers
        self._ctx = multiprocessing.get_context("spawn")
        self.spent = self._ctx.Value("d", 0.0)
        self._workers: dict[int, tuple[Any, Connection]] = {}
        self._busy: dict[int, RunJob] = {}  # worker index -> its job
        self._config: WorkerConfig | None = None
        self._next = 0

    def start(self, config: WorkerConfig) -> None:
        self._config = config

    def charge_prior(self, cost: float) -> None:
        with self.spent.get_lock():
            self.spent.value += cost

    def _spawn(self) -> int:
        assert self._config is not None
        ours, theirs = self._ctx.Pipe()
        process = self._ctx.Process(
            target=worker_main,
            args=(theirs, self._config, self.spent, os.getpid()),
            name=f"emergebench-worker-{self._next}",
        )
        process.start()
        theirs.close()
        self._workers[self._next] = (process, ours)
        self._next += 1
        return self._next - 1

    def idle(self) -> int:
        return self.capacity - len(self._busy)

    def submit(self, job: RunJob) -> None:
        free = [i for i in self._workers if i not in self._busy]
        index = free[0] if free else self._spawn()
        self._busy[index] = job
        self._workers[index][1].send(job)

    def events(self, timeout: float) -> list[SampleEvent | RunEvent]:
        """What the workers said within ``timeout``; a worker that died turns into an error event
        for its job (the driver may run it again: resume makes that safe)."""
        if not self._workers:
            time.sleep(timeout)
            return []
        by_handle: dict[Any, int] = {}
        for index, (process, conn) in self._workers.items():
            by_handle[conn] = index
            by_handle[process.sentinel] = index
        out: list[SampleEvent | RunEvent] = []
        for handle in wait(list(by_handle), timeout):
            index = by_handle[handle]
            if index not in self._workers:
                continue
            process, conn = self._workers[index]
            if handle is conn:
                try:
                    while conn.poll():
                        event = conn.recv()
                        if isinstance(event, RunEvent):
                            self._busy.pop(index, None)
                        out.append(event)
                except (EOFError, OSError):
                    pass
                continue
            process.join()
            with contextlib.suppress(EOFError, OSError):
                while conn.poll():  # what it said before dying still counts
                    out.append(conn.recv())
            del self._workers[index]
            job = self._busy.pop(index, None)
            if job is not None:
                out.append(RunEvent(job.job_id, error=f"worker process died (exit code {process.exitcode})"))
        return out

    def stop(self, *, timeout: float = 10.0) -> None:
        for _, conn in self._workers.values():
            with contextlib.suppress(OSError, BrokenPipeError):
                conn.send(None)
        deadline = time.monotonic() + timeout
        for process, conn in self._workers.values():
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
            conn.close()
        self._workers.clear()
        self._busy.clear()
