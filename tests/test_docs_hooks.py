"""Every hook in emergebench.hookspecs has a section in docs/hooks.md with an example, and the page
documents no hook that does not exist (datasette's "every hook has a doc" meta-test)."""

from __future__ import annotations

import re
from pathlib import Path

from emergebench import hookspecs

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "hooks.md"


def hook_names() -> set[str]:
    return {n for n in dir(hookspecs) if hasattr(getattr(hookspecs, n), "emergebench_spec")}


def documented() -> dict[str, str]:
    """Heading name -> the section's text."""
    text = DOC.read_text()
    parts = re.split(r"^## `?([a-z_]+)\(([^)]*)\)`?\s*$", text, flags=re.M)
    return {parts[i]: parts[i] + "(" + parts[i + 1] + ")" + parts[i + 2] for i in range(1, len(parts) - 2, 3)}


def test_every_hook_is_documented() -> None:
    missing = hook_names() - set(documented())
    assert not missing, f"docs/hooks.md lacks a '## hook(args)' section for: {sorted(missing)}"


def test_no_documented_hook_is_made_up() -> None:
    extra = set(documented()) - hook_names()
    assert not extra, f"docs/hooks.md documents hooks that hookspecs.py does not define: {sorted(extra)}"


def test_each_section_names_the_real_arguments_and_shows_an_example() -> None:
    import inspect

    for name, section in documented().items():
        spec_args = list(inspect.signature(getattr(hookspecs, name)).parameters)
        heading_args = [a.strip() for a in section.split("(", 1)[1].split(")", 1)[0].split(",") if a.strip()]
        assert heading_args == spec_args, f"{name}: heading says {heading_args}, hookspecs says {spec_args}"
        assert "@hookimpl" in section and f"def {name}(" in section, f"{name}: no example implementation"
