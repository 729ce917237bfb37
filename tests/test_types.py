"""The core type-checks under ``mypy --strict`` (plugins rely on its annotations: it ships py.typed),
and every distribution ships a ``py.typed`` marker so type checkers read the packages' own hints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.mark.slow
def test_core_is_mypy_strict_clean() -> None:
    pytest.importorskip("mypy")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "core/src/emergebench"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_distribution_ships_py_typed() -> None:
    packages = [p for p in ROOT.glob("*/src/*/__init__.py")] + list(ROOT.glob("plugins/*/src/*/__init__.py"))
    packages += list(ROOT.glob("tests/fixtures/*/src/*/__init__.py"))
    assert len(packages) >= 9
    missing = [str(p.parent.relative_to(ROOT)) for p in packages if not (p.parent / "py.typed").is_file()]
    assert not missing, f"no py.typed in {missing}"
