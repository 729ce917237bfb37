"""Grouped metrics: the leaderboard never pools groups; grouped-only main metrics get a column per group."""

from __future__ import annotations

import duckdb
import pytest
from emergebench_registry.query import leaderboard, pivot_leaderboard, run_sql
from emergebench_registry.schema import SCHEMA_VERSION, VIEWS
from emergebench_registry.store import Store


def solve_constant_zero():
    return {"model": "scripted/constant", "model_args": {"reply": "0"}}


def test_grouped_only_metric_is_shown_per_group_and_overall_beats_groups(reg_run, reg_store: Store) -> None:
    reg_run(task="regtest/grouped", task_args={"n": 9})
    reg_run(task="regtest/grouped", task_args={"n": 9}, **solve_constant_zero())
    reg_run(task="regtest/curve", task_args={"n": 9})
    board = leaderboard(reg_store)
    idx = {c: i for i, c in enumerate(board.columns)}
    got = [(r[idx["task"]], r[idx["breakdown"]], r[idx["model_id"]], r[idx["value"]], r[idx["n"]]) for r in board.rows]
    # The constant "0" answers only q0 (0+0) right; q0 is in group k=1, so pooling would show 1/9 everywhere.
    assert got == [
        ("regtest/curve", "", "scripted/function", 1.0, 9),
        ("regtest/grouped", "k=1", "scripted/function", 1.0, 3),
        ("regtest/grouped", "k=1", "scripted/constant", 1 / 3, 3),
        ("regtest/grouped", "k=2", "scripted/function", 1.0, 3),
        ("regtest/grouped", "k=2", "scripted/constant", 0.0, 3),
        ("regtest/grouped", "k=10", "scripted/function", 1.0, 3),
        ("regtest/grouped", "k=10", "scripted/constant", 0.0, 3),
    ]
    pivot = pivot_leaderboard(board)
    assert pivot.columns == [
        "model",
        "origin",
        "regtest/curve@1.0 (accuracy)",
        "regtest/grouped@1.0 k=1 (accuracy)",
        "regtest/grouped@1.0 k=2 (accuracy)",
        "regtest/grouped@1.0 k=10 (accuracy)",
    ]
    cells = {row[0]: row[1:] for row in pivot.rows}
    assert cells["scripted/constant (scripted)"] == (
        "native",
        "",
        "0.333 ± 0.333 (n=3)",
        "0.000 ± 0.000 (n=3)",
        "0.000 ± 0.000 (n=3)",
    )
    # The SQL view agrees: per-group rows for the grouped task, only the overall row for the curve task.
    view = run_sql(reg_store, "SELECT task, breakdown, model_id, n FROM leaderboard ORDER BY task, breakdown, model_id")
    assert view.rows == [
        ("regtest/curve", "", "scripted/function", 9),
        ("regtest/grouped", "k=1", "scripted/constant", 3),
        ("regtest/grouped", "k=1", "scripted/function", 3),
        ("regtest/grouped", "k=10", "scripted/constant", 3),
        ("regtest/grouped", "k=10", "scripted/function", 3),
        ("regtest/grouped", "k=2", "scripted/constant", 3),
        ("regtest/grouped", "k=2", "scripted/function", 3),
    ]


def test_requested_metric_uses_groups_not_pooled_scores(reg_run, reg_store: Store) -> None:
    reg_run(task="regtest/grouped", task_args={"n": 9})
    by_metric = leaderboard(reg_store, task="regtest/grouped", metric="accuracy")
    assert [(r[6], r[11]) for r in by_metric.rows] == [("k=1", 3), ("k=2", 3), ("k=10", 3)]
    # A per-sample score with no aggregate of its name is the mean over all samples, as before.
    by_score = leaderboard(reg_store, task="regtest/grouped", metric="correct")
    assert [(r[6], r[7], r[11]) for r in by_score.rows] == [("", 1.0, 9)]


def test_cli_leaderboard_shows_a_column_per_group(reg_run, reg_home) -> None:
    from click.testing import CliRunner
    from emergebench.cli import cli

    reg_run(task="regtest/grouped", task_args={"n": 9})
    out = CliRunner().invoke(cli, ["leaderboard", "--task", "regtest/grouped"], catch_exceptions=False)
    assert out.exit_code == 0, out.output
    header = out.output.splitlines()[0]
    assert header.index("k=1 (accuracy)") < header.index("k=2 (accuracy)") < header.index("k=10 (accuracy)")


def test_old_store_is_migrated_to_the_grouped_leaderboard_view(reg_store: Store) -> None:
    with reg_store.writer():
        pass
    con = duckdb.connect(str(reg_store.path))
    con.execute("DELETE FROM schema_info WHERE version >= 3")  # a store from before v3
    con.execute("CREATE OR REPLACE VIEW leaderboard AS SELECT 1 AS old_view")
    con.close()
    with reg_store.writer() as con:
        columns = [r[0] for r in con.execute("DESCRIBE leaderboard").fetchall()]
        versions = [r[0] for r in con.execute("SELECT version FROM schema_info ORDER BY 1").fetchall()]
    assert "breakdown" in columns and versions == list(range(1, SCHEMA_VERSION + 1))
    assert "leaderboard" in VIEWS


def test_newer_store_is_refused_with_a_clear_message(reg_store: Store) -> None:
    with reg_store.writer():
        pass
    con = duckdb.connect(str(reg_store.path))
    con.execute(f"INSERT INTO schema_info VALUES ({SCHEMA_VERSION + 1}, now())")
    con.close()
    with pytest.raises(RuntimeError, match="upgrade emergebench-registry"):
        with Store(reg_store.path).writer():
            pass
