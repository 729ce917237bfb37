"""Records written before schema_version 2 (kept in tests/fixtures/schema_v1, made by the earlier code)
are migrated on read: the run folder by the core's readers and the registry's ingest, the shards by
import, an older store by the registry's migrations."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from emergebench.errors import UsageError
from emergebench.journal import iter_journal, read_result, read_spec
from emergebench.records import SCHEMA_VERSION, SampleResult
from emergebench.rescore import Rescorer, find_run, rescore_spec
from emergebench.runner import RunOptions, run_coroutine
from emergebench_registry.ingest import ingest_run_dir
from emergebench_registry.schema import SCHEMA_VERSION as REGISTRY_SCHEMA_VERSION
from emergebench_registry.schema import migrate
from emergebench_registry.shards import import_paths
from emergebench_registry.store import Store

FIXTURES = Path(__file__).parent / "fixtures" / "schema_v1"
RUN_ID = "a572872900ca7183-20261202T030504-cebb"


@pytest.fixture
def old_run(tmp_path: Path) -> Path:
    target = tmp_path / "runs" / RUN_ID
    shutil.copytree(FIXTURES / "runs" / RUN_ID, target)
    return target


def test_fixture_is_really_version_1(old_run: Path) -> None:
    lines = [json.loads(line) for line in (old_run / "journal.jsonl").read_text().splitlines()]
    assert {line["schema_version"] for line in lines} == {1} and all("output" not in line for line in lines)
    assert json.loads((old_run / "run.json").read_text())["schema_version"] == 1


def test_old_journal_and_result_read_as_current_version(old_run: Path) -> None:
    raw = [json.loads(line) for line in (old_run / "journal.jsonl").read_text().splitlines()]
    rows = list(iter_journal(old_run / "journal.jsonl"))
    assert len(rows) == len(raw) == 4
    for row, line in zip(rows, raw, strict=True):
        assert row.schema_version == SCHEMA_VERSION == 2
        assert row.output is None and row.stored_output is None  # nothing was stored apart from scores
        assert row.scores == line["scores"] and row.answer == line["answer"] and row.metadata == line["metadata"]
    result = read_result(old_run)
    assert result is not None and result.schema_version == 2 and result.status == "complete"
    assert read_spec(old_run) is not None and read_spec(old_run).source_run is None


def test_newer_schema_is_refused_with_a_clear_message(old_run: Path) -> None:
    line = json.loads((old_run / "journal.jsonl").read_text().splitlines()[0])
    line["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(ValueError, match="newer than this emergebench-core understands"):
        SampleResult.model_validate(line)


def test_old_run_folder_is_ingested(old_run: Path, tmp_path: Path) -> None:
    store = Store(tmp_path / "registry.duckdb")
    with store.writer() as con:
        report = ingest_run_dir(con, old_run)
    assert report.samples == 4 and report.status == "complete"
    with store.reader() as con:
        rows = con.execute("SELECT count(*), count(stored_output) FROM samples").fetchall()
        assert rows == [(4, 0)]
        assert con.execute("SELECT source_run_id FROM runs").fetchall() == [(None,)]
        assert con.execute("SELECT count(*) FROM scores").fetchall() == [(8,)]
        # its run.json names no lower-is-better metrics (the field is newer): an empty list
        assert con.execute("SELECT lower_is_better::VARCHAR FROM runs").fetchall() == [("[]",)]


def test_old_shards_are_imported(tmp_path: Path) -> None:
    store = Store(tmp_path / "registry.duckdb")
    report = import_paths(store, [FIXTURES / "shards"])
    assert report.imported == [RUN_ID]
    with store.reader() as con:
        assert con.execute("SELECT source_run_id, status FROM runs").fetchall() == [(None, "complete")]
        assert con.execute("SELECT count(*), count(stored_output) FROM samples").fetchall() == [(4, 0)]
        assert con.execute("SELECT count(*) FROM model_calls").fetchall() == [(4,)]
        # shards written before metric direction was recorded: unknown (null), ranked higher-is-better
        assert con.execute("SELECT lower_is_better FROM runs").fetchall() == [(None,)]


def test_a_store_of_version_4_gains_the_new_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    migrate(con)
    # make it what a version-4 store looks like: no lineage, no stored outputs
    con.execute("ALTER TABLE runs DROP COLUMN source_run_id")
    con.execute("ALTER TABLE samples DROP COLUMN stored_output")
    con.execute("DELETE FROM schema_info WHERE version >= 5")  # later migrations run again, as on a v4 store
    con.close()
    con = duckdb.connect(str(path))
    assert migrate(con) == REGISTRY_SCHEMA_VERSION
    columns = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns").fetchall()}
    assert {"source_run_id", "stored_output"} <= columns
    con.close()


def test_an_old_run_cannot_be_rescored_and_says_why(old_run: Path, emergebench_home: Path) -> None:
    runs = old_run.parent
    spec = rescore_spec(read_spec(find_run(RUN_ID, runs)), RUN_ID)
    rescorer = Rescorer(old_run, spec, RunOptions(runs_dir=runs, cache_path=runs / "c.sqlite", progress=False))
    with pytest.raises(UsageError, match="keeps no outputs apart from its scores"):
        run_coroutine(rescorer.run())
    assert sorted(p.name for p in runs.iterdir() if p.is_dir() and not p.name.startswith(".")) == [
        RUN_ID
    ]  # nothing new was written
