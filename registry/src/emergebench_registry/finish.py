"""Ingesting a run as it ends, in a child process when its journal is large.

DuckDB's ingest holds the parsed journal (about five times its size on disk) plus the duckdb and
pyarrow modules (~100 MB together). Done inside the run's own process, that made a run's peak memory
grow with its samples and put a fixed 100 MB on every run (issue #18). A journal above
``INLINE_BYTES`` is therefore ingested by ``python -m emergebench_registry.finish RUN_DIR`` (the run
result on stdin), which the run waits for: the registry is up to date when ``emergebench run`` exits,
and the run's process never loads DuckDB. Small journals (tests, quick runs) are ingested in process,
where a child's start-up would cost more than the ingest itself.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from emergebench.errors import UsageError
from emergebench.journal import JOURNAL_FILE
from emergebench.records import RunResult

# About 250 samples of a short-prompt task; a run this small peaks lower than DuckDB's fixed cost anyway.
INLINE_BYTES = 256 * 1024


def ingest_finished(result: RunResult, run_dir: Path) -> None:
    """Ingest a run that just ended; a failure is printed (with the next step), never raised."""
    journal = run_dir / JOURNAL_FILE
    size = journal.stat().st_size if journal.exists() else 0
    if size <= INLINE_BYTES:
        ingest_here(result, run_dir)
        return
    try:
        child = subprocess.run(
            [sys.executable, "-m", "emergebench_registry.finish", str(run_dir)],
            input=result.model_dump_json(),
            text=True,
            check=False,
        )
    except OSError as exc:
        _warn(run_dir, f"the ingest process could not start ({exc}); run `emergebench ingest` to add it")
        return
    if child.returncode != 0:
        _warn(run_dir, f"the ingest process exited with code {child.returncode}; run `emergebench ingest` to add it")


def ingest_here(result: RunResult | None, run_dir: Path) -> None:
    """Ingest in this process (the journal stays on disk, so a failure here loses nothing)."""
    from .ingest import ingest_run_dir, skip_reason
    from .store import Store

    try:
        with Store().writer() as con:
            ingest_run_dir(con, run_dir, result)
    except UsageError as exc:  # a damaged or locked store: its message already says what to do
        _warn(run_dir, str(exc))
    except Exception as exc:  # noqa: BLE001 - whatever the folder holds, the run's own outcome stands
        _warn(run_dir, skip_reason(run_dir, exc))


def _warn(run_dir: Path, why: str) -> None:
    click.echo(f"Warning: run {run_dir.name} was not added to the registry: {why}", err=True)


def main() -> None:
    """The child: ``python -m emergebench_registry.finish RUN_DIR`` with the run's result JSON on stdin."""
    run_dir = Path(sys.argv[1])
    text = sys.stdin.read()
    result = RunResult.model_validate_json(text) if text.strip() else None
    ingest_here(result, run_dir)


if __name__ == "__main__":
    main()
