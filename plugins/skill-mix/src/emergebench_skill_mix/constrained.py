"""Constrained output for Skill-Mix: JSON schemas for the student's and the grader's replies.

With ``-T constrained=on`` (or ``auto`` where the provider supports JSON schemas) the student answers
``{"answer": ..., "explanation": ...}`` instead of "Answer: ... Explanation: ...", and the grader answers
one key per rubric item, keyed by the item's own text, each 0, 0.5 or 1. The keys name the items, so the
points map to the rubric by wording, never by order. Off by default: the reference's models wrote free
text and its graders wrote a table. ``emergebench demo`` turns it on.
"""

from __future__ import annotations

from typing import Any

from emergebench.structured import json_object, json_schema_format

from .parsing import ParsedPoints
from .text import extract_answer

POINT_VALUES = (0, 0.5, 1)


def student_schema() -> dict[str, Any]:
    return json_schema_format(
        "skill_mix_text",
        {
            # no maxLength: llama.cpp expands it into a rule per character, slow to sample; max_tokens bounds it
            "answer": {"type": "string"},
            "explanation": {"type": "string"},
        },
    )


def grading_schema(items: list[str]) -> dict[str, Any]:
    return json_schema_format("skill_mix_grade", {item: {"enum": list(POINT_VALUES)} for item in items})


def student_answer(reply: str) -> str:
    """The graded text: the JSON ``answer`` field, or the reference's extraction when the reply is not JSON."""
    data = json_object(reply)
    if data is not None and isinstance(data.get("answer"), str):
        return data["answer"].strip()
    return extract_answer(reply)


def parse_json_points(reply: str, items: list[str]) -> ParsedPoints:
    """Points from a constrained grading reply; a missing or odd item is a problem and scores 0."""
    data = json_object(reply)
    if data is None:
        return ParsedPoints(points=[0.0] * len(items), raw=[], problems=["the grader's reply is not a JSON object"])
    by_key = {str(k).strip().lower(): v for k, v in data.items()}
    points, raw, problems = [], [], []
    for item in items:
        value = by_key.get(item.lower())
        if isinstance(value, bool) or not isinstance(value, int | float) or value not in POINT_VALUES:
            problems.append(f"no 0/0.5/1 point for {item!r} (got {value!r}; scored 0)")
            points.append(0.0)
            continue
        points.append(float(value))
        raw.append(float(value))
    extra = [k for k in data if str(k).strip().lower() not in {i.lower() for i in items}]
    return ParsedPoints(points=points, raw=raw, problems=problems, row_mapping="text", ignored_rows=extra)
