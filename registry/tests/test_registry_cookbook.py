"""Every query in docs/cookbook.md runs against a registry holding real runs."""

from __future__ import annotations

import re
from pathlib import Path

from emergebench_registry.query import run_sql
from emergebench_registry.store import Store

COOKBOOK = Path(__file__).resolve().parents[2] / "docs" / "cookbook.md"


def cookbook_queries() -> list[tuple[str, str]]:
    text = COOKBOOK.read_text()
    blocks = re.findall(r"### (.+?)\n```sql\n(.+?)```", text, flags=re.S)
    return [(title, sql) for title, sql in blocks]


def test_cookbook_has_ten_questions_and_each_query_runs(reg_run, reg_store: Store) -> None:
    reg_run()
    reg_run(model="scripted/constant", model_args={"reply": "4"})
    reg_run(seed=3)
    queries = cookbook_queries()
    assert len(queries) >= 10
    answers = {}
    for title, sql in queries:
        answers[title] = run_sql(reg_store, sql)
    paired = next(r for t, r in answers.items() if t.startswith("5."))
    assert paired.rows[0][0] == 6 and abs(paired.rows[0][1] - 5 / 6) < 1e-9
    board = next(r for t, r in answers.items() if t.startswith("2."))
    assert [row[2] for row in board.rows] == ["scripted/function", "scripted/constant"]
