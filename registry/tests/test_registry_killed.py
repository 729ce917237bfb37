"""A run killed with SIGKILL is stored as 'killed' (its run.json still says running; its writer is gone)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from emergebench.journal import iter_journal
from emergebench_registry.ingest import changed_run_dirs, ingest_changed
from emergebench_registry.query import run_sql
from emergebench_registry.shards import export_runs, import_paths
from emergebench_registry.store import Store

TESTS = Path(__file__).resolve().parent


def cli_env(tmp_path: Path, home: Path) -> dict[str, str]:
    """PYTHONPATH with an installed-looking distribution whose entry point is the registry test plugin."""
    site = tmp_path / "site"
    info = site / "eb_registry_test-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: eb-registry-test\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[emergebench]\nregtest = registry_testplugin:RegTestPlugin\n")
    env = dict(os.environ)
    env.update(
        PYTHONPATH=os.pathsep.join([str(site), str(TESTS)]),
        EMERGEBENCH_HOME=str(home),
        EMERGEBENCH_LOAD_PLUGINS="registry,regtest",
    )
    env.pop("EMERGEBENCH_REGISTRY", None)
    return env


def wait_for_lines(home: Path, n: int, timeout: float = 60) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in home.glob("runs/*/journal.jsonl"):
            if path.read_bytes().count(b"\n") >= n:
                return path
        time.sleep(0.02)
    raise AssertionError(f"journal never reached {n} lines")


def test_sigkilled_run_is_stored_as_killed(reg_home: Path, tmp_path: Path) -> None:
    env = cli_env(tmp_path, reg_home)
    run = ["run", "regtest/quiz", "-m", "scripted/constant", "-M", "delay_s=0.05", "-T", "n=400", "-c", "1"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "emergebench", *run], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        journal = wait_for_lines(reg_home, 3)
        run_dir = journal.parent
        assert json.loads((run_dir / "run.json").read_text())["pid"] == proc.pid
        # Frozen, the writer is alive but its files stop changing: the run is stored as running.
        proc.send_signal(signal.SIGSTOP)
        store = Store()
        assert [r.status for r in ingest_changed(store)] == ["running"]
        assert changed_run_dirs(store) == [], "a live run whose files did not change is not re-ingested"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    assert json.loads((run_dir / "run.json").read_text())["status"] == "running", "SIGKILL leaves run.json as is"
    # No file changed since the last ingest: only the liveness check can notice the dead writer.
    assert changed_run_dirs(store) == [run_dir]
    reports = ingest_changed(store)
    done = len(list(iter_journal(journal)))
    assert done >= 3
    assert [(r.status, r.samples) for r in reports] == [("killed", done)]
    row = run_sql(store, "SELECT status, n_samples, n_expected FROM runs").rows
    assert row == [("killed", done, 400)]
    assert changed_run_dirs(store) == [], "a killed run is ingested once, not on every scan"
    latest = run_sql(store, "SELECT status FROM latest_runs").rows
    assert latest == [("killed",)], "a killed run has finished writing: it is a result like an interrupted one"
    # Killed runs are pooled like other finished runs: their shards export and import with the status kept.
    with store.reader() as con:
        exported = export_runs(con, tmp_path / "out")
    assert len(exported.runs) == 1
    other = Store(tmp_path / "other.duckdb")
    import_paths(other, [tmp_path / "out"])
    assert run_sql(other, "SELECT status, n_samples FROM runs").rows == [("killed", done)]
