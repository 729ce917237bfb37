"""Pulled model metadata never rewrites what local runs say (issue #11.3), through the real Hub client."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from emergebench_registry.query import run_sql
from emergebench_registry.schema import SHARD_SCHEMAS
from emergebench_registry.shards import export_runs
from emergebench_registry.store import Store
from emergebench_registry.sync import pull
from emergebench_testing.hubserver import HubServer
from test_registry_cli import eb

REPO = "strangers/pool"


def remote_run(reg_run, reg_store: Store, tmp_path: Path) -> tuple[str, dict[str, bytes]]:
    """A run made here, exported, then removed from the local store: it plays a stranger's run."""
    result = reg_run(model="scripted/constant", model_args={"reply": "2"})
    out = tmp_path / "remote"
    with reg_store.reader() as con:
        export_runs(con, out, [result.run_id])
    with reg_store.writer() as con:
        for table in ("runs", "samples", "scores", "model_calls", "metrics"):
            con.execute(f"DELETE FROM {table} WHERE run_id = ?", [result.run_id])
        con.execute("DELETE FROM model_sources WHERE model_id = 'scripted/constant'")
    files = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*.parquet")}
    return result.run_id, files


def models_shard(rows: list[dict]) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=SHARD_SCHEMAS["models"]), sink, compression="zstd")
    return sink.getvalue()


def model_row(model_id: str, family: str | None, parameters: int | None) -> dict:
    provider, _, name = model_id.partition("/")
    return {
        "model_id": model_id,
        "provider": provider,
        "name": name,
        "family": family,
        "parameters": parameters,
        "quantization": None,
    }


def test_pulled_models_shard_cannot_rewrite_local_models(reg_run, reg_store: Store, reg_hub: HubServer, tmp_path: Path):
    local = reg_run()  # scripted/function, family "scripted", run here
    before = run_sql(reg_store, "SELECT * FROM models ORDER BY model_id").rows
    run_id, files = remote_run(reg_run, reg_store, tmp_path)
    # The stranger's run used a grader-less scripted/constant; its models shard lies about the local model.
    [models_path] = [p for p in files if p.startswith("data/models/")]
    runs = pq.read_table(io.BytesIO(files[[p for p in files if p.startswith("data/runs/")][0]]))
    # Make the remote run claim it used the local model id, and describe that model differently.
    runs = runs.set_column(runs.schema.get_field_index("model_id"), "model_id", pa.array(["scripted/function"]))
    sink = io.BytesIO()
    pq.write_table(runs, sink, compression="zstd")
    files[[p for p in files if p.startswith("data/runs/")][0]] = sink.getvalue()
    files[models_path] = models_shard([model_row("scripted/function", "evil-family", 666)])
    reg_hub.create_repo(REPO, repo_type="dataset")
    reg_hub.put_files(REPO, files, repo_type="dataset")
    report = pull(reg_store, REPO, reg_hub.endpoint)
    assert report.imported == [run_id] and not report.rejected
    # The local view is unchanged; the remote description is kept under its source and shown as a conflict.
    assert run_sql(reg_store, "SELECT * FROM models ORDER BY model_id").rows == before
    rows = run_sql(reg_store, "SELECT source, family, parameters, shown FROM model_conflicts ORDER BY source").rows
    assert rows == [
        (f"hub:{REPO}@main", "evil-family", 666, "local"),
        ("local", before[0][3], before[0][4], "local"),
    ]
    listing = eb(reg_store.path.parent, "runs")
    assert listing.returncode == 0, listing.stderr
    assert "1 model(s) are described differently" in listing.stderr and "model_conflicts" in listing.stderr
    detail = eb(reg_store.path.parent, "runs", local.run_id)
    assert "evil-family" in detail.stdout and "local" in detail.stdout


def test_models_shard_listing_unused_models_is_refused(reg_run, reg_store: Store, reg_hub: HubServer, tmp_path: Path):
    reg_run()
    run_id, files = remote_run(reg_run, reg_store, tmp_path)
    [models_path] = [p for p in files if p.startswith("data/models/")]
    files[models_path] = models_shard(
        [model_row("scripted/constant", "scripted", None), model_row("ghost/never-ran", "ghost", 10**12)]
    )
    reg_hub.create_repo(REPO, repo_type="dataset")
    reg_hub.put_files(REPO, files, repo_type="dataset")
    report = pull(reg_store, REPO, reg_hub.endpoint)
    assert report.imported == []
    assert any("ghost/never-ran" in p and "does not use" in p for p in report.rejected.values())
    assert run_sql(reg_store, "SELECT count(*) FROM models WHERE model_id = 'ghost/never-ran'").rows == [(0,)]
    assert run_sql(reg_store, "SELECT count(*) FROM runs WHERE run_id = ?", params=[run_id]).rows == [(0,)]


def test_pulled_copy_never_replaces_a_local_run(reg_run, reg_store: Store, reg_hub: HubServer, tmp_path: Path):
    """A stranger republishing one of my unfinished (killed) runs as complete does not overwrite it."""
    result = reg_run()
    out = tmp_path / "mine"
    with reg_store.reader() as con:
        export_runs(con, out, [result.run_id])
    with reg_store.writer() as con:
        con.execute("UPDATE runs SET status = 'killed', n_samples = 1 WHERE run_id = ?", [result.run_id])
    files = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*.parquet")}
    reg_hub.create_repo(REPO, repo_type="dataset")
    reg_hub.put_files(REPO, files, repo_type="dataset")
    report = pull(reg_store, REPO, reg_hub.endpoint)
    assert report.imported == [] and any("local run" in p for p in report.rejected.values())
    assert run_sql(reg_store, "SELECT status, source FROM runs").rows == [("killed", "local")]


def test_migration_attributes_existing_models_to_their_sources(tmp_path: Path) -> None:
    """A v3 store: models used by local runs become local rows; rows no run uses are dropped."""
    import duckdb
    from emergebench_registry.schema import MIGRATIONS, migrate

    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_info (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ)")
    for number, step in enumerate(MIGRATIONS[:3], start=1):
        step(con)
        con.execute("INSERT INTO schema_info VALUES (?, now())", [number])
    con.execute(
        "INSERT INTO models VALUES ('a/local', 'a', 'local', 'fam', 1, NULL), "
        "('b/pulled', 'b', 'pulled', 'fam', 2, NULL), ('c/ghost', 'c', 'ghost', NULL, NULL, NULL)"
    )
    con.execute(
        "INSERT INTO runs (run_id, status, task, model_id, source) VALUES "
        "('r1', 'complete', 't', 'a/local', 'local'), ('r2', 'complete', 't', 'b/pulled', 'hub:x/y'), "
        "('r3', 'complete', 't', 'a/local', 'hub:x/y')"
    )
    migrate(con)
    assert con.execute("SELECT model_id, source FROM model_sources ORDER BY 1").fetchall() == [
        ("a/local", "local"),
        ("b/pulled", "hub:x/y"),
    ]
    assert con.execute("SELECT model_id, family FROM models ORDER BY 1").fetchall() == [
        ("a/local", "fam"),
        ("b/pulled", "fam"),
    ]
    con.close()
