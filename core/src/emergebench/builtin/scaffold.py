"""The ``new-plugin`` command: writes a ready-to-publish plugin package from the shipped templates.

A default plugin, so the command reaches the CLI through ``register_commands`` like any plugin's.
"""

from __future__ import annotations

import importlib.util
from importlib.metadata import PackageNotFoundError, distribution, entry_points
from pathlib import Path
from typing import Any

import click

from ..hookspecs import hookimpl
from ..scaffold import KINDS, PluginNames, ScaffoldError, render_plugin


def find_clash(names: PluginNames) -> str | None:
    """Why ``names`` would collide with something installed, or None."""
    for ep in entry_points(group="emergebench"):
        if ep.name == names.name:
            owner = ep.dist.name if ep.dist else "an unknown distribution"
            return f"an installed plugin is already named {names.name!r} (from {owner})"
    try:
        distribution(names.dist)
        return f"the distribution {names.dist} is already installed"
    except PackageNotFoundError:
        pass
    if importlib.util.find_spec(names.package) is not None:
        return f"a module named {names.package} is already importable"
    from ..plugins import get_manager

    catalog = get_manager().catalog
    tables: dict[str, tuple[dict[str, Any], str]] = {
        "task": (dict(catalog.tasks), "task"),
        "model": (dict(catalog.models), "model provider prefix"),
        "grader": (dict(catalog.graders), "grader"),
    }
    table, what = tables[names.kind]
    if names.name in table:
        plugin = getattr(table[names.name], "plugin", None)
        return f"{what} {names.name!r} is already registered by plugin {plugin!r}"
    return None


def scaffold(name: str, kind: str, dest: Path | None) -> tuple[PluginNames, Path, list[Path]]:
    """Validate, check for clashes, render; raises ScaffoldError with a message for people."""
    from .. import __version__

    names = PluginNames.from_name(name, kind, __version__)
    clash = find_clash(names)
    if clash:
        raise ScaffoldError(f"cannot create plugin {name!r}: {clash}. Choose another name.")
    target = dest if dest is not None else Path.cwd() / names.dist
    return names, target, render_plugin(names, target)


@click.command("new-plugin")
@click.argument("name")
@click.option(
    "--kind",
    type=click.Choice(KINDS),
    default="task",
    show_default=True,
    help="What the example module contributes: a task, a model provider or a grader.",
)
@click.option(
    "--dir",
    "dest",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to create (default: ./emergebench-NAME). Must not exist or be empty.",
)
def new_plugin(name: str, kind: str, dest: Path | None) -> None:
    """Create a plugin package NAME: pyproject.toml with the entry point, a working example of the
    chosen kind (a task: the ~20-line simple form NAME and the full form NAME/full), tests that run
    emergebench's conformance check, a README and a CI workflow.

    \b
    Example:
        emergebench new-plugin letter-count --kind task
        cd emergebench-letter-count && pip install -e '.[test]' && python -m pytest
    """
    try:
        names, target, written = scaffold(name, kind, dest)
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created {kind} plugin {names.name!r} ({names.dist}) in {target}:")
    for path in written:
        click.echo(f"  {path.relative_to(target)}")
    click.echo("\nNext:")
    click.echo(f"  cd {target}")
    click.echo("  pip install -e '.[test]'        # or: emergebench install -e .")
    click.echo("  python -m pytest")
    click.echo("See the tutorial in emergebench's docs/tutorial.md and CONTRIBUTING.md for publishing.")


@hookimpl
def register_commands(cli: Any) -> None:
    cli.add_command(new_plugin)
