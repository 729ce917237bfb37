"""Ingesting a run as it ends, in a child process for a large run, started when the run starts.

DuckDB's ingest holds the parsed journal (about five times its size on disk) plus the duckdb and
pyarrow modules (~100 MB together). Done inside the run's own process, that made a run's peak memory
grow with its samples and put a fixed 100 MB on every run (issue #18). A large run's journal is
therefore ingested by ``python -m emergebench_registry.finish --wait RUN_PID RUN_DIR``, which the run
starts as it starts (``on_run_started``): the child imports its modules and starts DuckDB while samples are
in flight, then waits on its stdin. When the run ends it writes its RunResult there and waits for the
child, so the registry is up to date when ``emergebench run`` exits and the run's process never loads
DuckDB; what is left after the last sample is the ingest itself (issue #18's throughput goal).

The run hands its result over before its own remaining end work (closing the call cache, the CLI's
summary), which overlaps the ingest: ``on_run_finished`` returns the wait for the child, which the runner
calls afterwards (``Runner.settle``). It waits only until the run is stored: right after its COMMIT the
child lets go of the run's stderr and writes ``STORED`` on its stdout, a pipe the run reads, and the run
goes on to exit; the child then
detaches the store (DuckDB's checkpoint, ~20 ms at 5,000 samples) and exits on its own, holding the
registry's lock until it is done, so a command started right after waits on the lock as for any other
writer. Nothing is lost if the checkpoint fails or the child dies then: the committed rows are in DuckDB's
write-ahead log, which the next connection replays, so such a failure is not reported as a failed ingest.
A child that leaves without saying ``STORED`` stored nothing: its own warning, or the run's for an exit
code other than 0, says so, as before.

The child holds the registry's lock only while it stores the run, never while the run is in flight.
If the run dies first (SIGKILL, a crash), the child's stdin closes without a result (or, when a forked
process keeps the pipe open, the child sees the run's pid is no longer its parent's) and it leaves
storing nothing: the next registry command's scan stores the run as ``killed``. The child
has a session of its own, so a Ctrl-C at the terminal interrupts the run, which then hands over its
``interrupted`` result as usual.

A run expected to be small (fewer than ``WARM_SAMPLES`` samples, and a journal not already above
``INLINE_BYTES`` from an earlier attempt) starts no child: a journal up to ``INLINE_BYTES`` is
ingested in process, where a child's start-up would cost more than the ingest itself, and a larger
one (long samples) by a child started at the end.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click
from emergebench.errors import UsageError
from emergebench.journal import JOURNAL_FILE
from emergebench.quick_exit import exit_now
from emergebench.records import RunResult

if TYPE_CHECKING:
    import duckdb

# About 250 samples of a short-prompt task; a run this small peaks lower than DuckDB's fixed cost anyway.
INLINE_BYTES = 256 * 1024
# A run of this many samples gets its ingest process as it starts (testtask/qa: ~1 KB of journal per sample).
WARM_SAMPLES = 200
MODULE = "emergebench_registry.finish"
WAIT_FLAG = "--wait"
# What the child writes on its stdout once the run is committed (see ``_say_stored``).
STORED = b"stored\n"
INGEST_LATER = "run `emergebench ingest` to add it"

# The waiting ingest process of each run folder this process is running.
_waiting: dict[Path, subprocess.Popen[bytes]] = {}
# Ingest processes that stored their run and are checkpointing: reaped by the next call here (a thread
# per process would cost its start, up to ~7 ms on a busy machine, right before the run's exit).
_detaching: list[subprocess.Popen[bytes]] = []


def start_for(result: RunResult, run_dir: Path) -> None:
    """Start the ingest process of a run expected to be large, to wait for its result."""
    _reap_detached()
    key = Path(run_dir).resolve()
    stale = _waiting.pop(key, None)
    if stale is not None:  # a run of this folder that never reported its end (cannot happen through the runner)
        _let_go(stale)
    if result.n_expected < WARM_SAMPLES and _journal_bytes(run_dir) <= INLINE_BYTES:
        return
    try:
        _waiting[key] = subprocess.Popen(
            [sys.executable, "-m", MODULE, WAIT_FLAG, str(os.getpid()), str(run_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,  # a Ctrl-C meant for the run never reaches it
        )
    except OSError:
        pass  # the end falls back to a child started then, which says so if it cannot start either


def ingest_finished(result: RunResult, run_dir: Path) -> Callable[[], None] | None:
    """Ingest a run that just ended; a failure is printed (with the next step), never raised. A run
    handed to an ingest process returns the wait for it (``_wait_stored``), for the caller to call once
    its own end work is done."""
    _reap_detached()
    child = _waiting.pop(Path(run_dir).resolve(), None)
    if child is not None and child.poll() is None:
        return _hand_over(child, result, run_dir)
    if child is not None:  # it died while the run went on (its error is printed): start afresh
        child.wait()
    if _journal_bytes(run_dir) <= INLINE_BYTES:
        ingest_here(result, run_dir)
        return None
    try:
        child = subprocess.Popen(
            [sys.executable, "-m", MODULE, str(run_dir)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
    except OSError as exc:
        _warn(run_dir, f"the ingest process could not start ({exc}); {INGEST_LATER}")
        return None
    return _hand_over(child, result, run_dir)


def _hand_over(child: subprocess.Popen[bytes], result: RunResult, run_dir: Path) -> Callable[[], None]:
    """Give an ingest process the run's result; returns the wait for its word that the run is stored."""
    assert child.stdin is not None
    try:
        with child.stdin:
            child.stdin.write(result.model_dump_json().encode())
    except BrokenPipeError:
        pass  # it is gone already: its exit code tells when waited for
    return lambda: _wait_stored(child, run_dir)


