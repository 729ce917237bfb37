"""Plugin templates for ``emergebench new-plugin``, shipped inside the core wheel.

``template/common`` holds what every plugin gets (pyproject.toml, CI workflow, .gitignore);
``template/<kind>`` holds the example module, its tests and README. File names ending in ``.tmpl``
are rendered: ``{{eb.KEY}}`` becomes a value from :class:`PluginNames`; in paths ``__package__``
becomes the import package, ``__short__`` the plugin name with underscores and ``dot-`` a leading dot.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import asdict, dataclass
from importlib.resources import as_file, files
from pathlib import Path

KINDS = ("task", "model", "grader")
NAME_RE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
PLACEHOLDER = re.compile(r"\{\{eb\.([a-z_]+)\}\}")
DESCRIPTIONS = {
    "task": "An emergebench task plugin: {name}.",
    "model": "An emergebench model-provider plugin: {name}/... models.",
    "grader": "An emergebench grader plugin: the {name} grader.",
}


class ScaffoldError(ValueError):
    """A plugin name or destination that cannot be used; the message says what to do instead."""


@dataclass(frozen=True)
class PluginNames:
    """Every spelling of one plugin name the templates need."""

    name: str
    kind: str
    dist: str
    package: str
    short: str
    classname: str
    description: str
    core_min: str

    @classmethod
    def from_name(cls, name: str, kind: str, core_version: str) -> PluginNames:
        check_name(name)
        if kind not in KINDS:
            raise ScaffoldError(f"unknown plugin kind {kind!r}: choose one of {', '.join(KINDS)}")
        short = name.replace("-", "_")
        camel = "".join(part.capitalize() for part in name.split("-"))
        suffix = {"task": "Task", "model": "Model", "grader": "Grader"}[kind]
        major_minor = ".".join(core_version.split(".")[:2]) if re.match(r"^\d+\.\d+", core_version) else "0.1"
        return cls(
            name=name,
            kind=kind,
            dist=f"emergebench-{name}",
            package=f"emergebench_{short}",
            short=short,
            classname=camel if camel.endswith(suffix) else camel + suffix,
            description=DESCRIPTIONS[kind].format(name=name),
            core_min=major_minor,
        )


def check_name(name: str) -> None:
    """Reject names that cannot become ``emergebench-NAME`` / ``emergebench_NAME`` cleanly."""
    if name.startswith("emergebench"):
        raise ScaffoldError(
            f"plugin name {name!r} must not start with 'emergebench': the distribution is named "
            f"emergebench-<name> for you, so use {name.removeprefix('emergebench').lstrip('-_') or 'my-eval'!r}"
        )
    if not NAME_RE.match(name) or len(name) > 40:
        raise ScaffoldError(
            f"plugin name {name!r} is not valid: use 1-40 lower-case letters, digits and single hyphens, "
            "starting with a letter (e.g. 'letter-count'); it becomes the distribution "
            "emergebench-<name>, the module emergebench_<name> and the task, provider or grader name"
        )
    if keyword.iskeyword(name.replace("-", "_")):
        raise ScaffoldError(f"plugin name {name!r} is a Python keyword; choose another")


def template_files(kind: str) -> list[tuple[str, str]]:
    """(relative template path, text) for the common files and those of ``kind``."""
    root = files(__package__) / "template"
    out: list[tuple[str, str]] = []
    with as_file(root) as base:
        for part in ("common", kind):
            folder = Path(base) / part
            for path in sorted(folder.rglob("*.tmpl")):
                out.append((path.relative_to(folder).as_posix(), path.read_text(encoding="utf-8")))
    return out


def render_text(text: str, names: PluginNames, where: str) -> str:
    values = asdict(names)

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise KeyError(f"template {where} uses unknown placeholder {{{{eb.{key}}}}}")
        return str(values[key])

    return PLACEHOLDER.sub(replace, text)


def render_path(relative: str, names: PluginNames) -> str:
    parts = []
    for part in relative.removesuffix(".tmpl").split("/"):
        part = part.replace("__package__", names.package).replace("__short__", names.short)
        parts.append("." + part.removeprefix("dot-") if part.startswith("dot-") else part)
    return "/".join(parts)


def render_plugin(names: PluginNames, dest: Path) -> list[Path]:
    """Write the plugin into ``dest`` (which must not exist or be empty); return the files written."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ScaffoldError(f"{dest} already exists and is not empty: choose another --dir or remove it")
    rendered = [
        (dest / render_path(rel, names), render_text(text, names, rel)) for rel, text in template_files(names.kind)
    ]
    written = []
    for path, text in rendered:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
