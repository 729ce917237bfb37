"""Every shell command in README.md, docs/ and CONTRIBUTING.md that can run offline is run, as a new
user would type it, in a fresh EMERGEBENCH_HOME; the rest are skipped by a named rule with its reason,
so a command added to the docs is either run here or explicitly accounted for."""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BLOCK = re.compile(r"```(?:bash|sh|shell|console)\n(.*?)```", re.S)

# (pattern, why the command is not run here). Order matters: the first match names the reason.
SKIP_RULES: list[tuple[str, str]] = [
    (r"openai/", "needs an OpenAI-compatible endpoint (tests/test_providers_cli.py runs one locally)"),
    (r"\bsync (push|pull)\b|HF_TOKEN", "talks to the Hugging Face Hub (registry/tests/test_registry_sync.py)"),
    (r"twine upload|pip install build twine|python -m build\b", "builds or publishes a package"),
    (r"^\./setup\.sh|^\.venv/bin/python -m pytest|\bpython -m pytest\b", "the setup and test suite: CI runs it"),
    (r"benchmarks/bench_", "a timed measurement, run by hand (docs/benchmarks.md)"),
    (
        r"new-plugin|^cd |pip install -e|letter-count",
        "the plugin-author flow, which installs into an environment: tests/test_third_party.py and "
        "core/tests/test_scaffold_cmd.py run it in fresh virtual environments",
    ),
]

PAGES = ["README.md", *(f"docs/{p.name}" for p in sorted((ROOT / "docs").glob("*.md"))), "CONTRIBUTING.md"]


def doc_commands() -> list[tuple[str, str]]:
    """(page, command) for every non-comment line of every shell block, comments stripped."""
    found = []
    for page in PAGES:
        for block in BLOCK.findall((ROOT / page).read_text()):
            for line in block.replace("\\\n", " ").splitlines():
                command = line.split("  #")[0].strip()
                if command and not command.startswith("#"):
                    found.append((page, command))
    return found


def skip_reason(command: str) -> str | None:
    return next((why for pattern, why in SKIP_RULES if re.search(pattern, command)), None)


def runnable() -> list[tuple[str, str]]:
    """Commands to run, each once, in page order (the README's demo first fills the registry)."""
    seen: set[str] = set()
    commands = []
    for page, command in doc_commands():
        normalised = re.sub(r"^\.venv/bin/", "", command)
        if skip_reason(command) is None and normalised not in seen:
            seen.add(normalised)
            commands.append((page, normalised))
    return commands


def test_every_doc_command_is_an_emergebench_command_or_skipped_with_a_reason() -> None:
    strays = [f"{page}: {c}" for page, c in runnable() if not c.startswith("emergebench ")]
    assert not strays, "commands neither run (emergebench ...) nor skipped by a rule:\n" + "\n".join(strays)
    assert len(runnable()) >= 10, runnable()
