"""Metric direction: a task's lower-is-better metrics (errors) rank ascending in `leaderboard` and
`compare`, and the direction survives the store, Parquet shards and Every Eval Ever export/import.

The oracle is hand-worked: ``regtest/error`` scores |answer - 2i| on ``i+i`` for i = 0..5, so the
summing model has error 0 and the model always answering "0" has mean error (0+2+4+6+8+10)/6 = 5.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from emergebench_registry.export_eee import EeeOptions, eee_records, write_records
from emergebench_registry.imports import import_results
from emergebench_registry.query import leaderboard, run_sql
from emergebench_registry.schema import MIGRATIONS
from emergebench_registry.shards import ShardError, export_runs, import_paths, shard_path
from emergebench_registry.store import Store
from test_registry_cli import eb

ERROR_TASK = "regtest/error"


def boxinggym_run(home: Path, monkeypatch: pytest.MonkeyPatch, model: str = "scripted/function", **model_args: str):
    """A real, cheap BoxingGym run (dugongs, budgets 0 and 3, one trajectory): by default the scripted
    constant scientist of the plugin (random designs, a constant prediction)."""
    from emergebench.plugins import reset_manager
    from emergebench.runner import RunOptions, build_spec, run_sync

    monkeypatch.setenv("EMERGEBENCH_LOAD_PLUGINS", "registry,boxinggym")
    reset_manager()
    if model == "scripted/function" and not model_args:
        model_args = {"function": "emergebench_boxinggym.scripted:constant_scientist"}
    spec = build_spec(
        "boxinggym/dugongs",
        model,
        model_args=model_args,
        task_args={"budgets": "0,3", "seeds": 1, "random_designs": 3, "num_evals": 2},
        seed=3,
    )
    return run_sync(spec, RunOptions(runs_dir=home / "runs", cache_path=home / "c.db", progress=False))


def test_leaderboard_cli_ranks_boxinggym_by_smallest_error(reg_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two real BoxingGym runs: the plugin's constant scientist (its prediction is near the data) and a
    model that always predicts 100 cm for a dugong (2-3 m animals: a huge error). The paper ranks the
    smaller standardised error z_final first; the leaderboard ranked it last before."""
    near = boxinggym_run(reg_home, monkeypatch)
    far = boxinggym_run(
        reg_home,
        monkeypatch,
        "scripted/constant",
        reply="<thought>t</thought><observe>1.5</observe><answer>100</answer>",
    )
    z = {r.model.id: next(m.value for m in r.metrics if m.name == "z_final") for r in (near, far)}
    assert z["scripted/function"] < z["scripted/constant"]
    board = eb(reg_home, "leaderboard", "--task", "boxinggym/dugongs", "--format", "json")
    assert board.returncode == 0, board.stderr
    rows = json.loads(board.stdout)
    assert [(r["model_id"], r["metric"], r["lower_is_better"]) for r in rows] == [
        ("scripted/function", "z_final", True),
        ("scripted/constant", "z_final", True),
    ]
    assert [r["value"] for r in rows] == pytest.approx([z["scripted/function"], z["scripted/constant"]])
    text = eb(reg_home, "leaderboard", "--task", "boxinggym/dugongs", "--no-scan").stdout.splitlines()
    assert "(z_final ↓)" in text[0] and text[2].startswith("scripted/function")


def two_error_runs(reg_run) -> tuple[str, str]:
    """The summing model (abs_error 0) and the model answering "0" (abs_error 5): run ids."""
    good = reg_run(task=ERROR_TASK)
    bad = reg_run(task=ERROR_TASK, model="scripted/constant", model_args={"reply": "0"})
    return good.run_id, bad.run_id


def test_leaderboard_cli_ranks_a_lower_is_better_metric_ascending(reg_run, reg_home: Path) -> None:
    two_error_runs(reg_run)
    reg_run()  # regtest/quiz (accuracy, higher is better): the summing model first as before
    reg_run(model="scripted/constant", model_args={"reply": "0"})
    board = eb(reg_home, "leaderboard", "--task", ERROR_TASK)
    assert board.returncode == 0, board.stderr
    lines = board.stdout.splitlines()
    assert "regtest/error@1.0 (abs_error ↓)" in lines[0]
    assert lines[2].startswith("scripted/function") and "0.000 ± 0.000 (n=6)" in lines[2]
    assert lines[3].startswith("scripted/constant") and "5.000" in lines[3]
    assert any(line.startswith("↓ = lower is better") for line in lines)
    data = eb(reg_home, "leaderboard", "--format", "json")
    rows = json.loads(data.stdout)
    by_task = {
        t: [(r["model_id"], r["value"], r["lower_is_better"]) for r in rows if r["task"] == t]
        for t in (ERROR_TASK, "regtest/quiz")
    }
    assert by_task[ERROR_TASK] == [("scripted/function", 0.0, True), ("scripted/constant", 5.0, True)]
    assert [m for m, _, _ in by_task["regtest/quiz"]] == ["scripted/function", "scripted/constant"]
    assert not any(lower for _, _, lower in by_task["regtest/quiz"])


