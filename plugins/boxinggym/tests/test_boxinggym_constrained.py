"""Constrained predictions (item 14.12): every goal's JSON answer reads back through the goal's own parser,
the schema is sent only for predictions and never in paper mode's auto setting."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from emergebench.runner import RunOptions, build_spec, run_sync
from emergebench_boxinggym.constrained import answer_content, answer_format, answer_value_schema
from emergebench_boxinggym.envs import ENVIRONMENTS

HERE = str(Path(__file__).parent)
GOALS = [(key, name) for key, cls in sorted(ENVIRONMENTS.items()) for name in sorted(cls.goals)]


def _goal(key: str, name: str, mode: str = "fixed"):  # type: ignore[no-untyped-def]
    env = ENVIRONMENTS[key](np.random.default_rng(0), mode, phrase=False, include_prior=True)
    return env.goals[name](env)


def _example(schema: dict) -> object:
    """A value that satisfies ``schema``, built by hand from its parts (not by the code under test)."""
    if "enum" in schema:
        return schema["enum"][-1]
    if schema.get("type") == "integer":
        return max(schema.get("minimum", 0), min(schema.get("maximum", 7), 7))
    if schema.get("type") == "number":
        return 2.5
    if schema.get("type") == "array":
        return [_example(schema["items"]) for _ in range(schema["minItems"])]
    if schema.get("type") == "object":
        return {k: _example(v) for k, v in schema["properties"].items()}
    raise AssertionError(f"unexpected schema {schema}")


@pytest.mark.parametrize(("key", "name"), GOALS)
def test_every_goal_reads_its_constrained_answer(key: str, name: str) -> None:
    goal = _goal(key, name)
    value = _example(answer_value_schema(goal))
    schema = answer_format(goal)["json_schema"]["schema"]
    assert schema["required"] == ["answer"] and schema["properties"]["answer"] == answer_value_schema(goal)
    content = answer_content(goal, json.dumps({"answer": value}))
    parsed = goal.parse(content)
    assert parsed is not None, (key, name, content)
    expected = list(value.values()) if isinstance(value, dict) else value
    assert np.allclose(np.asarray(parsed, dtype=float), np.asarray(expected, dtype=float))


@pytest.mark.parametrize(
    ("key", "name", "expected"),
    [
        ("survival", "direct", {"enum": [0, 1]}),
        ("moral_machines", "direct", {"enum": [1, 2]}),
        ("peregrines", "direct", {"type": "integer", "minimum": 0}),
        ("dugongs", "direct", {"type": "number"}),
    ],
)
def test_schemas_follow_the_goal_types(key: str, name: str, expected: dict) -> None:
    assert answer_value_schema(_goal(key, name)) == expected


@pytest.mark.parametrize(
    "reply", ["<answer>3</answer>", '{"answer": "3"}', '{"answer": null}', '{"other": 3}', '{"answer": true}']
)
def test_replies_that_are_not_the_json_answer_are_unparsed(reply: str) -> None:
    assert answer_content(_goal("peregrines", "direct"), reply) is None


@pytest.mark.parametrize(
    ("mode", "setting", "sent"), [("fixed", "on", True), ("paper", "auto", False), ("fixed", "off", False)]
)
def test_schema_is_sent_for_predictions_only(
    monkeypatch: pytest.MonkeyPatch, emergebench_home: Path, mode: str, setting: str, sent: bool
) -> None:
    monkeypatch.syspath_prepend(HERE)
    import boxinggym_json_scientist as scientist

    scientist.SEEN.clear()
    spec = build_spec(
        "boxinggym/peregrines",
        "scripted/function",
        model_args={"function": "boxinggym_json_scientist:json_scientist"},
        task_args={"budgets": "0,1", "num_evals": 2, "seeds": 1, "eig": False, "mode": mode, "constrained": setting},
        seed=3,
    )
    home = emergebench_home / f"{mode}-{setting}"
    result = run_sync(spec, RunOptions(runs_dir=home / "runs", cache_path=home / "c.db", progress=False))
    assert result.status == "complete" and result.n_errors == 0
    kinds_with_schema = {kind for kind, fmt in scientist.SEEN if fmt is not None}
    assert kinds_with_schema == ({"predict"} if sent else set())
    unparsed = {m.name: m.value for m in result.metrics if m.group is None}["unparsed_rate"]
    assert unparsed == 0  # read from the JSON when constrained, from the <answer> tags otherwise
