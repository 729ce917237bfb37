"""Timing a command-line tool as a user runs it (issue #18): a subprocess timed from its start to its
exit, its CPU time (``RUSAGE_CHILDREN``: the process and every child it waited for, e.g. the registry's
ingest process) and its peak RSS, read by each Python process itself (``tests/peakrss``), against a
fixed-latency OpenAI-compatible server on 127.0.0.1 that notes when the first and last requests came.

A process the command leaves running when it exits (emergebench's ingest process checkpoints the
registry after the run has exited, see registry/src/emergebench_registry/finish.py) is re-parented to the
benchmark (a child subreaper) and waited for after the timing: the next command never overlaps it, its
CPU time is counted with the command's and its peak RSS is read; ``settled_s`` says when it exited.

Shared by benchmarks/cli_bench.py (emergebench alone) and benchmarks/peers.py (side by side with
inspect_ai and lm-eval).
"""

from __future__ import annotations

import ctypes
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emergebench_testing.openai_server import FakeOpenAIServer, Reply

ROOT = Path(__file__).resolve().parents[1]
PEAKRSS = ROOT / "tests" / "peakrss"
EMERGEBENCH = str(Path(sys.executable).with_name("emergebench"))


class TimedServer:
    """The project's fake OpenAI server (answers "What is A + B?" right) with a fixed latency, noting
    the monotonic time of the first and last request since ``reset``."""

    def __init__(self, latency_s: float) -> None:
        self.latency_s = latency_s
        self.first: float | None = None
        self.last: float | None = None
        self.count = 0
        self.server = FakeOpenAIServer(self._behaviour, latency_s=latency_s)

    def _behaviour(self, request: dict[str, Any], attempt: int) -> Reply:
        now = time.monotonic()
        if self.first is None:
            self.first = now
        self.last = now
        self.count += 1
        return Reply()

    def reset(self) -> None:
        self.first = self.last = None
        self.count = 0

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def __enter__(self) -> TimedServer:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()


@dataclass
class Measured:
    """One timed command: wall from start to exit, CPU of it and its children, peak RSS of its own
    process and of the largest child, seconds from start to the server's first request and from its
    last request to the exit."""

    wall_s: float
    cpu_s: float
    peak_mb: float | None
    child_peak_mb: float | None
    first_request_s: float | None
    after_last_request_s: float | None  # end-of-run work: metrics, run.json, the registry's ingest, exit
    settled_s: float  # from the start until the last process it left running exited (not in wall_s)
    requests: int
    returncode: int
    stdout: str
    stderr: str

    def row(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("stdout", "stderr")}


def measure(
    command: list[str],
    env: dict[str, str] | None = None,
    server: TimedServer | None = None,
    cwd: Path | None = None,
    timeout: float = 3600,
) -> Measured:
    """Run ``command`` once, timed from before its start to after its exit."""
    with tempfile.TemporaryDirectory() as peaks:
        full_env = {**os.environ, **(env or {})}
        full_env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PEAKRSS), full_env.get("PYTHONPATH", "")) if p)
        full_env["PEAK_RSS_DIR"] = peaks
        if server is not None:
            server.reset()
        _become_subreaper()
        already = _children()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        proc = subprocess.Popen(
            command, env=full_env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        out, err = proc.communicate(timeout=timeout)
        wall = time.monotonic() - started
        for left in _children() - already:  # what it left running, now ours: waited for, untimed
            try:
                os.waitpid(left, 0)
            except ChildProcessError:
                pass
        settled = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        peaks_kb = {int(p.name): json.loads(p.read_text())["peak_kb"] for p in Path(peaks).iterdir()}
    own = peaks_kb.pop(proc.pid, None)
    first = server.first - started if server is not None and server.first is not None else None
    tail = started + wall - server.last if server is not None and server.last is not None else None
    return Measured(
        wall_s=wall,
        cpu_s=cpu,
        peak_mb=own / 1024 if own is not None else None,
        child_peak_mb=max(peaks_kb.values()) / 1024 if peaks_kb else None,
        first_request_s=first,
        after_last_request_s=tail,
        settled_s=settled,
        requests=server.count if server is not None else 0,
        returncode=proc.returncode,
        stdout=out,
        stderr=err,
    )


def _become_subreaper() -> None:
    """Orphaned descendants come to this process (Linux ``PR_SET_CHILD_SUBREAPER``) instead of init."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # elsewhere: such a process is not waited for, and its CPU is not counted


def _children() -> set[int]:
    """Pids whose parent is this process (zombies included)."""
    me, found = os.getpid(), set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == me:
                    found.add(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


def loadavg() -> str:
    """The 1-, 5- and 15-minute load averages, to print beside any wall-clock figure."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def versions() -> dict[str, str]:
    """Python, DuckDB and the machine, recorded beside the figures."""
    from importlib.metadata import PackageNotFoundError, version

    try:  # without it the openai provider falls back to aiohttp (~0.3 CPU-s more per 5,000 calls)
        httptools = version("httptools")
    except PackageNotFoundError:
        httptools = "MISSING: openai/ uses its slower aiohttp path; pip install httptools (or ./setup.sh)"
    return {
        "python": platform.python_version(),
        "duckdb": version("duckdb"),
        "httptools": httptools,
        "emergebench": version("emergebench-core"),
        "cpus": str(os.cpu_count()),
        "platform": platform.platform(),
    }


def questions(n: int, seed: int) -> list[tuple[str, str, str]]:
    """(id, prompt, target) of testtask/qa's first ``n`` samples for ``seed``: the very prompts
    ``emergebench run testtask/qa -T n=N --seed S`` sends, so every tool gets the same requests."""
    from emergebench_testtask import ArithmeticQA, QAArgs

    samples = ArithmeticQA(QAArgs(n=n)).dataset(seed)
    return [(s.id, str(s.input), str(s.target)) for s in samples]


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
