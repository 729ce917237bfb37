"""The core type-checks under ``mypy --strict`` (plugins rely on its annotations: it ships py.typed),
every other distribution's package under plain mypy with the repo's config, and every distribution
ships a ``py.typed`` marker so type checkers read the packages' own hints."""

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


def _distribution_packages() -> list[Path]:
    """Each distribution's package directory: the core, registry, report, testing, plugins, test fixtures."""
    inits = list(ROOT.glob("*/src/*/__init__.py")) + list(ROOT.glob("plugins/*/src/*/__init__.py"))
    inits += list(ROOT.glob("tests/fixtures/*/src/*/__init__.py"))
    return sorted(p.parent for p in inits)


@pytest.mark.slow
def test_every_other_distribution_is_mypy_clean() -> None:
    # The fixtures are included: they ship py.typed too, and the test task is what plugin authors copy.
    pytest.importorskip("mypy")
    core = ROOT / "core" / "src" / "emergebench"  # held to --strict above
    packages = [str(p.relative_to(ROOT)) for p in _distribution_packages() if p != core]
    assert len(packages) >= 8
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", *packages],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_distribution_ships_py_typed() -> None:
    packages = [p / "__init__.py" for p in _distribution_packages()]
    assert len(packages) >= 9
    missing = [str(p.parent.relative_to(ROOT)) for p in packages if not (p.parent / "py.typed").is_file()]
    assert not missing, f"no py.typed in {missing}"
