"""Constrained output (item 14.12): JSON-schema replies for the student and the judge give the same metrics as
the free-text protocol, and the parser maps points to rubric items by their text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from emergebench.runner import RunOptions, build_spec, run_sync
from emergebench_skill_mix.constrained import grading_schema, parse_json_points, student_answer

HERE = str(Path(__file__).parent)
ITEMS = ["Correctly illustrates metaphor", "Pertains to Sewing", "Text makes sense", "At most one sentence"]


def test_grading_schema_has_one_key_per_item() -> None:
    schema = grading_schema(ITEMS)["json_schema"]["schema"]
    assert list(schema["properties"]) == ITEMS and schema["required"] == ITEMS
    assert all(p == {"enum": [0, 0.5, 1]} for p in schema["properties"].values())


def test_points_are_matched_by_item_text_in_any_order() -> None:
    reply = json.dumps(
        {
            "at most one sentence": 1,
            "Text makes sense": 0.5,
            "Pertains to Sewing": 1,
            "Correctly illustrates metaphor": 0,
        }
    )
    parsed = parse_json_points(reply, ITEMS)
    assert parsed.points == [0.0, 1.0, 0.5, 1.0] and not parsed.failed and parsed.row_mapping == "text"


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        ("Here's the grading table: | a | 1 |", "not a JSON object"),
        ('{"Correctly illustrates metaphor": 1, "Pertains to Sewing": 1, "Text makes sense": 1}', "At most one"),
        (
            json.dumps(dict(zip(ITEMS, [2, 1, 1, 1], strict=True))),
            "got 2",
        ),
        (
            json.dumps(dict(zip(ITEMS, [True, 1, 1, 1], strict=True))),
            "got True",
        ),
    ],
)
def test_bad_grading_replies_are_parse_failures(reply: str, problem: str) -> None:
    parsed = parse_json_points(reply, ITEMS)
    assert parsed.failed and problem in "; ".join(parsed.problems) and len(parsed.points) == 4


def test_student_answer_reads_json_or_falls_back() -> None:
    assert student_answer('{"answer": " Short text. ", "explanation": "x"}') == "Short text."
    assert student_answer("Answer: Plain text.\nExplanation: x") == "Plain text."


def test_constrained_run_matches_the_free_text_run(monkeypatch: pytest.MonkeyPatch, emergebench_home: Path) -> None:
    monkeypatch.syspath_prepend(HERE)

    def run(student: str, judge: str, **args: object):  # type: ignore[no-untyped-def]
        spec = build_spec(
            "skill-mix",
            "scripted/function",
            model_args={"function": f"skillmix_scripted:{student}"},
            grader_model="scripted/function",
            grader_model_args={"function": f"skillmix_scripted:{judge}"},
            task_args={"k": 3, "combinations": 5, **args},
        )
        home = emergebench_home / student
        return run_sync(spec, RunOptions(runs_dir=home / "runs", cache_path=home / "c.db", progress=False))

    free = run("student", "table_judge")
    constrained = run("json_student", "json_judge", constrained="on")
    assert constrained.status == "complete" and constrained.n_errors == 0
    metrics = {(m.name, m.group): m.value for m in constrained.metrics}
    assert metrics == {(m.name, m.group): m.value for m in free.metrics}
    assert metrics[("ratio_of_full_marks", "k=3")] == pytest.approx(0.2)  # the hand-worked value (pipeline test)
    assert metrics[("grader_parse_failure_rate", "k=3")] == 0
