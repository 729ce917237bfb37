"""Every shell command in README.md, docs/ and CONTRIBUTING.md that can run offline is run, as a new
user would type it, in a fresh EMERGEBENCH_HOME; the rest are skipped by a named rule with its reason,
so a command added to the docs is either run here or explicitly accounted for."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BLOCK = re.compile(r"```(?:bash|sh|shell|console)\n(.*?)```", re.S)

# (pattern, why the command is not run here). Order matters: the first match names the reason.
SKIP_RULES: list[tuple[str, str]] = [
    (r"openai/", "needs an OpenAI-compatible endpoint (tests/test_providers_cli.py runs one locally)"),
    (r"\bsync (push|pull)\b|HF_TOKEN", "talks to the Hugging Face Hub (registry/tests/test_registry_sync.py)"),
    (r"twine upload|pip install build twine|python -m build\b", "builds or publishes a package"),
    (r"^\./setup\.sh|^\.venv/bin/python -m pytest|\bpython -m pytest\b", "the setup and test suite: CI runs it"),
    (r"benchmarks/", "a timed measurement, run by hand (docs/benchmarks.md)"),
    (
        r"emergebench demo$",
        "the demo runs in tests/test_demo_format_shares.py and report/tests/test_report_demo.py already",
    ),
    (
        r"ladder\.(toml|yaml)|ray://",
        "the example sweep file names OpenAI-compatible endpoints and a Ray cluster (core/tests/test_sweep_*.py and "
        "tests/test_sweep_*.py run sweeps locally)",
    ),
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


@pytest.mark.slow
def test_doc_commands_run_offline(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "EMERGEBENCH_HOME": str(tmp_path / "home"),
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "COLUMNS": "80",
    }
    for key in ("EMERGEBENCH_LOAD_PLUGINS", "HF_TOKEN", "OPENAI_API_KEY"):
        env.pop(key, None)
    failures = []
    for page, command in runnable():
        done = subprocess.run(shlex.split(command), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0 or "Traceback" in done.stderr:
            failures.append(f"{page}: {command}\n  exit {done.returncode}\n  {done.stderr[-800:]}")
    assert not failures, "\n".join(failures)
