"""emergebench-registry: the DuckDB results registry, shards and Hub sync (plugin entry point)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from emergebench import hookimpl

__version__ = "0.1.0"


@hookimpl
def register_commands(cli: Any) -> None:
    from .commands import COMMANDS
    from .import_results_command import import_results_command
    from .maintenance import registry_group

    for command in [*COMMANDS, import_results_command, registry_group]:
        cli.add_command(command)


@hookimpl
def on_run_started(result: Any, run_dir: Path) -> None:
    """Start the ingest process of a large run now, so its imports and DuckDB's start-up happen while
    samples are in flight and only the ingest itself is left when the run ends (see ``finish``)."""
    from .finish import start_for

    start_for(result, Path(run_dir))


@hookimpl
def on_run_finished(result: Any, run_dir: Path) -> Callable[[], None] | None:
    """Ingest the run as it ends (a large run by its waiting child process, see ``finish``); the journal
    stays on disk, so a failure here loses nothing. A failure is printed (never raised: the run itself
    succeeded) with the reason and the next step, so a run missing from the registry never goes unnoticed.
    A run handed to a child process returns the wait for it, called once the run's own end work is done.
    """
    from .finish import ingest_finished

    return ingest_finished(result, Path(run_dir))


@hookimpl
def find_complete_runs(spec_ids: list[str]) -> dict[str, str]:
    """The newest complete run of each spec in the registry (local, imported or pulled)."""
    from .store import Store

    store = Store()
    if not spec_ids or not store.path.exists():
        return {}
    with store.reader() as con:
        rows = con.execute(
            "SELECT spec_id, max(run_id) FROM runs WHERE status = 'complete' AND list_contains(?, spec_id) "
            "GROUP BY spec_id",
            [list(spec_ids)],
        ).fetchall()
    return {spec_id: run_id for spec_id, run_id in rows}
