"""`emergebench sweep` as users meet it: a real subprocess driving real worker processes, SIGKILLed
mid-sweep and run again (no duplicated run, no lost sample, no finished model call repeated)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from emergebench.journal import read_result

TESTS = Path(__file__).resolve().parent
MODELS = ["model_a", "model_b", "model_c", "model_d"]
N = 12  # questions per run


def sweep_file(tmp_path: Path, models: list[str] = MODELS) -> Path:
    lines = ["models = ["]
    lines += [f'  {{ id = "scripted/function", args = {{ function = "sweep_helpers:{m}" }} }},' for m in models]
    lines += ["]", f'tasks = [{{ name = "testtask/qa", args = {{ n = {N} }} }}]', "seeds = [0]"]
    path = tmp_path / "sweep.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EMERGEBENCH_", "SWEEP_"))}
    env.update(
        PYTHONPATH=str(TESTS),
        EMERGEBENCH_HOME=str(tmp_path / "home"),
        EMERGEBENCH_LOAD_PLUGINS="testtask",
        SWEEP_CALL_LOG=str(tmp_path / "calls.log"),
        PYTHONUNBUFFERED="1",
    )
    return env


def sweep(env: dict[str, str], *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emergebench", "sweep", *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def run_dirs(env: dict[str, str]) -> list[Path]:
    return sorted(p for p in (Path(env["EMERGEBENCH_HOME"]) / "runs").iterdir() if not p.name.startswith("."))


def journal_keys(run_dir: Path) -> list[tuple[str, int]]:
    """Every line's key, duplicates included: a resumed journal must not hold a sample twice."""
    keys = []
    for line in (run_dir / "journal.jsonl").read_text().splitlines():
        if line.strip():
            record = json.loads(line)
            keys.append((record["sample_id"], record["epoch"]))
    return keys


def logged_calls(env: dict[str, str]) -> Counter[str]:
    path = Path(env["SWEEP_CALL_LOG"])
    return Counter(path.read_text().splitlines()) if path.exists() else Counter()


def test_sweep_runs_every_spec_then_skips_them_all(tmp_path, env):
    first = sweep(env, str(sweep_file(tmp_path)), "--max-runs", "2", "--json")
    assert first.returncode == 0, first.stderr
    outcome = json.loads(first.stdout)
    assert [r["status"] for r in outcome["runs"]] == ["complete"] * 4
    assert sum(logged_calls(env).values()) == 4 * N
    # The scripted model_d answers 0: its accuracy is 0, the others' 1 (the runs really ran their model).
    for run_dir in run_dirs(env):
        result = read_result(run_dir)
        assert result.n_samples == N and result.status == "complete"
        accuracy = next(m.value for m in result.metrics if m.name == "accuracy")
        assert accuracy == (0.0 if result.spec.model_args["function"].endswith("model_d") else 1.0)

    again = sweep(env, str(sweep_file(tmp_path)), "--max-runs", "2", "--json")
    assert again.returncode == 0, again.stderr
    assert [r["status"] for r in json.loads(again.stdout)["runs"]] == ["skipped"] * 4
    assert len(run_dirs(env)) == 4  # no new run
    assert sum(logged_calls(env).values()) == 4 * N  # no new call


def test_sigkill_of_the_driver_then_rerun_duplicates_nothing(tmp_path, env):
    gate = 20  # of 48 calls: the sweep freezes part-way, with runs started and runs pending
    path = sweep_file(tmp_path)
    driver = subprocess.Popen(
        [sys.executable, "-m", "emergebench", "sweep", str(path), "--max-runs", "2", "-c", "2"],
        env={**env, "SWEEP_GATE": str(gate)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while sum(logged_calls(env).values()) < gate:
        assert time.monotonic() < deadline and driver.poll() is None, "the sweep never reached the gate"
        time.sleep(0.05)
    time.sleep(1.0)  # answers of calls made before the gate reach the cache and journals
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait(10)
    workers = [r.pid for r in map(read_result, run_dirs(env)) if r is not None and r.status == "running"]
    assert workers, "the kill should have caught runs in flight"
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in workers):  # workers die with their driver: no orphan writes on
        assert time.monotonic() < deadline, "worker processes outlived the SIGKILLed driver"
        time.sleep(0.05)

    resumed = sweep(env, str(path), "--max-runs", "2", "--json")
    assert resumed.returncode == 0, resumed.stderr
    statuses = [r["status"] for r in json.loads(resumed.stdout)["runs"]]
    assert set(statuses) <= {"complete", "skipped"} and "complete" in statuses  # skipped: done before the kill
    dirs = run_dirs(env)
    assert len(dirs) == 4  # one run per spec: killed runs were resumed, not restarted
    for run_dir in dirs:
        keys = journal_keys(run_dir)
        assert len(keys) == len(set(keys)) == N  # no duplicate, no lost sample
    calls = logged_calls(env)
    assert sum(calls.values()) == 4 * N and max(calls.values()) == 1  # no finished call was made twice


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by init) is as good as dead
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return True


def test_bad_sweep_files_fail_with_one_clear_line(tmp_path, env):
    bad = tmp_path / "bad.toml"
    bad.write_text('models = ["scripted/constant"]\ntasks = ["testtask/qa"]\nseeds = "zero"\n')
    result = sweep(env, str(bad))
    assert result.returncode != 0 and "seeds" in result.stderr and "Traceback" not in result.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("models: [unclosed\n")
    result = sweep(env, str(broken))
    assert result.returncode != 0 and "not valid YAML" in result.stderr and "Traceback" not in result.stderr
    result = sweep(env, "-m", "scripted/constant", "-t", "no/such-task")
    assert result.returncode != 0 and "no/such-task" in result.stderr and "Traceback" not in result.stderr
