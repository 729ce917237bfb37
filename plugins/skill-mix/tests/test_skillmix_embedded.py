"""End to end on the embedded offline model (llamacpp/smollm2-135m) as both student and judge, tiny size.

A 135M model cannot do Skill-Mix; this checks that real, messy model output flows through generation, grading,
parsing and metrics without errors, and that the demo configuration stays small.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from emergebench.journal import iter_journal
from emergebench.runner import RunOptions, build_spec, run_sync

pytest.importorskip("emergebench_llamacpp", reason="the llamacpp model plugin is not installed")


@pytest.mark.slow
def test_embedded_model_as_student_and_judge(emergebench_home: Path) -> None:
    from emergebench_skill_mix.task import SkillMixTask

    spec = build_spec(
        "skill-mix",
        "llamacpp/smollm2-135m",
        grader_model="llamacpp/smollm2-135m",
        task_args=dict(SkillMixTask.demo_args or {}),
        limit=SkillMixTask.demo_limit,
    )
    result = run_sync(spec, RunOptions(runs_dir=emergebench_home / "runs", cache_path=emergebench_home / "c.db"))
    assert result.status == "complete" and result.n_errors == 0, result.errors
    # 1 combination for each of k = 1, 2 x 1 generation x (2 turns + 1 grading round)
    assert result.model_calls == 6
    names = {(m.group, m.name) for m in result.metrics}
    for k in ("k=1", "k=2"):  # two points for the report's by-k view
        assert (k, "ratio_of_full_marks") in names and (k, "skill_fraction") in names
    rows = list(iter_journal(emergebench_home / "runs" / result.run_id / "journal.jsonl"))
    assert sorted(row.metadata["k"] for row in rows) == [1, 2]
    for row in rows:
        grading = row.metadata["generations"][0]["gradings"][0]
        assert len(grading["points"]) == row.metadata["k"] + 3  # k+3 items whatever the judge wrote
        assert all(0.0 <= value <= 1.0 for value in row.scores.values())
        assert all(c.config.max_tokens <= 96 for c in row.calls)
        # the demo constrains the judge to one JSON key per rubric item, so even this model's grading parses
        assert all(c.config.response_format is not None for c in row.calls)
        assert grading["parse_failed"] is False, grading
