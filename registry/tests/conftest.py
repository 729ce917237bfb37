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
from huggingface_hub.utils._runtime import is_xet_available  # noqa: E402
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

    ``regular`` runs with the client as installed: hf_xet present and Xet on (nothing in that mode is
    uploaded through Xet or LFS, and downloads use Xet only when the server advertises it, which this
    one never does). ``lfs`` turns the client's Xet switch off: with hf_xet installed, huggingface_hub
    sends every LFS-mode file through Xet (it asks for ``xet-write-token``, which this server does not
    serve, and has no LFS fallback), so the LFS batch path is what it takes only without hf_xet or with
    ``HF_HUB_DISABLE_XET`` (see docs/pooling.md, "Offline").
    """
    xet_off = request.param == "lfs"
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_DISABLE_XET", xet_off)
    if xet_off:
        monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")  # the same for CLI subprocesses
    else:
        monkeypatch.delenv("HF_HUB_DISABLE_XET", raising=False)
        assert is_xet_available(), "hf_xet is a dependency of huggingface_hub[hf_xet]; this variant needs it"
    with HubServer(upload_mode=request.param) as hub:
        monkeypatch.setenv("HF_TOKEN", hub.token)
        yield hub
