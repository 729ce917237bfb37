"""`emergebench export --format eee`: the records it writes pass every-eval-ever's own validator
(eee_validator.py runs it in .venv-eee), and their numbers are those of the run's own journal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from eee_validator import validate
from emergebench_registry.export_eee import EeeOptions, eee_records, record_uuid
from emergebench_registry.imports import import_results
from emergebench_registry.query import run_sql
from emergebench_registry.store import Store

FIXTURES = Path(__file__).parent / "fixtures" / "imports"
TESTS = Path(__file__).parent


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "emergebench", *args], capture_output=True, text=True, env=env, timeout=300
    )


def test_native_run_exports_as_valid_eee_records_matching_its_journal(reg_run, reg_home: Path, tmp_path: Path) -> None:
    result = reg_run()
    out = tmp_path / "eee"
    mapped = "scripted/function=ExampleOrg/Sum-1B"
    done = cli(
        "export",
        "--format",
        "eee",
        "--out",
        str(out),
        "--organization",
        "Example Lab",
        "--model-id",
        mapped,
    )
    assert done.returncode == 0, done.stderr
    assert "Exported 1 run(s) as 2 Every Eval Ever file(s)" in done.stdout
    reports = validate(out)
    assert len(reports) == 2
    folder = out / "data" / "regtest_quiz" / "ExampleOrg" / "Sum-1B"
    name = record_uuid(result.run_id)
    record = json.loads((folder / f"{name}.json").read_text())
    rows = [json.loads(line) for line in (folder / f"{name}_samples.jsonl").read_text().splitlines()]
    # The oracle: the run's own journal, read here line by line.
    lines = (reg_home / "runs" / result.run_id / "journal.jsonl").read_text().splitlines()
    journal = [json.loads(line) for line in lines]
    correct = {j["sample_id"]: j["scores"]["correct"] for j in journal}
    graded = [r for r in rows if r["metadata"]["score_name"] == "correct"]
    assert {r["sample_id"]: r["evaluation"]["score"] for r in graded} == correct
    assert {r["sample_id"]: r["evaluation"]["is_correct"] for r in graded} == {k: v == 1.0 for k, v in correct.items()}
    assert len(rows) == 2 * len(journal) == record["detailed_evaluation_results"]["total_rows"]
    overall = next(r for r in record["evaluation_results"] if r["evaluation_result_id"] == "accuracy")
    assert overall["score_details"]["score"] == pytest.approx(sum(correct.values()) / len(correct))
    even = next(r for r in record["evaluation_results"] if r["evaluation_result_id"] == "accuracy@even")
    evens = [v for k, v in correct.items() if int(k[1:]) % 2 == 0]
    assert even["score_details"]["score"] == pytest.approx(sum(evens) / len(evens))
    assert record["model_info"]["id"] == "ExampleOrg/Sum-1B" and record["model_info"]["developer"] == "ExampleOrg"
    assert record["model_info"]["additional_details"]["emergebench_model_id"] == "scripted/function"
    assert record["source_metadata"]["source_organization_name"] == "Example Lab"
    assert record["eval_library"]["name"] == "emergebench"
    # Exporting again writes the same bytes: records are derived from the run alone.
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    again = cli("export", "--format", "eee", "--out", str(out), "--organization", "Example Lab", "--model-id", mapped)
    assert again.returncode == 0 and {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_imported_runs_export_validly_and_round_trip(reg_home: Path, tmp_path: Path) -> None:
    import_results(Store(), "inspect", [FIXTURES / "inspect-addition.json"])
    import_results(Store(), "lm-eval", [FIXTURES / "lm-eval"])
    with Store().reader() as con:
        report = eee_records(con, None, False, EeeOptions())
    assert len(report.runs) == 2 and not report.skipped
    out = tmp_path / "eee"
    from emergebench_registry.export_eee import write_records

    write_records(out, report.files)
    validate(out)
    libraries = sorted(json.loads(f.content)["eval_library"]["name"] for f in report.files if f.path.endswith(".json"))
    assert libraries == ["inspect", "lm-eval"]
    # Back in through the EEE importer: the same per-sample scores.
    other = Store(str(tmp_path / "other.duckdb"))
    back = import_results(other, "eee", [out])
    assert len(back.imported) == 2 and not back.rejected
    original = run_sql(Store(), "SELECT sample_id, value FROM scores ORDER BY ALL").rows
    assert run_sql(other, "SELECT sample_id, value FROM scores ORDER BY ALL").rows == original
    # EEE-imported runs are not exported again unless named; named, they keep their record's library.
    with other.reader() as con:
        again = eee_records(con, None, False, EeeOptions())
        assert not again.runs and len(again.skipped) == 2
        named = eee_records(con, list(again.skipped), False, EeeOptions())
    assert sorted(json.loads(f.content)["eval_library"]["name"] for f in named.files if f.path.endswith(".json")) == [
        "inspect",
        "lm-eval",
    ]


def test_a_task_or_model_that_cannot_name_a_datastore_folder_is_skipped_by_name(reg_home: Path) -> None:
    """EEE reserves the folder name 'data' and refuses a trailing '.'; both pass the registry's grammar."""
    log = FIXTURES / "inspect-addition.json"
    (data_run,) = import_results(Store(), "inspect", [log], task_map={"inspect/addition": "data"}).imported
    (fine_run,) = import_results(Store(), "lm-eval", [FIXTURES / "lm-eval"]).imported
    with Store().reader() as con:
        report = eee_records(con, None, False, EeeOptions())
        dotted = eee_records(
            con, [fine_run], False, EeeOptions(model_ids={"local-chat-completions/smollm2-135m-instruct": "Org/Sum."})
        )
    assert report.runs == [fine_run] and list(report.skipped) == [data_run]
    assert "its task 'data' cannot name an EEE datastore folder" in report.skipped[data_run]
    assert not dotted.runs and "its model name 'Sum.' cannot name an EEE datastore folder" in dotted.skipped[fine_run]


