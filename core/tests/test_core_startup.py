"""Start-up stays small however many plugins are installed: `--help`, `--version` and the listings answer
from the plugin index without importing any plugin, and `run` imports only the plugins it needs. The
index follows the installed plugins: editing one makes it re-read (real subprocesses)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

# Modules that start-up must not pay for (BoxingGym's scipy alone took about a second on main).
HEAVY = {
    "scipy",
    "numpy",
    "duckdb",
    "pyarrow",
    "pydantic",
    "xllamacpp",
    "aiohttp",
    "huggingface_hub",
    "emergebench.records",
    "emergebench.runner",
    "emergebench_boxinggym",
    "emergebench_mars",
    "emergebench_skill_mix",
    "emergebench_donor_game",
    "emergebench_openai",
    "emergebench_llamacpp",
    "emergebench_registry",
}


# Runs the CLI as `python -m emergebench ARGS` and writes sys.modules at exit (entry points are loaded
# through importlib.import_module, which `-X importtime` does not report).
PROBE = """
import atexit, json, runpy, sys
out, sys.argv = sys.argv[1], ["emergebench", *sys.argv[2:]]
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
runpy.run_module("emergebench", run_name="__main__")
"""


def imported_modules(env: dict[str, str], *args: str) -> set[str]:
    fd, path = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    try:
        done = subprocess.run(
            [sys.executable, "-c", PROBE, path, *args], capture_output=True, text=True, env=env, timeout=300
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return set(json.loads(Path(path).read_text()))
    finally:
        os.unlink(path)


@pytest.fixture
def all_plugins_env(tmp_path: Path) -> dict[str, str]:
    """The installed environment as a user has it: every first-party plugin, a fresh home."""
    env = {k: v for k, v in os.environ.items() if k != "EMERGEBENCH_LOAD_PLUGINS"}
    env["EMERGEBENCH_HOME"] = str(tmp_path / "home")
    return env


def test_help_and_listings_import_no_plugin_once_indexed(all_plugins_env: dict[str, str]) -> None:
    first = imported_modules(all_plugins_env, "tasks")  # builds the index: every plugin is imported once
    assert {"emergebench_boxinggym", "emergebench_mars"} <= {m.split(".")[0] for m in first}
    for args in (["--help"], ["--version"], ["tasks"], ["models"], ["graders"]):
        modules = imported_modules(all_plugins_env, *args)
        heavy = sorted(m for m in modules if m in HEAVY or m.split(".")[0] in HEAVY - {"emergebench"})
        assert not heavy, f"`emergebench {' '.join(args)}` imported {heavy}"


def test_run_imports_only_the_plugins_it_needs(all_plugins_env: dict[str, str]) -> None:
    imported_modules(all_plugins_env, "tasks")
    modules = imported_modules(
        all_plugins_env, "run", "testtask/qa", "-m", "scripted/constant", "-M", "reply=4", "--limit", "2"
    )
    loaded = {m.split(".")[0] for m in modules}
    assert "emergebench_testtask" in loaded and "emergebench_registry" in loaded  # task + run listener
    assert not loaded & {"emergebench_boxinggym", "emergebench_mars", "scipy", "xllamacpp", "emergebench_llamacpp"}


def test_index_follows_an_edited_plugin(cli_env: dict[str, str], tmp_path: Path) -> None:
    """A plugin that changes on disk (an editable install being edited) is re-read, never served stale."""
    module = tmp_path / "site" / "eb_growing.py"
    info = tmp_path / "site" / "eb_growing-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: eb-growing\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[emergebench]\ngrowing = eb_growing\n")
    task = textwrap.dedent(
        """
        class T{n}(Task):
            name = "growing/t{n}"
            version = "1"
            description = "task number {n}"
            def dataset(self, seed):
                return [Sample(id="a", input="x")]
        """
    )
    header = "from emergebench import Sample, Task, hookimpl\n"
    footer = "\n@hookimpl\ndef register_tasks(register):\n    for t in TASKS:\n        register(t)\n"
    module.write_text(header + task.format(n=1) + "TASKS = [T1]\n" + footer)
    env = {**cli_env, "EMERGEBENCH_LOAD_PLUGINS": "core-test,growing"}

    def listed() -> str:
        out = subprocess.run(
            [sys.executable, "-m", "emergebench", "tasks"], capture_output=True, text=True, env=env, timeout=120
        )
        assert out.returncode == 0, out.stderr
        return out.stdout

    assert "growing/t1" in listed() and "growing/t2" not in listed()
    module.write_text(header + task.format(n=1) + task.format(n=2) + "TASKS = [T1, T2]\n" + footer)
    os.utime(module, ns=(module.stat().st_atime_ns, module.stat().st_mtime_ns + 10**9))
    assert "growing/t2" in listed()
