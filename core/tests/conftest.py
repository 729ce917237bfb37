"""Shared fixtures for the core's tests: an isolated home and a small arithmetic task plugin."""

from __future__ import annotations

import os
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


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """Environment for CLI subprocesses: an installed-looking distribution whose entry point is
    coretest_plugin, and an isolated home. An outer PYTHONPATH is kept (after the test plugin)."""
    site = tmp_path / "site"
    info = site / "eb_core_test-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: eb-core-test\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[emergebench]\ncore-test = coretest_plugin:CoreTestPlugin\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMERGEBENCH_")}
    env.update(
        PYTHONPATH=os.pathsep.join([str(site), str(TESTS_DIR), *filter(None, [os.environ.get("PYTHONPATH")])]),
        EMERGEBENCH_HOME=str(tmp_path / "home"),
        EMERGEBENCH_LOAD_PLUGINS="core-test",
        PYTHONUNBUFFERED="1",
    )
    return env
