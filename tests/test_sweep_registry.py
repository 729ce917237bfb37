"""A sweep skips specs whose complete run is in the registry even when the runs folder does not have
it: here the run was made in another home, exported as shards and imported (as a pull would)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def eb(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMERGEBENCH_")}
    env.update(EMERGEBENCH_HOME=str(home), EMERGEBENCH_LOAD_PLUGINS="testtask,registry")
    return subprocess.run(
        [sys.executable, "-m", "emergebench", *args], capture_output=True, text=True, env=env, timeout=240
    )


SWEEP = ["sweep", "-m", "scripted/constant", "-t", "testtask/qa", "-T", "n=5", "--seed", "3", "--json"]


def test_a_run_known_only_to_the_registry_is_skipped(tmp_path: Path) -> None:
    theirs, ours = tmp_path / "theirs", tmp_path / "ours"
    made = eb(theirs, *SWEEP)
    assert made.returncode == 0, made.stderr
    (run,) = json.loads(made.stdout)["runs"]
    assert run["status"] == "complete"  # wrong answers ("OK"), but every sample has its result
    exported = eb(theirs, "export", "--out", str(tmp_path / "shards"))
    assert exported.returncode == 0, exported.stderr
    assert eb(ours, "import", str(tmp_path / "shards")).returncode == 0
    again = json.loads(eb(ours, *SWEEP).stdout)["runs"]
    assert [(r["status"], r["run_id"]) for r in again] == [("skipped", run["run_id"])]
    assert not (ours / "runs").exists() or all(p.name.startswith(".") for p in (ours / "runs").iterdir())
