"""Export and import of Parquet shards, with hostile shards rejected and the store left untouched."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from emergebench_registry.query import run_sql
from emergebench_registry.shards import ShardError, export_runs, import_paths, shard_path
from emergebench_registry.store import Store

TABLES = ["runs", "models", "samples", "scores", "model_calls", "metrics"]
SNAPSHOT = {
    # Store-only columns (where a copy came from, what calls cost) are not in shards.
    "runs": "SELECT * EXCLUDE (source, ingested_at, cost_usd) FROM runs ORDER BY run_id",
    "samples": "SELECT * FROM samples ORDER BY ALL",
    "scores": "SELECT * FROM scores ORDER BY ALL",
    "model_calls": "SELECT * EXCLUDE (cost_usd) FROM model_calls ORDER BY run_id, sample_id, epoch, call_index",
    "metrics": "SELECT * FROM metrics ORDER BY ALL",
    "models": "SELECT * FROM models ORDER BY ALL",
}


def snapshot(store: Store) -> dict[str, list]:
    return {name: run_sql(store, sql).rows for name, sql in SNAPSHOT.items()}


def exported(reg_run, reg_store: Store, out: Path) -> str:
    result = reg_run()
    with reg_store.reader() as con:
        report = export_runs(con, out)
    assert len(report.written) == 6 and report.runs == [result.run_id]
    return result.run_id


def test_export_layout_and_roundtrip_into_fresh_store(reg_run, reg_store: Store, tmp_path: Path) -> None:
    out = tmp_path / "shards"
    run_id = exported(reg_run, reg_store, out)
    for table in TABLES:
        path = out / shard_path(table, "regtest/quiz", run_id)
        assert path.exists()
        assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "ZSTD"
    with reg_store.reader() as con:
        again = export_runs(con, out)
    assert again.written == [] and len(again.skipped) == 6  # immutable: never rewritten
    fresh = Store(tmp_path / "fresh.duckdb")
    report = import_paths(fresh, [out])
    assert report.imported == [run_id]
    assert snapshot(fresh) == snapshot(reg_store)
    assert import_paths(fresh, [out]).unchanged == [run_id]  # idempotent
    assert snapshot(fresh) == snapshot(reg_store)


def _rewrite(path: Path, table: pa.Table) -> None:
    pq.write_table(table, path, compression="zstd")


HOSTILE = {
    "truncated": lambda p, t: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "not parquet": lambda p, t: p.write_bytes(b"PAR1 this is not really parquet PAR1"),
    "extra column": lambda p, t: _rewrite(p, t.append_column("evil", pa.array(["x"] * t.num_rows))),
    "missing column": lambda p, t: _rewrite(p, t.drop_columns(["answer"])),
    "wrong type": lambda p, t: _rewrite(
        p, t.set_column(2, "epoch", pa.array([str(x) for x in t["epoch"].to_pylist()]))
    ),
    "duplicate key, other contents": lambda p, t: _rewrite(
        p, pa.concat_tables([t, t.slice(0, 1).set_column(5, "answer", pa.array(["forged"]))])
    ),
    "rows of another run": lambda p, t: _rewrite(p, t.set_column(0, "run_id", pa.array(["someone-else"] * t.num_rows))),
    "invalid json": lambda p, t: _rewrite(p, t.set_column(8, "metadata", pa.array(["{not json"] * t.num_rows))),
    "negative epoch": lambda p, t: _rewrite(p, t.set_column(2, "epoch", pa.array([-1] * t.num_rows, pa.int64()))),
}
EXPECTED = {
    "truncated": "not a complete Parquet file",
    "not parquet": "unreadable Parquet footer",
    "extra column": "unexpected columns ['evil']",
    "missing column": "missing columns ['answer']",
    "wrong type": "column 'epoch' has type string, expected int64",
    "duplicate key, other contents": "duplicate key",
    "rows of another run": "holds rows of run(s) ['someone-else']",
    "invalid json": "invalid JSON",
    "negative epoch": "negative value",
}


@pytest.fixture(scope="module")
def hostile_base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Built once: shards of one run in ``shards/`` and a target store already holding another run."""
    import os

    from emergebench.plugins import PluginManager, reset_manager
    from emergebench.runner import RunOptions, build_spec, run_sync
    from registry_testplugin import RegTestPlugin

    base = tmp_path_factory.mktemp("hostile")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EMERGEBENCH_HOME", str(base / "home"))
        mp.setenv("EMERGEBENCH_LOAD_PLUGINS", "registry")
        reset_manager()
        manager = PluginManager()
        manager.register_module(RegTestPlugin, "regtest")
        options = RunOptions(runs_dir=base / "home" / "runs", cache_path=base / "cache.sqlite", progress=False)
        good = run_sync(
            build_spec(
                "regtest/quiz",
                "scripted/function",
                manager=manager,
                model_args={"function": "registry_testplugin:solve_sum"},
            ),
            options,
            manager,
        )
        other = run_sync(
            build_spec("regtest/quiz", "scripted/constant", manager=manager, model_args={"reply": "1"}),
            options,
            manager,
        )
        store = Store()
        with store.reader() as con:
            export_runs(con, base / "shards", [good.run_id])
            export_runs(con, base / "other", [other.run_id])
        import_paths(Store(base / "target.duckdb"), [base / "other"])
        reset_manager()
        assert os.environ["EMERGEBENCH_HOME"] == str(base / "home")
    return base, good.run_id


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_sample_shard_rejected_store_unchanged(hostile_base, tmp_path: Path, kind: str) -> None:
    import shutil

    base, run_id = hostile_base
    out = tmp_path / "shards"
    shutil.copytree(base / "shards", out)
    shutil.copy(base / "target.duckdb", tmp_path / "target.duckdb")
    target = Store(tmp_path / "target.duckdb")
    before = snapshot(target)
    assert len(before["runs"]) == 1
    bad = out / shard_path("samples", "regtest/quiz", run_id)
    HOSTILE[kind](bad, pq.read_table(bad))
    with pytest.raises(ShardError) as err:
        import_paths(target, [out])
    assert str(bad) in str(err.value) and EXPECTED[kind] in str(err.value)
    assert "the registry was not changed" in str(err.value)
    assert snapshot(target) == before


def test_absurd_row_count_and_incomplete_run(reg_run, reg_store: Store, tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "shards"
    run_id = exported(reg_run, reg_store, out)
    target = Store(tmp_path / "target.duckdb")
    monkeypatch.setenv("EMERGEBENCH_MAX_SHARD_ROWS", "3")
    with pytest.raises(ShardError, match="claims 6 rows, more than the 3 allowed"):
        import_paths(target, [out])
    monkeypatch.undo()
    (out / shard_path("scores", "regtest/quiz", run_id)).unlink()
    with pytest.raises(ShardError, match="incomplete: no shard for table.s. scores"):
        import_paths(target, [out])
    assert run_sql(target, "SELECT count(*) FROM runs").rows == [(0,)]


def test_conflicting_copy_of_a_complete_run_rejected(reg_run, reg_store: Store, tmp_path: Path) -> None:
    out = tmp_path / "shards"
    run_id = exported(reg_run, reg_store, out)
    runs_path = out / shard_path("runs", "regtest/quiz", run_id)
    runs = pq.read_table(runs_path)
    _rewrite(runs_path, runs.set_column(runs.schema.get_field_index("n_samples"), "n_samples", pa.array([5])))
    with pytest.raises(ShardError, match="complete in the store and the shard's copy differs"):
        import_paths(reg_store, [out])
