"""The core's plugin conformance kit on this plugin (scripted models, demo arguments, both graders)."""

from __future__ import annotations

from emergebench.conformance import check_plugin

TARGET = {
    "skills": [{"name": "metaphor", "definition": "a figure of speech", "example": "All the world's a stage."}],
    "topic": "Sewing",
}


def test_skill_mix_passes_the_conformance_kit() -> None:
    report = check_plugin(
        "skill-mix",
        grader_targets={"skill-mix/gpt4-table": [TARGET], "skill-mix/llama2-points": [TARGET]},
    )
    assert not report.errors
