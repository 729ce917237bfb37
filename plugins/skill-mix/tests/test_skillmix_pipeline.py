"""The whole task through the real runner, with scripted student and judge models and exact expected metrics.

The scripted functions live in skillmix_scripted.py; see its docstring for the rules. Worked out by hand for the
five seed-10 combinations at k=3 (limit: two sentences):

| topic      | voted points      | why                                                        | FM | AS | SF  |
| Sewing     | 1 1 0 1 1 1       | syllogism gets 0.5 three times: mean 0.5 rounds to 0       | 0  | 0  | 2/3 |
| Beekeeping | 1 1 1 1 1 1       | metaphor earned ('gold')                                   | 1  | 1  | 1   |
| Gardening  | 1 1 1 1 1 0       | 3 sentences: length point recomputed to 0 (judge gave 1)   | 0  | 1  | 0   |
| Triathlons | 1 0 1 1 1 1       | 'red herring' named in the text: penalty                   | 0  | 0  | 2/3 |
| Urbanism   | 0 1 1 1 1 1       | syllogism half points again                                | 0  | 0  | 2/3 |
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from emergebench import RunResult, UsageError
from emergebench.journal import iter_journal
from emergebench.runner import RunOptions, build_spec, run_sync

HERE = str(Path(__file__).parent)


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch, emergebench_home: Path) -> Path:
    monkeypatch.syspath_prepend(HERE)
    return emergebench_home


def run(home: Path, judge: str = "table_judge", grader: str | None = None, **task_args: Any) -> RunResult:
    spec = build_spec(
        "skill-mix",
        "scripted/function",
        model_args={"function": "skillmix_scripted:student"},
        grader_model="scripted/function",
        grader_model_args={"function": f"skillmix_scripted:{judge}"},
        grader=grader,
        task_args={"k": 3, "combinations": 5, **task_args},
    )
    return run_sync(spec, RunOptions(runs_dir=home / "runs", cache_path=home / "cache.db", progress=False))


def values(result: RunResult, group: str = "k=3") -> dict[str, tuple[float | None, float | None, int]]:
    return {m.name: (m.value, m.stderr, m.n) for m in result.metrics if m.group == group}


def journal(home: Path, result: RunResult) -> list:
    return list(iter_journal(home / "runs" / result.run_id / "journal.jsonl"))


def test_full_pipeline_exact_metrics(scripted: Path) -> None:
    result = run(scripted)
    assert result.status == "complete" and result.n_errors == 0
    got = values(result)
    assert got["ratio_of_full_marks"] == pytest.approx((0.2, 0.2, 5))
    assert got["ratio_of_all_skills"] == pytest.approx((0.4, math.sqrt(0.3 / 5), 5))
    assert got["skill_fraction"][0] == pytest.approx(0.6) and got["skill_fraction"][2] == 5
    assert got["grader_parse_failure_rate"][0] == 0.0
    # 5 combinations x 3 generations x (2 student turns + 3 grading rounds), none collapsed by the cache.
    assert result.model_calls == 75 and result.cached_calls == 0
    prov = result.provenance.plugin_versions
    assert prov["task:skills_sha256"] == "8757270cab3d86008173a5af3bf947240db7064ec49a703421574ccf56cb5350"
    assert prov["task:topics_sha256"] == "34858f5a7f613de6a83a6c637d4cda30b998fce5eeca2f0aabcab784ce9d869b"

    rows = {r.metadata["topic"]: r for r in journal(scripted, result)}
    assert set(rows) == {"Sewing", "Beekeeping", "Gardening", "Triathlons", "Urbanism"}
    garden = rows["Gardening"].metadata["generations"][0]
    assert garden["gradings"][0]["sentence_count"] == 3
    assert garden["gradings"][0]["grader_length_point"] == 1.0 and garden["gradings"][0]["length_point"] == 0.0
    assert rows["Triathlons"].metadata["generations"][0]["named_skills"] == ["red herring"]
    assert rows["Sewing"].metadata["generations"][2]["voted_points"] == [1.0, 1.0, 0.0, 1.0, 1.0, 1.0]
    assert rows["Sewing"].metadata["skills_sha256"] == prov["task:skills_sha256"]
    assert rows["Sewing"].scores == pytest.approx(
        {"ratio_of_full_marks": 0.0, "ratio_of_all_skills": 0.0, "skill_fraction": 2 / 3}
    )

    # Conversation shape: turn 1 states no sentence count, turn 2 follows the turn-1 reply and states it in words;
    # only the turn-2 answer goes to the judge; every round has its own seed.
    calls = rows["Beekeeping"].calls
    student = [c for c in calls if c.role == "subject"]
    judge = [c for c in calls if c.role == "grader"]
    assert len(student) == 6 and len(judge) == 9
    first, second = student[0], next(c for c in student if len(c.messages) == 3)
    assert "sentence" not in first.messages[0].content.replace("semantics", "")
    assert [m.role for m in second.messages] == ["user", "assistant", "user"]
    assert "two sentences" in second.messages[2].content
    assert first.config.temperature == 0.7 and first.config.max_tokens == 512
    assert 'answer was: "Why do you still neglect your hive? Besides, the honey is liquid gold."' in (
        judge[0].messages[0].content
    )
    assert "first draft" not in judge[0].messages[0].content
    assert len({c.config.seed for c in judge}) == 9 and len({c.config.seed for c in student}) == 3

    again = run(scripted)  # same spec: everything is reused from the journal, nothing is called again
    assert values(again) == got and again.model_calls == 0


@pytest.mark.parametrize(
    ("grader", "task_args"), [("skill-mix/llama2-points", {}), (None, {"grader_prompt": "llama2-points"})]
)
def test_llama_points_grader_gives_the_same_metrics(scripted: Path, grader: str | None, task_args: dict) -> None:
    result = run(scripted, judge="points_judge", grader=grader, **task_args)
    got = values(result)
    assert got["ratio_of_full_marks"][0] == pytest.approx(0.2)
    assert got["ratio_of_all_skills"][0] == pytest.approx(0.4)
    assert got["skill_fraction"][0] == pytest.approx(0.6)
    row = journal(scripted, result)[0]
    assert row.metadata["grader"] == "skill-mix/llama2-points"
    judge_prompt = next(c for c in row.calls if c.role == "grader").messages[0].content
    assert "Point earned: 1" in judge_prompt and "Contains " in judge_prompt and "For example" not in judge_prompt


def test_options_change_the_metrics(scripted: Path) -> None:
    no_penalty = values(run(scripted, explicit_name_penalty=False, generation_rounds=1, grading_rounds=1))
    # Triathlons keeps its red herring point; a single grading round's 0.5 still rounds (half to even) to 0.
    assert no_penalty["ratio_of_full_marks"][0] == pytest.approx(0.4)

    filtered = run(scripted, filter_skills="red herring", generation_rounds=1, grading_rounds=3)
    got = values(filtered)
    assert got["ratio_of_full_marks"][:1] + got["ratio_of_full_marks"][2:] == (0.0, 3)
    assert got["ratio_of_all_skills"][0] == pytest.approx(1 / 3)
    assert got["skill_fraction"][0] == pytest.approx(4 / 9)
    assert sum(1 for r in journal(scripted, filtered) if r.metadata["filtered"]) == 2


def test_several_k_reported_separately_and_limit_interleaves(scripted: Path) -> None:
    result = run(scripted, k="1,2", combinations=3, generation_rounds=1, grading_rounds=1)
    groups = {m.group for m in result.metrics}
    assert groups == {"k=1", "k=2"}
    spec = build_spec("skill-mix", "scripted/constant", task_args={"k": [1, 2], "combinations": 3}, limit=3)
    from emergebench.plugins import get_manager

    task = get_manager().catalog.task("skill-mix")(get_manager().catalog.task("skill-mix").Args(**spec.task_args))
    picked = task.select(task.dataset(0), 3, 0)
    assert [s.id for s in picked] == ["k1-0000", "k2-0000", "k1-0001"]


@pytest.mark.parametrize(
    ("task_args", "message"),
    [
        ({"k": 7}, "between 1 and 6"),
        ({"k": "two"}, "whole numbers"),
        ({"combinations": 0}, "positive number or -1"),
        ({"grader_prompt": "gpt5"}, "grader_prompt"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_task_options(scripted: Path, task_args: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        build_spec("skill-mix", "scripted/constant", task_args=task_args)


def test_bad_files_and_names_fail_before_any_call(scripted: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        run(scripted, skills_file=str(tmp_path / "missing.csv"))
    with pytest.raises(UsageError, match="not in bundled:skills.csv.*red hering"):
        run(scripted, filter_skills="red hering")
    few = tmp_path / "few.csv"
    few.write_text("skill,definition,example\nalpha,a,b\nbeta,c,d\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"k=\[3\] is larger than the skill list \(2 skills"):
        run(scripted, skills_file=str(few))
    bad_prompt = tmp_path / "prompt.json"
    bad_prompt.write_text('["{topic} {nonsense}"]', encoding="utf-8")
    with pytest.raises(UsageError, match="unknown placeholder"):
        run(scripted, grading_prompt_file=str(bad_prompt))


def test_custom_prompt_files_are_used_and_hashed(scripted: Path, tmp_path: Path) -> None:
    student = tmp_path / "student.json"
    student.write_text(
        '["Write about {topic} in the context of {topic} that illustrates {skills_str}.", "Now {num_sentences_str}."]',
        encoding="utf-8",
    )
    result = run(scripted, generation_prompt_file=str(student), combinations=1, generation_rounds=1, grading_rounds=1)
    row = journal(scripted, result)[0]
    second = [c for c in row.calls if c.role == "subject"][1]
    assert second.messages[2].content == "Now two sentences."
    assert "task:generation_prompts_sha256" in result.provenance.plugin_versions
