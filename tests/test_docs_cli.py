"""docs/cli.md is generated from the click commands; this fails when it is stale."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_cli_reference_is_up_to_date(tmp_path: Path) -> None:
    check = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_cli_docs.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "EMERGEBENCH_HOME": str(tmp_path / "home")},
    )
    if check.returncode == 2:
        pytest.skip(check.stderr.strip())  # a first-party plugin is not installed: cannot tell
    assert check.returncode == 0, check.stderr + "\nRegenerate with: .venv/bin/python scripts/gen_cli_docs.py"


def test_cli_reference_covers_every_core_command() -> None:
    from emergebench.cli import BUILTIN_COMMANDS

    text = (ROOT / "docs" / "cli.md").read_text()
    for name in sorted(BUILTIN_COMMANDS | {"new-plugin"}):
        assert f"### `emergebench {name}`" in text, name
