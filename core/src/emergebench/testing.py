"""pytest plugin and conformance kit for emergebench plugin authors (registered via pytest11)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def emergebench_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An isolated EMERGEBENCH_HOME (runs, cache, registry) for one test."""
    home = tmp_path / "emergebench-home"
    monkeypatch.setenv("EMERGEBENCH_HOME", str(home))
    from .plugins import reset_manager

    reset_manager()
    yield home
    reset_manager()