def test_compare_names_the_run_with_the_smaller_error_better(reg_run, reg_home: Path) -> None:
    good, bad = two_error_runs(reg_run)
    out = eb(reg_home, "compare", bad, good, "--format", "json")
    assert out.returncode == 0, out.stderr
    (row,) = json.loads(out.stdout)
    assert row["diff_B_minus_A"] == -5.0 and row["better"] == "B"
    assert "abs_error is lower-is-better" in out.stderr
    higher = eb(reg_home, "compare", good, bad, "--format", "json")
    assert json.loads(higher.stdout)[0]["better"] == "A"


def test_shard_round_trip_keeps_the_direction(reg_run, reg_store: Store, tmp_path: Path) -> None:
    good, bad = two_error_runs(reg_run)
    with reg_store.reader() as con:
        export_runs(con, tmp_path / "shards")
    fresh = Store(tmp_path / "fresh.duckdb")
    assert sorted(import_paths(fresh, [tmp_path / "shards"]).imported) == sorted([good, bad])
    stored = run_sql(fresh, "SELECT DISTINCT lower_is_better::VARCHAR FROM runs").rows
    assert stored == [('["abs_error"]',)]
    assert [r[2] for r in leaderboard(fresh, ERROR_TASK).rows] == ["scripted/function", "scripted/constant"]


@pytest.mark.parametrize("value", ['{"abs_error": true}', '["../etc"]', "[1]", "not json"])
def test_a_runs_shard_with_a_bad_direction_is_refused(reg_run, reg_store: Store, tmp_path: Path, value: str) -> None:
    result = reg_run(task=ERROR_TASK)
    with reg_store.reader() as con:
        export_runs(con, tmp_path / "shards")
    path = tmp_path / "shards" / shard_path("runs", ERROR_TASK, result.run_id)
    table = pq.read_table(path)
    index = table.column_names.index("lower_is_better")
    pq.write_table(table.set_column(index, "lower_is_better", pa.array([value])), path, compression="zstd")
    target = Store(tmp_path / "target.duckdb")
    with pytest.raises(ShardError, match="lower_is_better"):
        import_paths(target, [tmp_path / "shards"])
    assert run_sql(target, "SELECT count(*) FROM runs").rows == [(0,)]


def test_eee_export_and_import_keep_lower_is_better(reg_run, reg_store: Store, tmp_path: Path) -> None:
    two_error_runs(reg_run)
    with reg_store.reader() as con:
        report = eee_records(con, None, False, EeeOptions())
    records = [json.loads(f.content) for f in report.files if f.path.endswith(".json")]
    configs = [r["metric_config"] for rec in records for r in rec["evaluation_results"]]
    assert len(configs) == 2 and all(c["metric_id"] == "abs_error" and c["lower_is_better"] is True for c in configs)
    out = tmp_path / "eee"
    write_records(out, report.files)
    fresh = Store(tmp_path / "fresh.duckdb")
    import_results(fresh, "eee", [out])
    stored = run_sql(fresh, "SELECT model_id, lower_is_better::VARCHAR FROM runs ORDER BY 1").rows
    assert [cell for _, cell in stored] == ['["abs_error"]', '["abs_error"]']
    ranked = leaderboard(fresh).rows
    assert [r[2] for r in ranked][0].endswith("function")  # the smaller error first after the round trip


def test_lm_eval_higher_is_better_false_is_recorded(reg_home: Path, tmp_path: Path) -> None:
    source = next((Path(__file__).parent / "fixtures" / "imports" / "lm-eval").glob("results_*.json"))
    data = json.loads(source.read_text())
    assert data["higher_is_better"]["addition"] == {"exact_match": True}
    data["higher_is_better"]["addition"]["exact_match"] = False
    (tmp_path / source.name).write_text(json.dumps(data))
    store = Store(tmp_path / "lm.duckdb")
    import_results(store, "lm-eval", [tmp_path / source.name])
    assert run_sql(store, "SELECT lower_is_better::VARCHAR FROM runs").rows == [('["exact_match"]',)]


def test_a_version_6_store_migrates_and_its_runs_rank_as_before(tmp_path: Path) -> None:
    """A store made before schema 7: its runs gain a null direction, and ``latest_runs`` (which selects
    ``r.*``) still answers the leaderboard after the column is added."""
    path = tmp_path / "v6.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_info (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ)")
    for number, step in enumerate(MIGRATIONS[:6], start=1):
        step(con)
        con.execute("INSERT INTO schema_info VALUES (?, now())", [number])
    for model, value in (("a/low", 1.0), ("a/high", 3.0)):
        run_id = f"r-{model.split('/')[1]}"
        con.execute(
            "INSERT INTO runs (run_id, spec_id, status, task, task_version, main_metric, model_id, finished_at) "
            "VALUES (?, 's', 'complete', 'old/task', '1', 'err', ?, now())",
            [run_id, model],
        )
        con.execute("INSERT INTO metrics VALUES (?, 'err', '', ?, NULL, 3, NULL, NULL)", [run_id, value])
    con.close()
    store = Store(path)
    assert run_sql(store, "SELECT max(version) FROM schema_info").rows == [(7,)]
    rows = leaderboard(store).rows
    assert [(r[2], r[-1]) for r in rows] == [("a/high", False), ("a/low", False)]
