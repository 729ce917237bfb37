"""The registry never uses a run that is not complete silently, and counts what the journal holds.

Hand-worked cases on ``regtest/quiz`` (question ``i+i`` for i in 0..n-1): a model failing on
``i % 3 == 0`` fails 2 of 6 samples (q0, q3); a model that always fails fails all 6.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from emergebench.cli import cli
from emergebench_registry.ingest import ingest_paths
from emergebench_registry.query import run_sql
from emergebench_registry.store import Store

FLAKY = {"function": "registry_testplugin:fails_on_multiples_of_three"}
BROKEN = {"function": "registry_testplugin:always_fails"}


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_damaged_journal_lines_are_reported_by_number_and_not_counted(reg_run, reg_home: Path) -> None:
    result = reg_run()
    assert result.status == "complete" and result.n_samples == 6
    run_dir = reg_home / "runs" / result.run_id
    journal = run_dir / "journal.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    lines[2] = b"garbage that is not json\n"
    lines[4] = json.dumps({**json.loads(lines[4]), "run_id": "another-run"}).encode() + b"\n"
    journal.write_bytes(b"".join(lines))
    (report,) = ingest_paths(Store(), [run_dir])
    assert (report.status, report.samples, report.damaged_lines) == ("partial", 4, [3, 5])
    assert report.warning and "2 damaged journal line(s) skipped (line 3, 5)" in report.warning
    row = run_sql(Store(), "SELECT status, n_samples, n_errors, n_expected FROM runs").rows
    assert row == [("partial", 4, 0, 6)], "run.json said complete with 6; the journal holds 4"
    assert run_sql(Store(), "SELECT count(*) FROM samples").rows == [(4,)]
    cli_ingest = invoke("ingest", str(run_dir))
    assert cli_ingest.exit_code == 0 and "line 3, 5" in cli_ingest.output


def test_journal_counts_win_over_run_json(reg_run, reg_home: Path) -> None:
    result = reg_run(model="scripted/function", model_args=FLAKY)
    assert (result.status, result.n_samples, result.n_errors) == ("partial", 6, 2)
    run_dir = reg_home / "runs" / result.run_id
    (report,) = ingest_paths(Store(), [run_dir])
    assert (report.status, report.samples) == ("partial", 6)
    assert run_sql(Store(), "SELECT status, n_samples, n_errors FROM runs").rows == [("partial", 6, 2)]


def test_a_retried_failure_replaces_the_failed_line_in_the_store(reg_run, reg_home: Path) -> None:
    result = reg_run(model="scripted/function", model_args=FLAKY)
    run_dir = reg_home / "runs" / result.run_id
    journal = run_dir / "journal.jsonl"
    good = [json.loads(line) for line in journal.read_bytes().splitlines() if not json.loads(line)["error"]][0]
    failed = [json.loads(line) for line in journal.read_bytes().splitlines() if json.loads(line)["error"]]
    # As a resume would: a later good line for q0, after its failed one.
    retried = {**good, "sample_id": failed[0]["sample_id"], "answer": "retried", "error": None, "error_type": None}
    with journal.open("ab") as handle:
        handle.write(json.dumps(retried).encode() + b"\n")
    (report,) = ingest_paths(Store(), [run_dir])
    assert report.samples == 6
    rows = run_sql(
        Store(), "SELECT answer, error IS NULL FROM samples WHERE sample_id = ?", params=[failed[0]["sample_id"]]
    )
    assert rows.rows == [("retried", True)]
    assert run_sql(Store(), "SELECT n_errors FROM runs").rows == [(1,)]


def test_leaderboard_marks_a_partial_run_and_notes_it(reg_run) -> None:
    reg_run(model="scripted/constant", model_args={"reply": "0"})  # complete: only q0 right, accuracy 1/6
    part = reg_run(model="scripted/function", model_args=FLAKY)
    assert part.status == "partial"
    board = invoke("leaderboard", "--task", "regtest/quiz")
    assert board.exit_code == 0
    table, _, notes = board.output.partition("Note:")
    row = next(line for line in table.splitlines() if "scripted/function" in line)
    # 4 good samples, all right: accuracy 1.000 over n=4, marked partial.
    assert "1.000" in row and "(n=4)" in row and "[partial]" in row
    constant = next(line for line in table.splitlines() if "scripted/constant" in line)
    assert "0.167" in constant and "[" not in constant.split("0.167")[1].split("|")[0].replace("(n=6)", "")
    assert f"run {part.run_id} is partial" in notes


def test_failed_latest_run_is_left_out_of_the_leaderboard_with_a_note(reg_run) -> None:
    reg_run(model="scripted/constant", model_args={"reply": "0"})
    dead = reg_run(model="scripted/function", model_args=BROKEN)
    assert (dead.status, dead.n_errors) == ("failed", 6)
    board = invoke("leaderboard", "--task", "regtest/quiz")
    assert board.exit_code == 0
    table, _, notes = board.output.partition("Note:")
    assert "scripted/constant" in table and "scripted/function" not in table
    assert f"left out, its latest run {dead.run_id} failed (6 of 6 samples failed)" in notes


def test_compare_notes_a_run_that_is_not_complete(reg_run) -> None:
    good = reg_run(model="scripted/constant", model_args={"reply": "0"})
    part = reg_run(model="scripted/function", model_args=FLAKY)
    out = invoke("compare", good.run_id, part.run_id, "--metric", "correct")
    assert out.exit_code == 0, out.output
    assert f"run B ({part.run_id}) is partial (2 of 6 sample(s) failed)" in out.output
    assert "run A (" not in out.output, "a complete run gets no note"
