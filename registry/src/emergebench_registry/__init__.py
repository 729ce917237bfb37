"""emergebench-registry: the DuckDB results registry, shards and Hub sync (plugin entry point)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emergebench import hookimpl

__version__ = "0.1.0"


@hookimpl
def register_commands(cli: Any) -> None:
    from .commands import COMMANDS

    for command in COMMANDS:
        cli.add_command(command)


@hookimpl
def on_run_finished(result: Any, run_dir: Path) -> None:
    """Ingest the run as it ends; the journal stays on disk, so a failure here loses nothing."""
    from .ingest import ingest_run_dir
    from .store import Store

    with Store().writer() as con:
        ingest_run_dir(con, Path(run_dir), result)
