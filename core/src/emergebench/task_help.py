"""What `emergebench tasks` prints: a short list that fits 80 columns, and one task in full
(arguments with types, defaults and help, metrics, an example command)."""

from __future__ import annotations

import json
import textwrap
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the list view must stay light: it runs from the plugin index, with no plugin loaded
    from pydantic import BaseModel
    from pydantic.fields import FieldInfo

    from .task import Task

EXAMPLE_MODEL = "llamacpp/smollm2-135m"


def first_sentence(text: str) -> str:
    """The description's first sentence: the list shows one line per task."""
    return " ".join(text.split()).split(". ")[0].rstrip(".")


def list_rows(tasks: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of the list (``--json`` prints them whole) from the plugin index's task entries."""
    return [
        {
            "name": name,
            "version": task["version"],
            "plugin": task["plugin"],
            "main_metric": task["main_metric"],
            "description": " ".join(task["description"].split()),
        }
        for name, task in sorted(tasks.items())
    ]


def _type_name(field: FieldInfo) -> str:
    annotation = field.annotation
    if annotation is None:
        return "any"
    if isinstance(annotation, type) and not getattr(annotation, "__args__", None):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _default(field: FieldInfo) -> str:
    from pydantic import BaseModel
    from pydantic_core import PydanticUndefined

    if field.default is not PydanticUndefined:
        value = field.default
    elif field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
    else:
        return "(required)"
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    try:
        return json.dumps(value)
    except TypeError:
        return str(value)


def argument_rows(args_model: type[BaseModel]) -> list[dict[str, str]]:
    return [
        {"argument": name, "type": _type_name(field), "default": _default(field), "help": field.description or ""}
        for name, field in args_model.model_fields.items()
    ]


def example_command(cls: type[Task[Any]]) -> str:
    parts = ["emergebench", "run", cls.name, "-m", EXAMPLE_MODEL]
    for key, value in (cls.demo_args or {}).items():
        parts += ["-T", f"{key}={json.dumps(value) if not isinstance(value, str) else value}"]
    parts += ["--limit", str(cls.demo_limit or 2)]
    return " ".join(parts)


def detail(cls: type[Task[Any]]) -> dict[str, Any]:
    """Everything a user needs to run one task, as data (``--json``) or for the text view."""
    return {
        "name": cls.name,
        "version": cls.version,
        "plugin": cls.plugin,
        "description": " ".join(cls.description.split()),
        "main_metric": cls.main_metric,
        "lower_is_better": sorted(cls.lower_is_better),
        "default_grader": cls.default_grader,
        "arguments": argument_rows(cls.Args),
        "example": example_command(cls),
    }


def render_list(rows: list[dict[str, Any]], width: int) -> str:
    """One line per task, description cut to the terminal width (``pip list`` style, no box)."""
    name_w = max([len("name"), *(len(r["name"]) for r in rows)])
    metric_w = max([len("main metric"), *(len(r["main_metric"] or "-") for r in rows)])
    lines = [f"{'name':<{name_w}}  {'main metric':<{metric_w}}  description"]
    for r in rows:
        head = f"{r['name']:<{name_w}}  {(r['main_metric'] or '-'):<{metric_w}}  "
        room = max(width - len(head), 20)
        summary = first_sentence(r["description"])
        text = summary if len(summary) <= room else summary[: room - 3] + "..."
        lines.append(head + text)
    return "\n".join(lines)


def render_detail(info: dict[str, Any], width: int) -> str:
    """A task in full, as a definition list that stays readable at 80 columns."""
    out = [
        f"{info['name']} v{info['version']} (plugin {info['plugin']})",
        *textwrap.wrap(info["description"], width),
        "",
        f"main metric: {info['main_metric'] or '-'}",
        *textwrap.wrap(
            f"lower is better (ranked ascending): {', '.join(info['lower_is_better']) or '-'}",
            width,
            subsequent_indent="  ",
        ),
        f"default grader: {info['default_grader'] or '-'}",
        "",
        "-T arguments:" if info["arguments"] else "no -T arguments",
    ]
    for arg in info["arguments"]:
        out.append(f"  {arg['argument']}: {arg['type']} = {arg['default']}")
        out += textwrap.wrap(arg["help"], width, initial_indent="      ", subsequent_indent="      ")
    out += ["", "example:", f"  {info['example']}"]
    return "\n".join(out)
