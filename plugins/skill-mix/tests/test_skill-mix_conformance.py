"""Conformance: the plugin passes emergebench.testing.check_plugin (owned by the contributor-path kit)."""

from __future__ import annotations

from emergebench.testing import check_plugin

TARGET = {
    "skills": [
        {"name": "metaphor", "definition": "a figure of speech", "example": "Time is a thief."},
        {"name": "red herring", "definition": "a misleading clue", "example": "But what about the weather?"},
    ],
    "topic": "Sewing",
}


def test_skill_mix_conforms() -> None:
    # Samples carry the skills in their input, not a target, so the graders get a well-formed one here.
    check_plugin("skill-mix", grader_targets={"skill-mix/gpt4-table": [TARGET], "skill-mix/llama2-points": [TARGET]})
