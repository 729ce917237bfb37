"""emergebench-registry: the DuckDB results registry, shards and Hub sync (plugin entry point)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emergebench import hookimpl

__version__ = "0.1.0"


@hookimpl
def register_commands(cli: Any) -> None:
    from .commands import COMMANDS
    from .import_results_command import import_results_command

    for command in [*COMMANDS, import_results_command]:
        cli.add_command(command)


@hookimpl
def on_run_finished(result: Any, run_dir: Path) -> None:
    """Ingest the run as it ends; the journal stays on disk, so a failure here loses nothing."""
    from .ingest import ingest_run_dir
    from .store import Store

    with Store().writer() as con:
        ingest_run_dir(con, Path(run_dir), result)


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
