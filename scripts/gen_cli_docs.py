"""Generate docs/cli.md from the click commands, including those the first-party plugins add.

Run ``.venv/bin/python scripts/gen_cli_docs.py`` after changing a command; ``--check`` exits 1 when
docs/cli.md is stale (tests/test_docs_cli.py runs it). Only the built-ins and the first-party plugins
(registry/, report/ and plugins/*/ in this repository) are loaded, so third-party plugins installed in the same
environment never leak into the reference.
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "cli.md"
HEADER = """# CLI reference

Generated from the click commands by `scripts/gen_cli_docs.py`; do not edit by hand. It covers the
core's commands and those of the first-party plugins ({plugins}). Run
`.venv/bin/python scripts/gen_cli_docs.py` after changing a command; `tests/test_docs_cli.py` fails
when this file is stale. Every command also answers `--help`.
"""


def first_party_plugins() -> list[str]:
    """Entry-point names declared by registry/ and plugins/*/ in this repository."""
    names = []
    distributions = [ROOT / "registry" / "pyproject.toml", ROOT / "report" / "pyproject.toml"]
    for pyproject in sorted([*distributions, *ROOT.glob("plugins/*/pyproject.toml")]):
        if pyproject.exists():
            project = tomllib.loads(pyproject.read_text()).get("project", {})
            names += list(project.get("entry-points", {}).get("emergebench", {}))
    return sorted(names)


def missing_plugins(names: list[str]) -> list[str]:
    installed = {ep.name for ep in entry_points(group="emergebench")}
    return [n for n in names if n not in installed]


def _help_text(command: click.Command) -> str:
    """The docstring as click shows it: ``\\b`` paragraphs become code blocks, others prose."""
    text = click.unstyle(command.help or command.short_help or "").strip()
    out = []
    for block in text.split("\n\n"):
        lines = block.splitlines()
        if lines and lines[0].strip() == "\b":
            body = lines[1:]
            indent = min((len(line) - len(line.lstrip()) for line in body if line.strip()), default=0)
            out.append("```\n" + "\n".join(line[indent:] for line in body).rstrip() + "\n```")
        else:
            out.append(" ".join(line.strip() for line in lines))
    return "\n\n".join(out)


def _option_row(param: click.Parameter) -> str:
    names = ", ".join(f"`{o}`" for o in [*param.opts, *param.secondary_opts])
    kind = "flag" if getattr(param, "is_flag", False) else param.type.name.upper()
    if isinstance(param.type, click.Choice):
        kind = " \\| ".join(str(c) for c in param.type.choices)
    extra = []
    if getattr(param, "multiple", False) and "repeatable" not in (getattr(param, "help", None) or ""):
        extra.append("repeatable")
    if param.required:
        extra.append("required")
    if getattr(param, "show_default", False) and param.default not in (None, False, ()):
        extra.append(f"default: `{param.default}`")
    help_text = " ".join((getattr(param, "help", None) or "").split())
    tail = f" ({'; '.join(extra)})" if extra else ""
    return f"| {names} | {kind} | {help_text}{tail} |".replace("\n", " ")


def _command_doc(command: click.Command, path: list[str], parent: click.Context | None) -> list[str]:
    ctx = click.Context(command, info_name=path[-1], parent=parent)
    usage = " ".join(command.collect_usage_pieces(ctx))
    level = "#" * min(len(path) + 1, 4)
    lines = [f"{level} `{' '.join(path)}`", "", f"```\n{' '.join(path)} {usage}\n```", "", _help_text(command), ""]
    options = [p for p in command.get_params(ctx) if isinstance(p, click.Option) and not p.hidden]
    if options:
        lines += ["| option | type | description |", "|---|---|---|", *map(_option_row, options), ""]
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                lines += _command_doc(sub, [*path, name], ctx)
    return lines


def render() -> str:
    plugins = first_party_plugins()
    os.environ["EMERGEBENCH_LOAD_PLUGINS"] = ",".join(plugins)
    from emergebench.cli import cli
    from emergebench.plugins import reset_manager

    reset_manager()
    root = click.Context(cli, info_name="emergebench")
    commands = [(n, cli.get_command(root, n)) for n in cli.list_commands(root)]
    commands = [(n, c) for n, c in commands if c is not None and not c.hidden]
    lines = [HEADER.format(plugins=", ".join(plugins) or "none"), "## `emergebench`", "", _help_text(cli), ""]
    options = [p for p in cli.get_params(root) if isinstance(p, click.Option) and not p.hidden]
    lines += ["| option | type | description |", "|---|---|---|", *map(_option_row, options), ""]
    lines += ["## Commands", ""]
    for name, command in commands:
        summary = " ".join(command.get_short_help_str(limit=100).split())
        lines.append(f"- [`{name}`](#emergebench-{name}): {summary}")
    lines.append("")
    for name, command in commands:
        lines += _command_doc(command, ["emergebench", name], root)
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/cli.md differs from what would be written")
    args = parser.parse_args()
    missing = missing_plugins(first_party_plugins())
    if missing:
        print(
            f"first-party plugins not installed: {', '.join(missing)}; install them (./setup.sh) so the "
            "reference includes their commands",
            file=sys.stderr,
        )
        return 2
    text = render()
    if args.check:
        current = OUTPUT.read_text() if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT.relative_to(ROOT)} is stale: run .venv/bin/python scripts/gen_cli_docs.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
