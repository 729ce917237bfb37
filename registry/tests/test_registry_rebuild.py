"""A damaged registry file is explained by every command and rebuilt from the truth on disk (#11.7),
and one bad run folder never blocks anything (#11.8). Real DuckDB files, real CLI subprocesses."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from emergebench_registry.query import run_sql
from emergebench_registry.shards import export_runs
from emergebench_registry.store import Store
from emergebench_registry.sync import pull
from emergebench_testing.hubserver import HubServer
from test_registry_cli import eb
from test_registry_killed import cli_env

TABLES = ["runs", "samples", "scores", "model_calls", "metrics", "model_sources", "models"]
REPO = "strangers/pool"


def counts(store: Store) -> dict[str, int]:
    return {t: run_sql(store, f"SELECT count(*) FROM {t}").rows[0][0] for t in TABLES}


def damage(path: Path, how: str) -> None:
    if how == "truncated":
        os.truncate(path, path.stat().st_size // 2)
    elif how == "garbage":
        path.write_bytes(b"this is not a database\n" * 400)
    else:
        os.truncate(path, 0)


def pulled_run(reg_run, reg_store: Store, hub: HubServer, tmp_path: Path) -> str:
    """A run that exists here only as pulled shards: its folder and local rows are removed first."""
    result = reg_run(model="scripted/constant", model_args={"reply": "2"})
    out = tmp_path / "stranger"
    with reg_store.reader() as con:
        export_runs(con, out, [result.run_id])
    with reg_store.writer() as con:
        for table in ("runs", "samples", "scores", "model_calls", "metrics", "ingest_log"):
            con.execute(f"DELETE FROM {table} WHERE run_id = ?", [result.run_id])
        con.execute("DELETE FROM model_sources WHERE model_id = 'scripted/constant'")
    shutil.rmtree(reg_store.path.parent / "runs" / result.run_id)
    hub.create_repo(REPO, repo_type="dataset")
    hub.put_files(REPO, {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*.parquet")}, repo_type="dataset")
    assert pull(reg_store, REPO, hub.endpoint).imported == [result.run_id]
    return result.run_id


@pytest.mark.parametrize("how", ["truncated", "garbage", "empty"])
def test_every_command_explains_a_damaged_store(reg_run, reg_store: Store, reg_home: Path, how: str) -> None:
    reg_run()
    damage(reg_store.path, how)
    commands = [
        ["sql", "SELECT 1"],
        ["leaderboard"],
        ["runs"],
        ["ingest"],
        ["export", "--out", str(reg_home / "out")],
        ["compare", "a", "b"],
        ["sync", "push", "--repo", "a/b", "--endpoint", "http://127.0.0.1:9"],
        ["sync", "pull", "--repo", "a/b", "--endpoint", "http://127.0.0.1:9"],
    ]
    if how != "truncated":
        commands = commands[:2]  # every command on one kind of damage, two commands on the others
    for args in commands:
        out = eb(reg_home, *args)
        assert out.returncode != 0, (args, out.stdout)
        assert "Traceback" not in out.stderr, (args, out.stderr)
        if args[0] == "sync" and args[1] == "pull":
            continue  # pull talks to the Hub before it opens the store; the unreachable endpoint answers first
        assert "is damaged" in out.stderr and "emergebench registry rebuild" in out.stderr, (args, out.stderr)


def test_run_says_when_its_ingest_failed(reg_home: Path, tmp_path: Path, reg_store: Store) -> None:
    with reg_store.writer():
        pass
    damage(reg_store.path, "garbage")
    env = cli_env(tmp_path, reg_home)
    done = subprocess.run(
        [sys.executable, "-m", "emergebench", "run", "regtest/quiz", "-m", "scripted/constant", "--limit", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr  # the run itself succeeded and is on disk
    assert "was not added to the registry" in done.stderr and "registry rebuild" in done.stderr
    assert "Traceback" not in done.stderr
    rebuilt = subprocess.run(
        [sys.executable, "-m", "emergebench", "registry", "rebuild"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert run_sql(
        Store(reg_store.path),
        "SELECT count(*) FROM samples",
    ).rows == [(2,)]


@pytest.mark.parametrize("how", ["truncated", "garbage"])
def test_rebuild_restores_the_same_rows(
    reg_run, reg_store: Store, reg_home: Path, reg_hub: HubServer, tmp_path: Path, how: str
) -> None:
    reg_run()
    reg_run(limit=3)
    pulled = pulled_run(reg_run, reg_store, reg_hub, tmp_path)
    before = counts(reg_store)
    assert before["runs"] == 3 and before["samples"] == 6 + 3 + 6
    sources = run_sql(reg_store, "SELECT run_id, source FROM runs ORDER BY 1").rows
    assert (pulled, f"hub:{REPO}") in sources
    models = run_sql(reg_store, "SELECT * FROM model_sources ORDER BY ALL").rows
    damage(reg_store.path, how)
    out = eb(reg_home, "registry", "rebuild")
    assert out.returncode == 0, out.stderr
    assert "2 local run(s)" in out.stdout and "1 pulled or imported run(s)" in out.stdout
    fresh = Store(reg_store.path)
    assert counts(fresh) == before
    assert run_sql(fresh, "SELECT run_id, source FROM runs ORDER BY 1").rows == sources
    assert run_sql(fresh, "SELECT * FROM model_sources ORDER BY ALL").rows == models
    aside = [p for p in reg_store.path.parent.iterdir() if ".replaced-" in p.name]
    assert len(aside) == 1
    assert eb(reg_home, "leaderboard").returncode == 0


def bad_copy(run_dir: Path, suffix: str, **spec_changes: object) -> Path:
    """A copy of a run folder under a new run id with some spec fields changed (as a hand edit would)."""
    copy = run_dir.with_name(run_dir.name + suffix)
    shutil.copytree(run_dir, copy)
    spec = json.loads((copy / "spec.json").read_text())
    spec.update(spec_changes)
    (copy / "spec.json").write_text(json.dumps(spec))
    result = json.loads((copy / "run.json").read_text())
    result["run_id"] = copy.name
    result["spec"].update(spec_changes)
    (copy / "run.json").write_text(json.dumps(result))
    return copy


def test_one_bad_run_folder_never_blocks_other_commands(reg_run, reg_home: Path, reg_hub: HubServer) -> None:
    good = reg_run()
    run_dir = reg_home / "runs" / good.run_id
    huge_seed = bad_copy(run_dir, "-seed", seed=2**63)
    huge_limit = bad_copy(run_dir, "-limit", limit=2**64)
    broken = bad_copy(run_dir, "-broken")
    (broken / "run.json").write_text('{"run_id": "torn')
    for args in (
        ["leaderboard"],
        ["runs"],
        ["sql", "SELECT count(*) FROM runs"],
        ["sync", "push", "--repo", "org/pool", "--endpoint", reg_hub.endpoint],
    ):
        out = eb(reg_home, *args)
        assert out.returncode == 0, (args, out.stderr)
        assert "Traceback" not in out.stderr
        assert f"{huge_seed.name} skipped" in out.stderr and "seed = 9223372036854775808 is outside" in out.stderr
        assert f"{huge_limit.name} skipped" in out.stderr and "sample_limit = 18446744073709551616" in out.stderr
        assert f"{broken.name} skipped" in out.stderr and "run.json is not a valid run result" in out.stderr
    assert [p for p in reg_hub.files("org/pool", repo_type="dataset") if p.startswith("data/runs/")] == [
        f"data/runs/regtest/quiz/{good.run_id}.parquet"
    ]
    ingest = eb(reg_home, "ingest", str(huge_seed), str(run_dir))
    assert ingest.returncode == 1 and "1 skipped" in ingest.stdout and "Traceback" not in ingest.stderr
    assert f"{good.run_id}: complete" in ingest.stdout


def test_rebuild_stores_a_kept_source_in_one_batch_and_names_a_conflicting_run(
    reg_run, reg_store: Store, reg_home: Path, tmp_path: Path
) -> None:
    """A kept source is stored in one transaction; when one of its runs conflicts with a local run
    folder (here: the folder's spec was edited to another task version), the batch is refused and
    each run is stored on its own: the conflict is named, the other pulled runs still land."""
    from emergebench_registry.kept import keep
    from emergebench_registry.shards import bundle, read_shard

    clash, *pulled = [reg_run(seed=seed).run_id for seed in (1, 2, 3)]
    out = tmp_path / "stranger"
    with reg_store.reader() as con:
        export_runs(con, out, [clash, *pulled])
    runs, problems = bundle([read_shard(p, label=str(p.relative_to(out))) for p in sorted(out.rglob("*.parquet"))])
    assert not problems and len(runs) == 3
    keep(reg_store.path, runs, f"hub:{REPO}", f"hub:{REPO}@main")
    runs_dir = reg_home / "runs"
    for run_id in pulled:
        shutil.rmtree(runs_dir / run_id)
    spec_file = runs_dir / clash / "spec.json"
    spec_file.write_text(json.dumps({**json.loads(spec_file.read_text()), "task_version": "999"}))
    damage(reg_store.path, "garbage")

    out_cli = eb(reg_home, "registry", "rebuild")

    assert out_cli.returncode == 1, out_cli.stderr
    assert f"run {clash!r} already exists in the store with a different spec" in out_cli.stderr
    assert "Traceback" not in out_cli.stderr
    assert "1 local run(s)" in out_cli.stdout and "2 pulled or imported run(s)" in out_cli.stdout
    rows = run_sql(Store(reg_store.path), "SELECT run_id, source, task_version FROM runs").rows
    assert {r[0]: r[1] for r in rows} == {clash: "local", **{run_id: f"hub:{REPO}" for run_id in pulled}}
    versions = {r[0]: r[2] for r in rows}
    assert versions[clash] == "999" and all(versions[run_id] != "999" for run_id in pulled)
