"""Every Eval Ever's own validator (``every_eval_ever validate``), run in the side environment
``.venv-eee`` that ``setup.sh --dev`` makes: every-eval-ever needs Python >= 3.12, emergebench runs on
3.11. A missing environment fails the test with how to make it; it never skips."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def validator() -> Path:
    venv = Path(os.environ.get("EMERGEBENCH_EEE_VENV", ROOT / ".venv-eee"))
    command = venv / "bin" / "every_eval_ever"
    if not command.exists():
        pytest.fail(
            f"every-eval-ever's validator is not installed at {command}: run ./setup.sh --dev (it needs a "
            "Python >= 3.12 on PATH or in pyenv; EEE_PYTHON names one), or set EMERGEBENCH_EEE_VENV"
        )
    return command


def validate(root: Path) -> list[dict[str, Any]]:
    """EEE's reports for every record under ``root/data`` (paths given relative to ``root``, as the
    datastore has them); asserts it found no error and no warning."""
    files = sorted(str(p.relative_to(root)) for p in (root / "data").rglob("*") if p.suffix in (".json", ".jsonl"))
    assert files, f"no EEE records under {root}"
    done = subprocess.run(
        [str(validator()), "validate", "--format", "json", *files],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
    )
    reports = json.loads(done.stdout)
    problems = [(r["file"], r["errors"], r["warnings"]) for r in reports if r["errors"] or r["warnings"]]
    problems += [(r["file"], "not valid", []) for r in reports if not r["valid"]]
    assert done.returncode == 0 and not problems, (done.returncode, problems, done.stderr[-2000:])
    assert sorted(r["file"] for r in reports) == files
    return reports


def check_duplicates(root: Path) -> None:
    """EEE's own duplicate check (``every_eval_ever check-duplicates``) over every aggregate under ``root``."""
    done = subprocess.run(
        [str(validator()), "check-duplicates", str(root / "data")], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
