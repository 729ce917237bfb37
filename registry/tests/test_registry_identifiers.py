"""Identifiers from shards are checked against one grammar; paths built from data stay in their root."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from emergebench_registry.identifiers import PathEscapeError, contained, problem, shard_file_problem
from emergebench_registry.query import run_sql
from emergebench_registry.shards import SHARD_TABLES, ShardError, export_runs, import_paths, shard_path
from emergebench_registry.store import Store
from emergebench_registry.sync import pull, push
from emergebench_testing.hubserver import HubServer


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("task", "../../../../tmp/x"),
        ("task", "regtest/../quiz"),
        ("task", "/etc"),
        ("task", "regtest//quiz"),
        ("task", "regtest/quiz\n"),
        ("task", "regtest/quiz\u202e"),  # bidi override
        ("task", "r\u0435gtest/quiz"),  # Cyrillic e
        ("task", ".hidden"),
        ("task", "a" * 201),
        ("run_id", "../x"),
        ("run_id", "x\x00y"),
        ("run_id", ""),
        ("model_id", "openai/../../x"),
        ("model_id", "openai/gpt 4"),
        ("score_name", "acc\turacy"),
        ("score_name", "../acc"),
    ],
)
def test_grammar_rejects_hostile_values(kind: str, value: str) -> None:
    assert problem(kind, value) is not None


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("task", "regtest/quiz"),
        ("task", "skill-mix/gpt4-table"),
        ("task", "boxinggym/hyperbolic_temporal_discount/direct"),
        ("run_id", "0123abcd-20260101T000000-ab12"),
        ("model_id", "openai/ft:gpt-4o-mini:org::abc123"),
        ("model_id", "llamacpp/smollm2-135m"),
        ("score_name", "donation_fraction_slope"),
        ("score_name", "f1/macro"),
    ],
)
def test_grammar_accepts_real_values(kind: str, value: str) -> None:
    assert problem(kind, value) is None


def test_shard_file_names() -> None:
    assert shard_file_problem("data/runs/regtest/quiz/abc-1.parquet", SHARD_TABLES) is None
    for bad in (
        "data/../../x.parquet",
        "data/runs/../../../x/abc.parquet",
        "data/evil/regtest/abc.parquet",
        "data/runs/regtest/quiz/.parquet",
        "data/runs/regtest/quiz/a b.parquet",
        "/data/runs/regtest/abc.parquet",
    ):
        assert shard_file_problem(bad, SHARD_TABLES) is not None, bad


def test_contained_refuses_escapes_and_symlinks(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    assert contained(root, "data/runs/x.parquet") == root.resolve() / "data/runs/x.parquet"
    with pytest.raises(PathEscapeError, match="outside"):
        contained(root, "data/../../x.parquet")
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(PathEscapeError):
        contained(root, "link/x.parquet")


def _hostile_task_shards(reg_run, reg_store: Store, tmp_path: Path, task: str) -> tuple[Path, str]:
    run_id = reg_run().run_id
    out = tmp_path / "shards"
    with reg_store.reader() as con:
        export_runs(con, out, [run_id])
    runs_file = out / shard_path("runs", "regtest/quiz", run_id)
    runs = pq.read_table(runs_file)
    runs = runs.set_column(runs.schema.get_field_index("task"), "task", pa.array([task]))
    pq.write_table(runs, runs_file)
    return out, run_id


def test_import_rejects_traversal_task_and_export_stays_inside(reg_run, reg_store: Store, tmp_path: Path) -> None:
    shards, run_id = _hostile_task_shards(reg_run, reg_store, tmp_path, "../../../../escaped")
    target = Store(tmp_path / "target.duckdb")
    with pytest.raises(ShardError, match=r"task '\.\./\.\./\.\./\.\./escaped' is not valid") as err:
        import_paths(target, [shards])
    assert "runs" in str(err.value) and run_id in str(err.value)
    assert run_sql(target, "SELECT count(*) FROM runs").rows == [(0,)]
    # A store that already holds such a row (written before this check existed) still cannot export
    # outside its folder: the grammar is checked again and the path is resolved inside its root.
    before = files_under(tmp_path)
    with reg_store.writer() as con:
        con.execute("UPDATE runs SET task = '../../../../escaped' WHERE run_id = ?", [run_id])
    deep = tmp_path / "a" / "b" / "c" / "d" / "out"
    with reg_store.reader() as con, pytest.raises(ShardError, match="escaped"):
        export_runs(con, deep, [run_id])
    assert files_under(tmp_path) == before


def test_push_of_a_stored_traversal_task_writes_nothing_outside(
    reg_run, reg_store: Store, reg_hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = reg_run().run_id
    with reg_store.writer() as con:
        con.execute("UPDATE runs SET task = '../../../../../../escaped' WHERE run_id = ?", [run_id])
    deep = tmp_path / "a" / "b" / "c" / "d"
    deep.mkdir(parents=True)
    monkeypatch.setattr("tempfile.tempdir", str(deep))  # push exports under tempfile's folder
    with pytest.raises(ShardError, match="task"):
        push(reg_store, "pool/results", reg_hub.endpoint)
    assert not [p for p in tmp_path.rglob("*") if "escaped" in p.name]
    assert not any(p.endswith(".parquet") for p in reg_hub.files("pool/results", repo_type="dataset"))


def test_pull_rejects_shard_with_traversal_task_by_name(
    reg_run, reg_store: Store, reg_hub: HubServer, tmp_path: Path
) -> None:
    shards, run_id = _hostile_task_shards(reg_run, reg_store, tmp_path, "../../../../tmp/x")
    reg_hub.create_repo("pool/results", repo_type="dataset")
    reg_hub.put_files(
        "pool/results",
        {str(p.relative_to(shards)): p.read_bytes() for p in files_under(shards)},
        repo_type="dataset",
    )
    fresh = Store(tmp_path / "fresh.duckdb")
    report = pull(fresh, "pool/results", reg_hub.endpoint)
    runs_path = shard_path("runs", "regtest/quiz", run_id)
    assert runs_path in report.rejected and "is not valid" in report.rejected[runs_path]
    assert report.imported == []
    assert run_sql(fresh, "SELECT count(*) FROM runs").rows == [(0,)]
