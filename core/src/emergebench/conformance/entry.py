"""Plugin-level conformance: the entry point exists once and loads, its module's ``@hookimpl`` functions
implement real hooks, and its commands neither raise nor hide a built-in command."""

from __future__ import annotations

import re
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import click

from .. import hookspecs
from ..plugins import GROUP, PluginManager
from .report import ConformanceReport

ENTRY_POINT_RE = r"^[a-z0-9][a-z0-9_.-]*$"
HOOK_NAMES = frozenset(
    name
    for name in dir(hookspecs)
    if callable(getattr(hookspecs, name)) and hasattr(getattr(hookspecs, name), "emergebench_spec")
)


def find_entry_point(report: ConformanceReport, name: str) -> EntryPoint | None:
    found = [ep for ep in entry_points(group=GROUP) if ep.name == name]
    if not found:
        installed = sorted({ep.name for ep in entry_points(group=GROUP)})
        report.error(
            "entry point",
            f"no entry point named {name!r} in group {GROUP!r} (installed: {installed or 'none'}). Declare "
            f'`[project.entry-points.{GROUP}] {name} = "your_module"` in pyproject.toml and reinstall '
            "the package (pip install -e .)",
        )
        return None
    dists = sorted({ep.dist.name for ep in found if ep.dist is not None})
    if len(dists) > 1:
        report.error("entry point", f"{name!r} is declared by several distributions: {dists}")
    ep = found[0]
    report.distribution = ep.dist.name if ep.dist is not None else None
    if not re.match(ENTRY_POINT_RE, name):
        report.error("entry point", f"name {name!r} must be lower-case letters, digits, '-', '_' or '.'")
    expected = f"emergebench-{name}"
    if report.distribution and _normal(report.distribution) != _normal(expected):
        report.warn(
            "distribution",
            f"is named {report.distribution!r}; the convention is {expected!r} so people can find it",
        )
    return ep


def load_module(report: ConformanceReport, ep: EntryPoint) -> Any:
    try:
        return ep.load()
    except Exception as exc:
        report.error("entry point", f"{ep.value!r} fails to import: {type(exc).__name__}: {exc}")
        return None


def check_hookimpls(report: ConformanceReport, module: Any) -> None:
    marker = f"{GROUP}_impl"
    impls = [n for n in dir(module) if hasattr(getattr(module, n, None), marker)]
    if not impls:
        report.error("hooks", f"module {module.__name__!r} has no @hookimpl functions")
    for impl in impls:
        opts = getattr(getattr(module, impl), marker) or {}
        hook = opts.get("specname") or impl
        if hook not in HOOK_NAMES:
            report.error(
                "hooks",
                f"@hookimpl {impl!r} implements no emergebench hook (known: {', '.join(sorted(HOOK_NAMES))})",
            )


def check_commands(report: ConformanceReport, manager: PluginManager) -> None:
    from ..cli import BUILTIN_COMMANDS

    group = click.Group("conformance")
    for impl in manager.pm.hook.register_commands.get_hookimpls():
        if impl.plugin_name != report.plugin:
            continue
        try:
            getattr(impl.function, "__wrapped__", impl.function)(cli=group)  # unguarded: errors are findings
        except Exception as exc:
            report.error("commands", f"register_commands raised {type(exc).__name__}: {exc}")
            return
    report.commands = sorted(group.commands)
    for cmd_name, command in sorted(group.commands.items()):
        if cmd_name in BUILTIN_COMMANDS:
            report.error("commands", f"command {cmd_name!r} would hide the built-in command of that name")
        if not (command.help or command.short_help):
            report.warn("commands", f"command {cmd_name!r} has no help text (its docstring)")


def _normal(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")
