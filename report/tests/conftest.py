"""Fixtures for the report tests: an isolated home with the registry and the toy test plugin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import report_testplugin  # noqa: E402
from emergebench.plugins import get_manager, reset_manager  # noqa: E402
from emergebench.runner import RunOptions, build_spec, run_sync  # noqa: E402

TESTS = Path(__file__).parent


@pytest.fixture
def rep_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("EMERGEBENCH_HOME", str(home))
    monkeypatch.setenv("EMERGEBENCH_LOAD_PLUGINS", "registry,report,mars,donor-game,boxinggym,skill-mix")
    monkeypatch.delenv("EMERGEBENCH_REGISTRY", raising=False)
    reset_manager()
    get_manager().register_module(report_testplugin, "rtest")
    yield home
    reset_manager()


@pytest.fixture
def rep_run(rep_home: Path):
    """Run a task on a model through the real runner; the registry ingests it when it ends."""

    def run(model: str, task: str = "rtest/mirage", **kwargs):
        manager = get_manager()
        spec = build_spec(task, model, manager=manager, **kwargs)
        options = RunOptions(runs_dir=rep_home / "runs", cache_path=rep_home / "cache.sqlite", progress=False)
        return run_sync(spec, options, manager)

    return run


@pytest.fixture(scope="session")
def bundle_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the Vega bundle once per session (tens of seconds) and hand out copies."""
    home = tmp_path_factory.mktemp("bundle-home")
    env = dict(os.environ, EMERGEBENCH_HOME=str(home))
    code = "from emergebench_report import bundle; bundle.javascript_bundle(); print(bundle.bundle_path())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return Path(out.stdout.strip())
