"""Ingest: the run hook, journal parsing, idempotency, partial runs, the change scan."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from emergebench_registry.ingest import changed_run_dirs, ingest_changed, ingest_paths
from emergebench_registry.query import leaderboard, run_sql
from emergebench_registry.store import Store


def count(store: Store, sql: str) -> int:
    return run_sql(store, sql).rows[0][0]


def test_run_is_ingested_when_it_finishes(reg_run, reg_store: Store) -> None:
    result = reg_run()
    assert reg_store.path.exists()
    rows = run_sql(reg_store, "SELECT run_id, status, task, task_version, model_id, n_samples, main_metric FROM runs")
    assert rows.rows == [(result.run_id, "complete", "regtest/quiz", "1.0", "scripted/function", 6, "accuracy")]
    assert count(reg_store, "SELECT count(*) FROM samples") == 6
    assert count(reg_store, "SELECT count(*) FROM scores") == 12
    assert count(reg_store, "SELECT count(*) FROM model_calls") == 6
    assert count(reg_store, "SELECT count(*) FROM scores WHERE name = 'correct' AND value = 1") == 6
    metrics = run_sql(reg_store, "SELECT name, breakdown, value, n FROM metrics ORDER BY breakdown").rows
    assert metrics == [("accuracy", "", 1.0, 6), ("accuracy", "even", 1.0, 3)]
    prov = run_sql(reg_store, "SELECT task_provenance, plugin_versions FROM runs").rows[0]
    assert json.loads(prov[0]) == {"data_sha256": "0" * 64}
    assert json.loads(prov[1])["emergebench-registry"] == "0.1.0"
    model = run_sql(reg_store, "SELECT provider, family FROM models WHERE model_id = 'scripted/function'").rows
    assert model == [("scripted", "scripted")]
    call = run_sql(reg_store, "SELECT role, messages->>'$[0].content', output FROM model_calls WHERE sample_id='q3'")
    assert call.rows == [("subject", "3+3", "6")]


def test_reingest_is_idempotent_and_duplicates_in_journal_collapse(reg_run, reg_store: Store, reg_home: Path) -> None:
    result = reg_run()
    run_dir = reg_home / "runs" / result.run_id
    journal = run_dir / "journal.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    # A duplicated line (first copy wins), a torn line and garbage must not add rows.
    first = json.loads(lines[0])
    first["answer"] = "a later copy"
    journal.write_bytes(b"".join(lines) + json.dumps(first).encode() + b"\n" + b'{"run_id": "tor' + b"\nnot json\n")
    for _ in range(3):
        ingest_paths(reg_store, [run_dir])
    assert count(reg_store, "SELECT count(*) FROM samples") == 6
    assert count(reg_store, "SELECT count(DISTINCT (run_id, sample_id, epoch)) FROM samples") == 6
    assert count(reg_store, "SELECT count(*) FROM samples WHERE answer = 'a later copy'") == 0
    assert count(reg_store, "SELECT count(*) FROM runs") == 1


def test_partial_run_is_ingested_with_its_status_then_completed(reg_run, reg_store: Store, reg_home: Path) -> None:
    result = reg_run()
    run_dir = reg_home / "runs" / result.run_id
    # Simulate a run killed after three samples: run.json still says running, journal has 3 lines.
    killed = reg_home / "runs" / "killed-run"
    killed.mkdir()
    shutil.copy(run_dir / "spec.json", killed / "spec.json")
    lines = (run_dir / "journal.jsonl").read_text().splitlines()[:3]
    (killed / "journal.jsonl").write_text("\n".join(x.replace(result.run_id, "killed-run") for x in lines) + "\n")
    assert changed_run_dirs(reg_store) == [killed]
    reports = ingest_changed(reg_store)
    assert [(r.run_id, r.status, r.samples) for r in reports] == [("killed-run", "running", 3)]
    row = run_sql(reg_store, "SELECT status, n_samples FROM runs WHERE run_id = 'killed-run'").rows
    assert row == [("running", 3)]
    assert changed_run_dirs(reg_store) == []
    # The journal grows: the next scan re-ingests it, still one copy per sample.
    more = (run_dir / "journal.jsonl").read_text().splitlines()[3:]
    with open(killed / "journal.jsonl", "a") as handle:
        handle.write("\n".join(x.replace(result.run_id, "killed-run") for x in more) + "\n")
    assert [r.samples for r in ingest_changed(reg_store)] == [6]
    assert count(reg_store, "SELECT count(*) FROM samples WHERE run_id = 'killed-run'") == 6


def test_leaderboard_latest_run_and_versions_apart(reg_run, reg_store: Store) -> None:
    reg_run(model="scripted/constant", model_args={"reply": "0"})
    reg_run()
    reg_run(task="regtest/quiz2")
    board = leaderboard(reg_store)
    got = [(r[0], r[1], r[2], r[5], r[7], r[11]) for r in board.rows]
    assert got == [
        ("regtest/quiz", "1.0", "scripted/function", "accuracy", 1.0, 6),
        ("regtest/quiz", "1.0", "scripted/constant", "accuracy", 1 / 6, 6),
        ("regtest/quiz2", "2.0", "scripted/function", "accuracy", 1.0, 6),
    ]
    by_score = leaderboard(reg_store, task="regtest/quiz", metric="length")
    assert {r[2]: r[7] for r in by_score.rows} == {"scripted/function": 7 / 6, "scripted/constant": 1.0}


def _journal_line(run_id: str, sample_id: str, scores: dict, answer: str = "a") -> str:
    return json.dumps({"run_id": run_id, "sample_id": sample_id, "epoch": 0, "answer": answer, "scores": scores})


def test_score_names_mixed_missing_odd_and_a_line_over_16_mib(reg_run, reg_store: Store, reg_home: Path) -> None:
    result = reg_run()
    run_dir = reg_home / "runs" / result.run_id
    rows = {
        "s1": {"correct": 1.0, "it's": 0.5, "a/b~c": 2.0, 'q"\\x': 3.0},
        "s2": {"correct": 0.0},
        "s3": {},
        "s4": {"it's": None},  # a NaN score is journaled as null
    }
    lines = [_journal_line(result.run_id, k, v) for k, v in rows.items()]
    lines.append(_journal_line(result.run_id, "big", {"correct": 1.0}, answer="x" * (17 * 1024**2)))
    (run_dir / "journal.jsonl").write_text("\n".join(lines) + "\n")
    (run_dir / "run.json").unlink()  # no run.json: the run is ingested from its journal alone
    ingest_paths(reg_store, [run_dir])
    got = run_sql(reg_store, "SELECT sample_id, name, value FROM scores ORDER BY sample_id, name").rows
    assert got == [
        ("big", "correct", 1.0),
        ("s1", "a/b~c", 2.0),
        ("s1", "correct", 1.0),
        ("s1", "it's", 0.5),
        ("s1", 'q"\\x', 3.0),
        ("s2", "correct", 0.0),
        ("s4", "it's", None),
    ]
    assert count(reg_store, "SELECT max(length(answer)) FROM samples") == 17 * 1024**2


def test_score_names_differing_only_in_case_are_kept_apart(reg_run, reg_store: Store, reg_home: Path) -> None:
    result = reg_run()
    run_dir = reg_home / "runs" / result.run_id
    lines = [_journal_line(result.run_id, f"s{i}", {"acc": float(i), "ACC": -float(i)}) for i in range(3)]
    (run_dir / "journal.jsonl").write_text("\n".join(lines) + "\n")
    ingest_paths(reg_store, [run_dir])
    got = run_sql(reg_store, "SELECT name, sum(value), count(*) FROM scores GROUP BY name ORDER BY name").rows
    assert got == [("ACC", -3.0, 3), ("acc", 3.0, 3)]


def test_call_counts_and_indexes_with_no_missing_and_several_calls(reg_run, reg_store: Store, reg_home: Path) -> None:
    result = reg_run()
    run_dir = reg_home / "runs" / result.run_id

    def line(sample_id: str, calls: object, answer: str = "a") -> str:
        row = json.loads(_journal_line(result.run_id, sample_id, {"correct": 1.0}, answer))
        if calls != "absent":
            row["calls"] = calls
        return json.dumps(row)

    def call(output: str) -> dict:
        return {"model": "scripted/constant", "messages": [{"role": "user", "content": "q"}], "output": output}

    lines = [
        line("none", []),
        line("null", None),
        line("absent", "absent"),
        line("two", [call("first"), call("second")]),
        line("one", [call("only")]),
        line("one", [call("later copy"), call("later copy")], answer="later"),  # a duplicate: first copy wins
    ]
    (run_dir / "journal.jsonl").write_text("\n".join(lines) + "\n")
    ingest_paths(reg_store, [run_dir])
    samples = run_sql(reg_store, "SELECT sample_id, n_calls, answer FROM samples ORDER BY sample_id").rows
    assert samples == [("absent", 0, "a"), ("none", 0, "a"), ("null", 0, "a"), ("one", 1, "a"), ("two", 2, "a")]
    calls = run_sql(reg_store, "SELECT sample_id, call_index, output, role FROM model_calls ORDER BY ALL").rows
    assert calls == [("one", 0, "only", "subject"), ("two", 0, "first", "subject"), ("two", 1, "second", "subject")]


def test_writers_store_row_groups_of_the_configured_size(tmp_path: Path) -> None:
    """Both ways a writer opens the store (its own connection, or attached to the ingest process's)
    write row groups of ROW_GROUP_SIZE rows: DuckDB keeps that size per attach, not in the file."""
    import duckdb
    from emergebench_registry.store import ROW_GROUP_SIZE

    store = Store(tmp_path / "registry.duckdb")
    rows = 2 * ROW_GROUP_SIZE + 5
    with store.writer() as con:
        con.execute(f"CREATE TABLE by_writer AS SELECT range AS i FROM range({rows})")
    memory = duckdb.connect()
    with store.attached(memory) as con:
        con.execute(f"CREATE TABLE by_attach AS SELECT range AS i FROM range({rows})")
    memory.close()
    with store.reader() as con:
        for table in ("by_writer", "by_attach"):
            sizes = con.execute(
                "SELECT row_group_id, max(start + count) - min(start) FROM pragma_storage_info(?) "
                "WHERE column_name = 'i' AND segment_type = 'BIGINT' GROUP BY ALL ORDER BY 1",
                [table],
            ).fetchall()
            assert [n for _, n in sizes] == [61_440, 61_440, 5], (table, sizes)
