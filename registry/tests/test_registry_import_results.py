"""Importing other frameworks' results: the fixtures were written by the real inspect_ai and
lm-evaluation-harness (scripts/gen_import_fixtures.py); every expected value below is read from those
files here with the json module, independently of the importers."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from emergebench_registry.imports import import_results
from emergebench_registry.imports.model_names import family_and_size, load_rules
from emergebench_registry.query import run_sql
from emergebench_registry.store import Store

FIXTURES = Path(__file__).parent / "fixtures" / "imports"
INSPECT_JSON = FIXTURES / "inspect-addition.json"
INSPECT_EVAL = FIXTURES / "inspect-addition.eval"
(LM_RESULTS,) = (FIXTURES / "lm-eval").glob("results_*.json")
(LM_SAMPLES,) = (FIXTURES / "lm-eval").glob("samples_*.jsonl")


def rows(sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    return run_sql(Store(), sql, params=params).rows


def test_inspect_json_log_lands_with_per_sample_scores_metrics_and_source(reg_home: Path) -> None:
    log = json.loads(INSPECT_JSON.read_text())
    report = import_results(Store(), "inspect", [INSPECT_JSON])
    assert len(report.imported) == 1 and not report.rejected
    (run_id,) = report.imported
    task, model, status, n, source = rows(
        "SELECT task, model_id, status, n_samples, source FROM runs WHERE run_id = ?", [run_id]
    )[0]
    assert (task, model, status) == (f"inspect/{log['eval']['task']}", log["eval"]["model"], "complete")
    assert n == len(log["samples"]) == 6
    sha = hashlib.sha256(INSPECT_JSON.read_bytes()).hexdigest()
    assert source == f"inspect {log['eval']['packages']['inspect_ai']} sha256:{sha}"
    grades = {"C": 1.0, "I": 0.0}
    expected = {str(s["id"]): grades[s["scores"]["match"]["value"]] for s in log["samples"]}
    stored = dict(rows("SELECT sample_id, value FROM scores WHERE run_id = ? AND name = 'match'", [run_id]))
    assert stored == expected and sum(expected.values()) == 5
    accuracy = log["results"]["scores"][0]["metrics"]["accuracy"]["value"]
    stderr = log["results"]["scores"][0]["metrics"]["stderr"]["value"]
    assert rows("SELECT value, stderr, n FROM metrics WHERE run_id = ? AND name = 'match/accuracy'", [run_id]) == [
        (pytest.approx(accuracy), pytest.approx(stderr), 6)
    ]
    answers = dict(rows("SELECT sample_id, answer FROM samples WHERE run_id = ?", [run_id]))
    assert answers == {str(s["id"]): s["output"]["completion"] for s in log["samples"]}


def test_inspect_eval_archive_reads_its_zstd_members(reg_home: Path) -> None:
    report = import_results(Store(), "inspect", [INSPECT_EVAL])
    assert len(report.imported) == 1, report.rejected
    (run_id,) = report.imported
    assert rows("SELECT count(*), sum(value) FROM scores WHERE run_id = ?", [run_id]) == [(6, 5.0)]


def test_lm_eval_results_pair_with_their_logged_samples(reg_home: Path) -> None:
    results = json.loads(LM_RESULTS.read_text())
    samples = [json.loads(line) for line in LM_SAMPLES.read_text().splitlines()]
    report = import_results(Store(), "lm-eval", [LM_RESULTS.parent])
    (run_id,) = report.imported
    assert rows("SELECT task, n_samples, main_metric FROM runs WHERE run_id = ?", [run_id]) == [
        ("lm-eval/addition", 6, "exact_match")
    ]
    stored = dict(rows("SELECT sample_id, value FROM scores WHERE run_id = ? AND name = 'exact_match'", [run_id]))
    assert stored == {str(s["doc_id"]): s["exact_match"] for s in samples}
    value = results["results"]["addition"]["exact_match,none"]
    assert rows("SELECT value FROM metrics WHERE run_id = ?", [run_id]) == [(pytest.approx(value),)]


def test_reimport_is_a_no_op(reg_home: Path) -> None:
    import_results(Store(), "inspect", [INSPECT_JSON, INSPECT_EVAL])
    before = rows("SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM scores)")
    again = import_results(Store(), "inspect", [INSPECT_JSON, INSPECT_EVAL])
    assert not again.imported and len(again.unchanged) == 2
    assert rows("SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM scores)") == before


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("notjson.json", b"{not json", "not an inspect log"),
        ("noeval.json", b'{"eval": 3}', "no 'eval' section"),
        ("badzip.eval", b"PK\x03\x04garbage", "not an inspect log"),
        ("traversal.json", json.dumps({"eval": {"task": "../../x", "model": "m"}, "samples": []}).encode(), "task"),
        ("empty.json", b"", "not an inspect log"),
    ],
)
def test_a_malformed_file_is_refused_by_name_and_the_rest_lands(
    reg_home: Path, tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    bad = tmp_path / name
    bad.write_bytes(content)
    report = import_results(Store(), "inspect", [bad, INSPECT_JSON])
    assert len(report.imported) == 1
    assert list(report.rejected) == [str(bad)] and reason in report.rejected[str(bad)]


def test_task_map_pools_two_frameworks_on_purpose_and_the_cli_reports_refusals(reg_home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text("{")
    env = {**os.environ}
    done = subprocess.run(
        [sys.executable, "-m", "emergebench", "import-results", "lm-eval", str(LM_RESULTS), str(bad)]
        + ["--task-map", "lm-eval/addition=addition"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "1 run(s)" in done.stdout and f"refused: {bad}" in done.stderr
    assert rows("SELECT task FROM runs") == [("addition",)]


def test_model_family_and_size_from_names_and_a_user_table(tmp_path: Path) -> None:
    assert family_and_size("openai-api/local/smollm2-135m-instruct", []) == ("smollm2-instruct", 135_000_000)
    assert family_and_size("hf/EleutherAI/pythia-1.4b", []) == ("pythia", 1_400_000_000)
    assert family_and_size("openai/gpt-4o-mini", []) == (None, None)
    table = tmp_path / "models.toml"
    table.write_text('[[model]]\npattern = "gpt-4o-mini"\nfamily = "gpt-4o"\n')
    assert family_and_size("openai/gpt-4o-mini", load_rules(table)) == ("gpt-4o", None)


def test_imported_runs_export_and_import_into_another_store(reg_home: Path, tmp_path: Path) -> None:
    """An imported run has no model calls: its empty model_calls shard must read back (it was refused)."""
    from emergebench_registry.shards import export_runs, import_paths

    (run_id,) = import_results(Store(), "inspect", [INSPECT_JSON]).imported
    with Store().writer() as con:
        export_runs(con, tmp_path / "out")
    other = Store(str(tmp_path / "other.duckdb"))
    report = import_paths(other, [tmp_path / "out"])
    assert report.imported == [run_id]
    assert run_sql(other, "SELECT count(*), sum(value) FROM scores").rows == [(6, 5.0)]


def test_a_leaderboard_row_mixing_origins_marks_each_imported_cell() -> None:
    from emergebench_registry.query import QueryResult, origin_legend, pivot_leaderboard

    columns = "task task_version model_id model_family model_parameters metric breakdown value stderr ci_low ci_high n"
    board = QueryResult(
        columns.split() + ["run_id", "status", "origin"],
        [
            ("addition", "1", "m/x-1b", "x", 10**9, "acc", "", 0.5, 0.1, 0.3, 0.7, 6, "r1", "complete", "native"),
            ("mmlu", "0", "m/x-1b", "x", 10**9, "acc", "", 0.25, None, None, None, 4, "r2", "partial", "lm-eval"),
        ],
    )
    pivot = pivot_leaderboard(board)
    assert pivot.columns == ["model", "origin", "addition@1 (acc)", "mmlu@0 (acc)"]
    assert pivot.rows == [
        ("m/x-1b (x, 1B)", "lm-eval, native", "0.500 ± 0.100 (n=6)", "0.250 (n=4) [partial] {lm-eval}")
    ]
    assert origin_legend(board) is not None
    assert origin_legend(QueryResult(board.columns, board.rows[:1])) is None


def _copies(folder: Path, n: int) -> list[Path]:
    """The real inspect log under ``n`` new eval ids: ``n`` distinct runs."""
    log = json.loads(INSPECT_JSON.read_text())
    folder.mkdir()
    paths = []
    for i in range(n):
        log["eval"]["eval_id"] = f"copy-{i}"
        paths.append(folder / f"copy-{i}.json")
        paths[-1].write_text(json.dumps(log))
    return paths


def test_a_batch_of_files_is_stored_together_like_one_by_one(reg_home: Path, tmp_path: Path) -> None:
    paths = _copies(tmp_path / "logs", 30)
    (tmp_path / "logs" / "copy-9-again.json").write_bytes(paths[9].read_bytes())  # one run, two files
    report = import_results(Store(), "inspect", [tmp_path / "logs"])
    assert len(report.imported) == 30 and len(report.unchanged) == 1 and not report.rejected
    assert rows("SELECT count(*), sum(value) FROM scores") == [(30 * 6, 30 * 5.0)]
    assert rows("SELECT count(DISTINCT source) FROM runs") == [(30,)]
    assert rows("SELECT source FROM model_sources") == [("import:inspect",)]
    again = import_results(Store(), "inspect", paths)
    assert not again.imported and len(again.unchanged) == 30


def test_a_batch_duckdb_refuses_is_stored_file_by_file(
    reg_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import duckdb
    from emergebench_registry import ingest

    real = ingest.replace_runs

    def refuse_batches(con, run_ids, *args, **kwargs):  # type: ignore[no-untyped-def]
        if len(run_ids) > 1:
            raise duckdb.ConstraintException("simulated refusal of the whole batch")
        return real(con, run_ids, *args, **kwargs)

    monkeypatch.setattr(ingest, "replace_runs", refuse_batches)
    _copies(tmp_path / "logs", 5)
    report = import_results(Store(), "inspect", [tmp_path / "logs"])
    assert len(report.imported) == 5 and not report.rejected
    assert rows("SELECT count(*) FROM runs") == [(5,)]


def test_origin_is_a_known_framework_native_or_other() -> None:
    """A pulled shard's task_provenance is outside data: an unknown framework name is never shown."""
    import duckdb
    from emergebench_registry.query import origin_sql

    cells = [json.dumps({"imported_from": "helm"}), None, "{}", json.dumps({"imported_from": "\x1b[31mx"}), "{bad"]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER, p VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(cells)))
    got = [row[0] for row in con.execute(f"SELECT {origin_sql('p')} FROM t ORDER BY i").fetchall()]
    assert got == ["helm", "native", "native", "other", "native"]


@pytest.mark.parametrize("date", [1e300, -1e20, "NaN"])
def test_an_lm_eval_time_no_datetime_holds_is_left_unknown(reg_home: Path, tmp_path: Path, date: object) -> None:
    """A results file whose ``date`` (or evaluation time) is out of any datetime's range used to stop the
    import with an OverflowError; the run lands with its times unknown."""
    folder = tmp_path / "lm"
    folder.mkdir()
    results = json.loads(LM_RESULTS.read_text())
    results["date"] = float(date) if isinstance(date, str) else date
    results["total_evaluation_time_seconds"] = "1e400"
    (folder / LM_RESULTS.name).write_text(json.dumps(results))
    (folder / LM_SAMPLES.name).write_bytes(LM_SAMPLES.read_bytes())
    report = import_results(Store(), "lm-eval", [folder])
    assert not report.rejected, report.rejected
    (run_id,) = report.imported
    assert rows("SELECT n_samples, started_at, finished_at FROM runs WHERE run_id = ?", [run_id]) == [(6, None, None)]