def _wait_stored(child: subprocess.Popen[bytes], run_dir: Path) -> None:
    """Wait until the ingest process says the run is stored (its COMMIT is done; it checkpoints and exits
    on its own, reaped later) or leaves without saying so. A second Ctrl-C meanwhile
    interrupts only the run: the child, in its own session, still stores it."""
    assert child.stdout is not None
    # to EOF, which comes right after STORED (the child lets go of its stdout then) or when it exits;
    # whatever it printed before (DuckDB's progress bar on a long ingest) comes first
    said = child.stdout.read()
    child.stdout.close()
    if said.endswith(STORED):
        _detaching.append(child)
        return
    child.wait()
    if child.returncode != 0:
        _warn(run_dir, f"the ingest process exited with code {child.returncode}; {INGEST_LATER}")


def _reap_detached() -> None:
    """Collect the exit of ingest processes done checkpointing (no zombies in a long-lived process)."""
    _detaching[:] = [child for child in _detaching if child.poll() is None]


def _journal_bytes(run_dir: Path) -> int:
    journal = Path(run_dir) / JOURNAL_FILE
    try:
        return journal.stat().st_size
    except OSError:
        return 0


def _let_go(child: subprocess.Popen[bytes]) -> None:
    """Close a waiting child's stdin without a result: it leaves without storing anything."""
    try:
        if child.stdin is not None:
            child.stdin.close()
    except OSError:
        pass
    child.wait()


def ingest_here(
    result: RunResult | None,
    run_dir: Path,
    con: duckdb.DuckDBPyConnection | None = None,
    stored: Callable[[], None] | None = None,
) -> None:
    """Ingest in this process (the journal stays on disk, so a failure here loses nothing); on ``con``
    (an open in-memory connection) when given, with the store attached to it. ``stored`` is called
    once the run is committed, before the store is closed (checkpointed); a failure after that point
    lost nothing (DuckDB replays its write-ahead log) and is not reported."""
    from .ingest import ingest_run_dir, skip_reason
    from .store import Store

    store = Store()
    committed = False
    try:
        with store.writer() if con is None else store.attached(con) as writer:
            ingest_run_dir(writer, run_dir, result)
            committed = True
            if stored is not None:
                stored()
    except UsageError as exc:  # a damaged or locked store: its message already says what to do
        if not committed:
            _warn(run_dir, str(exc))
    except Exception as exc:  # noqa: BLE001 - whatever the folder holds, the run's own outcome stands
        if not committed:
            _warn(run_dir, skip_reason(run_dir, exc))


def _warn(run_dir: Path, why: str) -> None:
    click.echo(f"Warning: run {run_dir.name} was not added to the registry: {why}", err=True)


def _warm_up() -> duckdb.DuckDBPyConnection:
    """What a waiting child does before the run ends: the imports, DuckDB's start, first-use costs."""
    import duckdb

    from . import ingest, schema, store

    con = duckdb.connect(":memory:", config=store.CONFIG)
    for table in ("runs", "metrics", "models"):
        ingest.rows_table(con, f"_warm_{table}", table, [])
        con.execute(f"DROP TABLE _warm_{table}")
    con.execute("USE memory")  # first uses of USE and of information_schema (the migration check): ~8 ms
    schema.current_version(con)
    return con


def _say_stored() -> None:
    """Tell the run its result is committed, so it can exit while this process checkpoints. The run's
    stderr is let go first (``/dev/null`` takes its place): a pipe the run writes to (``| tee``, a
    benchmark reading to the end) then closes when the run exits, not when this process does."""
    sys.stderr.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        os.write(1, STORED)
        os.dup2(devnull, 1)  # the run reads no further: its end of the pipe is closed
    finally:
        os.close(devnull)


def _leave_when_orphaned(parent: int, handed: threading.Event) -> None:
    """Exit if the run (process ``parent``) dies before handing over its result while something else (a
    forked process) still holds the write end of stdin, so the read never ends: this process is then
    re-parented. The run's pid comes from the command line: the run may be gone before this starts."""
    while os.getppid() == parent:
        if handed.wait(1.0):
            return
    if not handed.is_set():
        exit_now(0)


def main() -> None:
    """The child: ``python -m emergebench_registry.finish [--wait RUN_PID] RUN_DIR`` with the run's result
    JSON on stdin. With ``--wait`` it was started with the run: it warms up, then waits; a stdin closed
    (or a run gone) without a result means the run died, and it leaves storing nothing (the run is
    still running or killed)."""
    waiting = sys.argv[1:2] == [WAIT_FLAG]
    run_dir = Path(sys.argv[-1])
    con = None
    if waiting:
        handed = threading.Event()
        watch = threading.Thread(target=_leave_when_orphaned, args=(int(sys.argv[2]), handed), daemon=True)
        watch.start()
        con = _warm_up()
    text = sys.stdin.read()
    if waiting:
        handed.set()
        if not text.strip():
            exit_now(0)
    result = RunResult.model_validate_json(text) if text.strip() else None
    ingest_here(result, run_dir, con, _say_stored)
    exit_now(0)  # the in-memory DuckDB holds nothing to keep: no close, no teardown


if __name__ == "__main__":
    main()
