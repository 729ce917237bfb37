"""The third-party story, end to end with real subprocesses: scaffold a plugin, build wheels, install
them into a fresh virtual environment, list, run, query, and push to a local Hub-API server.

Core dependencies come from PyPI (as in CI); set EMERGEBENCH_WHEELHOUSE to a folder of wheels to
install with --no-index instead."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def run(cmd: list[str], *, env: dict[str, str] | None = None, timeout: int = 300) -> str:
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env, timeout=timeout)
    assert done.returncode == 0, (
        f"{' '.join(map(str, cmd))} exited {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done.stdout


def test_scaffolded_plugin_from_wheel_to_hub(tmp_path: Path) -> None:
    hubserver = pytest.importorskip("emergebench_testing.hubserver")
    from huggingface_hub import HfApi

    # 1. Scaffold with the dev environment's CLI.
    plugin = tmp_path / "emergebench-letter-count"
    run([Path(sys.executable).parent / "emergebench", "new-plugin", "letter-count", "--dir", plugin])

    # 2. Build the wheels: core, registry, and the new plugin.
    wheels = tmp_path / "wheels"
    isolation = [] if importlib.util.find_spec("hatchling") is None else ["--no-build-isolation"]
    build = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", *isolation, "-w", wheels]
    run([*build, ROOT / "core", ROOT / "registry", plugin])
    core_whl = next(wheels.glob("emergebench_core-*.whl"))
    registry_whl = next(wheels.glob("emergebench_registry-*.whl"))
    plugin_whl = next(wheels.glob("emergebench_letter_count-*.whl"))

    # 3. A fresh virtual environment with the core and the registry.
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "EMERGEBENCH_HOME": str(tmp_path / "home"),
        "HF_HOME": str(tmp_path / "hf"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    for key in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CACHE_DIR", "XDG_CACHE_HOME"):
        if key in os.environ:
            env[key] = os.environ[key]
    if "PIP_CACHE_DIR" not in env:  # reuse the developer's pip cache so PyPI is asked as little as possible
        env["PIP_CACHE_DIR"] = str(Path.home() / ".cache" / "pip")
    house = os.environ.get("EMERGEBENCH_WHEELHOUSE")
    sources = ["--no-index", "--find-links", house] if house else []
    run(
        [bin_dir / "python", "-m", "pip", "install", "-q", *sources, "--find-links", wheels, core_whl, registry_whl],
        env=env,
    )

    # 4. `emergebench install` the plugin's wheel; it shows up in `emergebench tasks`.
    eb = bin_dir / "emergebench"
    run([eb, "install", plugin_whl], env=env)
    tasks = json.loads(run([eb, "tasks", "--json"], env=env))
    task = next(t for t in tasks if t["name"] == "letter-count")
    assert task["version"] == "1.0" and task["plugin"] == "letter-count"

    # 5. Run it on a scripted model.
    run([eb, "run", "letter-count", "-m", "scripted/constant", "-M", "reply=2", "--seed", "3"], env=env)

    # 6. Find the run with SQL.
    rows = json.loads(run([eb, "sql", "-f", "json", "SELECT run_id, task, task_version FROM runs"], env=env))
    assert [(r["task"], r["task_version"]) for r in rows] == [("letter-count", "1.0")]
    run_id = rows[0]["run_id"]

    # 7. Push it to the local Hub-API test server and see its shards there.
    with hubserver.HubServer() as hub:
        hub.create_repo("pool/results", repo_type="dataset")
        push_env = {**env, "HF_TOKEN": hub.token}
        run(
            [eb, "sync", "push", "--repo", "pool/results", "--endpoint", hub.endpoint, "--contributor", "ci"],
            env=push_env,
        )
        files = HfApi(endpoint=hub.endpoint, token=hub.token).list_repo_files("pool/results", repo_type="dataset")
    assert any(run_id in f and f.endswith(".parquet") for f in files), files
    assert "README.md" in files