def test_a_model_id_that_cannot_name_a_datastore_folder_is_refused_by_name(reg_home: Path, tmp_path: Path) -> None:
    done = cli("export", "--format", "eee", "--out", str(tmp_path), "--model-id", "scripted/function=../../etc")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "--model-id 'scripted/function=../../etc'" in done.stderr


def test_structured_inputs_and_missing_targets_export_validly(reg_home: Path, tmp_path: Path) -> None:
    """EEE's input.raw is a string and reference a list of strings: an object input becomes its JSON text,
    a missing target an empty list."""
    from emergebench_registry.export_eee import write_records

    (run_id,) = import_results(Store(), "inspect", [FIXTURES / "inspect-addition.json"]).imported
    with Store().writer() as con:
        con.execute(
            """UPDATE samples SET input = '{"a": 1, "b": [2]}', target = NULL WHERE run_id = ? AND sample_id = '0'""",
            [run_id],
        )
    with Store().reader() as con:
        report = eee_records(con, [run_id], False, EeeOptions())
    write_records(tmp_path / "eee", report.files)
    validate(tmp_path / "eee")
    (samples,) = [f for f in report.files if f.path.endswith("_samples.jsonl")]
    rows = {r["sample_id"]: r for r in map(json.loads, samples.content.decode().splitlines())}
    assert rows["0"]["input"] == {"raw": '{"a": 1, "b": [2]}', "reference": []}
    assert rows["1"]["input"] == {"raw": "What is 1 + 2?", "reference": ["3"]}


def test_native_run_with_epochs_round_trips_every_score_through_eee(reg_run, reg_home: Path, tmp_path: Path) -> None:
    """Export then import: the same (sample, epoch, score name, value) rows, although EEE has no epoch
    and one score per instance row (emergebench writes both into the row's metadata)."""
    from emergebench_registry.export_eee import write_records

    result = reg_run(epochs=2)
    with Store().reader() as con:
        report = eee_records(con, [result.run_id], False, EeeOptions())
    write_records(tmp_path / "eee", report.files)
    validate(tmp_path / "eee")
    other = Store(str(tmp_path / "other.duckdb"))
    imported = import_results(other, "eee", [tmp_path / "eee"])
    assert not imported.rejected, imported.rejected
    (back,) = imported.imported
    query = "SELECT sample_id, epoch, name, value FROM scores WHERE run_id = ? ORDER BY ALL"
    original = run_sql(Store(), query, params=[result.run_id]).rows
    assert {r[1] for r in original} == {0, 1} and {r[2] for r in original} == {"correct", "length"}
    assert run_sql(other, query, params=[back]).rows == original


def test_a_multi_turn_sample_exports_its_conversation_as_messages(reg_run, reg_home: Path, tmp_path: Path) -> None:
    """EEE requires messages (and no output) for a multi-turn row; found by exporting the demo's BoxingGym
    run. The conversation is the sample's last model call: its messages and then its output."""
    from emergebench_registry.export_eee import write_records

    result = reg_run(task="regtest/dialogue", task_args={"n": 3})
    with Store().reader() as con:
        report = eee_records(con, [result.run_id], False, EeeOptions())
    write_records(tmp_path / "eee", report.files)
    validate(tmp_path / "eee")
    (samples,) = [f for f in report.files if f.path.endswith("_samples.jsonl")]
    rows = [json.loads(line) for line in samples.content.decode().splitlines()]
    row = next(r for r in rows if r["sample_id"] == "q2" and r["metadata"]["score_name"] == "correct")
    assert row["interaction_type"] == "multi_turn" and row.get("output") is None
    assert [(m["turn_idx"], m["role"], m["content"]) for m in row["messages"]] == [
        (0, "user", "2+2"),
        (1, "assistant", "4"),
        (2, "user", "2+2"),
        (3, "assistant", "4"),
    ]
    assert row["evaluation"]["num_turns"] == 2  # model calls, as inspect's converter counts turns
    other = Store(str(tmp_path / "other.duckdb"))
    (back,) = import_results(other, "eee", [tmp_path / "eee"]).imported
    answers = run_sql(other, "SELECT sample_id, answer FROM samples WHERE run_id = ? ORDER BY 1", params=[back]).rows
    assert answers == [("q0", "0"), ("q1", "2"), ("q2", "4")]  # the last assistant turn


def test_boxinggym_errors_export_as_lower_is_better(reg_home: Path, tmp_path: Path, monkeypatch) -> None:
    """A real BoxingGym run (dugongs, the scripted constant scientist): its standardised and raw errors
    and EIG regret are lower-is-better in the EEE record (Gandhi et al. 2025 rank by lowest error), its
    EIG and success rate are not, and the record still passes every-eval-ever's validator."""
    from emergebench_registry.export_eee import write_records
    from test_registry_direction import boxinggym_run

    run = boxinggym_run(reg_home, monkeypatch)
    with Store().reader() as con:
        report = eee_records(con, [run.run_id], False, EeeOptions())
    write_records(tmp_path / "eee", report.files)
    validate(tmp_path / "eee")
    (record,) = [json.loads(f.content) for f in report.files if f.path.endswith(".json")]
    direction = {r["evaluation_result_id"]: r["metric_config"]["lower_is_better"] for r in record["evaluation_results"]}
    for lower in ("z_final", "err_final", "z@budget=0", "z@budget=3", "err@budget=3", "eig_regret", "unparsed_rate"):
        assert direction[lower] is True, lower
    assert direction["eig"] is False and direction["success_rate"] is False
