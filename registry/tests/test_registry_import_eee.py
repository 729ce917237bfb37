"""Importing Every Eval Ever records. The fixtures were written by every-eval-ever 0.3.0's own converters
from real inspect_ai and lm-evaluation-harness logs and passed its own validator
(scripts/gen_eee_fixtures.py); expected values are read from those files (and from the inspect log
they came from) with the json module, independently of the importer."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eee_validator import validate
from emergebench_registry.imports import import_results
from emergebench_registry.query import run_sql
from emergebench_registry.store import Store

FIXTURES = Path(__file__).parent / "fixtures" / "imports"
EEE = FIXTURES / "eee" / "data" / "addition"
(INSPECT_AGG,) = (EEE / "openai-api" / "smollm2-135m-instruct").glob("*-*-*-*-????????????.json")
INSPECT_SAMPLES = INSPECT_AGG.with_name(INSPECT_AGG.stem + "_samples.jsonl")
(LM_AGG,) = (EEE / "HuggingFaceTB" / "SmolLM2-135M-Instruct").glob("*.json")


def rows(sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    return run_sql(Store(), sql, params=params).rows


def test_the_committed_fixtures_pass_every_eval_evers_own_validator() -> None:
    reports = validate(FIXTURES / "eee")
    assert sorted(r["file_type"] for r in reports) == ["aggregate", "aggregate", "instance"]


def test_converted_inspect_record_lands_with_samples_metrics_and_source(reg_home: Path) -> None:
    record = json.loads(INSPECT_AGG.read_text())
    instances = [json.loads(line) for line in INSPECT_SAMPLES.read_text().splitlines() if line.strip()]
    report = import_results(Store(), "eee", [INSPECT_AGG])
    assert not report.rejected and len(report.imported) == 1
    (run_id,) = report.imported
    task, model, n, source, main = rows(
        "SELECT task, model_id, n_samples, source, main_metric FROM runs WHERE run_id = ?", [run_id]
    )[0]
    (result,) = record["evaluation_results"]
    sha = hashlib.sha256(INSPECT_AGG.read_bytes()).hexdigest()
    assert source == f"eee {record['schema_version']} sha256:{sha}" and record["schema_version"] == "0.3.0"
    assert (task, model, n) == (f"eee/{result['evaluation_name']}", record["model_info"]["id"], len(instances))
    assert main == result["metric_config"]["metric_id"] == "accuracy"
    stored = dict(rows("SELECT sample_id, value FROM scores WHERE run_id = ? AND name = 'accuracy'", [run_id]))
    assert stored == {row["sample_id"]: row["evaluation"]["score"] for row in instances}
    # The same grades inspect_ai itself wrote (C = 1, I = 0) before EEE's converter touched them.
    log = json.loads((FIXTURES / "inspect-addition.json").read_text())
    assert stored == {str(s["id"]): {"C": 1.0, "I": 0.0}[s["scores"]["match"]["value"]] for s in log["samples"]}
    uncertainty = result["score_details"]["uncertainty"]
    assert rows("SELECT value, stderr, n FROM metrics WHERE run_id = ?", [run_id]) == [
        (
            pytest.approx(result["score_details"]["score"]),
            pytest.approx(uncertainty["standard_error"]["value"]),
            uncertainty["num_samples"],
        )
    ]
    answers = rows("SELECT sample_id, input, target, answer FROM samples WHERE run_id = ? ORDER BY sample_id", [run_id])
    expected = sorted(
        (r["sample_id"], json.dumps(r["input"]["raw"]), json.dumps(r["input"]["reference"][0]), r["output"]["raw"][0])
        for r in instances
    )
    assert answers == expected
    assert rows("SELECT family, parameters FROM models WHERE model_id = ?", [model]) == [
        ("smollm2-instruct", 135_000_000)
    ]


def test_aggregate_only_record_and_reimport_is_a_no_op(reg_home: Path) -> None:
    record = json.loads(LM_AGG.read_text())
    first = import_results(Store(), "eee", [FIXTURES / "eee"])
    assert len(first.imported) == 2 and not first.rejected
    (result,) = record["evaluation_results"]
    assert rows(
        "SELECT r.n_samples, m.value FROM runs r JOIN metrics m USING (run_id) WHERE model_id = ?",
        [record["model_info"]["id"]],
    ) == [(0, pytest.approx(result["score_details"]["score"]))]
    counts = "SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM scores), (SELECT count(*) FROM samples)"
    before = rows(counts)
    again = import_results(Store(), "eee", [FIXTURES / "eee", INSPECT_SAMPLES])
    assert not again.imported and not again.rejected and len(again.unchanged) == 3
    assert rows(counts) == before


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(record: dict[str, Any]) -> None:
        target = record
        for key in path[:-1]:
            target = target[key]
        if value is _DROP:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return edit


_DROP = object()


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (_set(["model_info", "id"], _DROP), "model_info.id is required"),
        (_set(["model_info", "id"], "../../etc/passwd"), "model_id"),
        (_set(["evaluation_results", 0, "evaluation_name"], "../../x"), "looks like a path"),
        (_set(["evaluation_results", 0, "score_details", "score"], "0.8"), "score must be int or float"),
        (_set(["evaluation_results", 0, "metric_config", "lower_is_better"], _DROP), "lower_is_better is required"),
        (_set(["evaluation_results"], []), "evaluation_results is empty"),
        (_set(["detailed_evaluation_results", "file_path"], "data/../../../etc/passwd"), "not the sibling"),
        (_set(["evaluation_id"], "another-evaluation"), "evaluation_id does not match"),
        (_set(["schema_version"], 3), "schema_version must be str"),
    ],
)
def test_a_malformed_record_is_refused_by_name_and_the_rest_lands(
    reg_home: Path, tmp_path: Path, edit: Callable[[dict[str, Any]], None], reason: str
) -> None:
    record = json.loads(INSPECT_AGG.read_text())
    edit(record)
    bad = tmp_path / INSPECT_AGG.name
    bad.write_text(json.dumps(record))
    shutil.copy(INSPECT_SAMPLES, tmp_path / INSPECT_SAMPLES.name)
    report = import_results(Store(), "eee", [bad, LM_AGG])
    assert len(report.imported) == 1
    assert list(report.rejected) == [str(bad)] and reason in report.rejected[str(bad)], report.rejected
    assert str(bad) in report.rejected[str(bad)]


def test_missing_instance_file_and_bad_instance_rows_are_refused(reg_home: Path, tmp_path: Path) -> None:
    lonely = tmp_path / "lonely" / INSPECT_AGG.name
    lonely.parent.mkdir()
    shutil.copy(INSPECT_AGG, lonely)
    damaged = tmp_path / "damaged" / INSPECT_AGG.name
    damaged.parent.mkdir()
    shutil.copy(INSPECT_AGG, damaged)
    lines = INSPECT_SAMPLES.read_text().splitlines()
    row = json.loads(lines[2])
    row["evaluation"]["score"] = None
    lines[2] = json.dumps(row)
    (damaged.parent / INSPECT_SAMPLES.name).write_text("\n".join(lines) + "\n")
    report = import_results(Store(), "eee", [lonely, damaged])
    assert not report.imported
    assert "is not beside it" in report.rejected[str(lonely)]
    assert "line 3" in report.rejected[str(damaged)] and "evaluation.score is required" in report.rejected[str(damaged)]


def test_an_instance_file_symlinked_from_elsewhere_is_not_followed(reg_home: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(INSPECT_SAMPLES, outside / INSPECT_SAMPLES.name)
    folder = tmp_path / "record"
    folder.mkdir()
    shutil.copy(INSPECT_AGG, folder / INSPECT_AGG.name)
    (folder / INSPECT_SAMPLES.name).symlink_to(outside / INSPECT_SAMPLES.name)
    report = import_results(Store(), "eee", [folder])
    assert not report.imported and "resolves outside" in report.rejected[str(folder / INSPECT_AGG.name)]


def test_cli_reports_refusals_and_exits_1_without_traceback(reg_home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('{"evaluation_results": [{}]}')
    done = subprocess.run(
        [sys.executable, "-m", "emergebench", "import-results", "eee", str(INSPECT_AGG), str(bad)],
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=300,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "Imported 1 run(s)" in done.stdout and f"refused: {bad}: record.schema_version is required" in done.stderr


def test_several_evaluations_and_repeated_metrics_in_one_record(reg_home: Path, tmp_path: Path) -> None:
    """One aggregate may hold several evaluations (one run each) and one metric twice in an evaluation
    (kept apart by its evaluation_result_id, never merged or refused as a duplicate)."""
    record = json.loads(INSPECT_AGG.read_text())
    (result,) = record["evaluation_results"]
    again = json.loads(json.dumps(result))
    again["evaluation_result_id"] = "match:accuracy-strict"
    again["score_details"]["score"] = 0.5
    other = json.loads(json.dumps(result))
    other["evaluation_name"] = "subtraction"
    other["score_details"]["score"] = 0.25
    record["evaluation_results"] = [result, again, other]
    path = tmp_path / INSPECT_AGG.name
    path.write_text(json.dumps(record))
    lines = INSPECT_SAMPLES.read_text().splitlines()
    strict = []
    for line in lines:  # per-sample rows of the second result: scored 0 everywhere
        row = json.loads(line)
        row["evaluation_result_id"], row["evaluation"]["score"] = "match:accuracy-strict", 0.0
        strict.append(json.dumps(row))
    (tmp_path / INSPECT_SAMPLES.name).write_text("\n".join(lines + strict) + "\n")
    record["detailed_evaluation_results"]["total_rows"] = len(lines) * 2
    path.write_text(json.dumps(record))
    report = import_results(Store(), "eee", [path])
    assert len(report.imported) == 2 and not report.rejected, report.rejected
    # Each result's per-sample scores under their own name, in the same (sample, epoch) rows: no fake epochs.
    assert rows(
        "SELECT name, count(*), sum(value), min(epoch), max(epoch) FROM scores GROUP BY name ORDER BY name"
    ) == [
        ("accuracy", 6, 5.0, 1, 1),
        ("match-accuracy-strict", 6, 0.0, 1, 1),
    ]
    assert rows(
        "SELECT r.task, r.n_samples, m.name, m.breakdown, m.value FROM runs r JOIN metrics m USING (run_id) "
        "ORDER BY ALL"
    ) == [
        ("eee/addition", 6, "accuracy", "", pytest.approx(result["score_details"]["score"])),
        ("eee/addition", 6, "accuracy", "match:accuracy-strict", 0.5),
        ("eee/subtraction", 0, "accuracy", "", 0.25),
    ]
