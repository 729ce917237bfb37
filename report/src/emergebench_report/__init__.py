"""emergebench-report: scaling analysis over the registry and a self-contained HTML report (plugin entry point)."""

from __future__ import annotations

from typing import Any

from emergebench import hookimpl

__version__ = "0.1.0"


@hookimpl
def register_commands(cli: Any) -> None:
    from .commands import COMMANDS

    for command in COMMANDS:
        cli.add_command(command)
