"""Shared fixtures for the core's tests: an isolated home and a small arithmetic task plugin."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from coretest_plugin import CoreTestPlugin  # noqa: E402
from emergebench.plugins import PluginManager, reset_manager  # noqa: E402
from emergebench.runner import RunOptions  # noqa: E402

TESTS_DIR = Path(__file__).parent


@pytest.fixture
def eb_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("EMERGEBENCH_HOME", str(home))
    monkeypatch.setenv("EMERGEBENCH_LOAD_PLUGINS", "")
    reset_manager()
    return home


@pytest.fixture
def manager(eb_home: Path) -> PluginManager:
    manager = PluginManager()
    manager.register_module(CoreTestPlugin, "core-test")
    return manager


@pytest.fixture
def options(eb_home: Path) -> RunOptions:
    return RunOptions(runs_dir=eb_home / "runs", cache_path=eb_home / "cache.sqlite", progress=False)
