"""Fixtures for the registry tests: an isolated home, a plugin manager with the test task, a Hub."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from emergebench.plugins import PluginManager, reset_manager  # noqa: E402
from emergebench.runner import RunOptions, build_spec, run_sync  # noqa: E402
from emergebench_registry.store import Store  # noqa: E402
from emergebench_testing.hubserver import HubServer  # noqa: E402
from registry_testplugin import RegTestPlugin  # noqa: E402


@pytest.fixture
def reg_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("EMERGEBENCH_HOME", str(home))
    monkeypatch.setenv("EMERGEBENCH_LOAD_PLUGINS", "registry")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.delenv("EMERGEBENCH_REGISTRY", raising=False)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    reset_manager()
    yield home
    reset_manager()


@pytest.fixture
def reg_manager(reg_home: Path) -> PluginManager:
    manager = PluginManager()
    manager.register_module(RegTestPlugin, "regtest")
    return manager


@pytest.fixture
def reg_store(reg_home: Path) -> Store:
    return Store()


@pytest.fixture
def reg_run(reg_home: Path, reg_manager: PluginManager):
    """Run the quiz task: reg_run(model="scripted/constant", model_args=..., **build_spec kwargs)."""

    def run(model: str = "scripted/function", task: str = "regtest/quiz", **kwargs):
        if model == "scripted/function" and "model_args" not in kwargs:
            kwargs["model_args"] = {"function": "registry_testplugin:solve_sum"}
        spec = build_spec(task, model, manager=reg_manager, **kwargs)
        options = RunOptions(runs_dir=reg_home / "runs", cache_path=reg_home / "cache.sqlite", progress=False)
        return run_sync(spec, options, reg_manager)

    return run


@pytest.fixture(params=["regular", "lfs"])
def reg_hub(reg_home: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[HubServer]:
    """The Hub test server, once answering ``regular`` and once ``lfs`` (the real Hub's answer for .parquet).

    The LFS path is what huggingface_hub takes when hf_xet is absent (or disabled); the test server does
    not speak Xet, so the client's Xet switch is turned off for this test.
    """
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_DISABLE_XET", True)
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")  # the same for CLI subprocesses
    with HubServer(upload_mode=request.param) as hub:
        monkeypatch.setenv("HF_TOKEN", hub.token)
        yield hub
