"""Scoring as its own phase: every first-party task's finished run is re-scored from its stored outputs
with no call to the subject model and identical scores; ``emergebench score`` records the new run with
its lineage in the registry and in exported shards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from emergebench.journal import iter_journal, read_result, read_spec
from emergebench.plugins import get_manager
from emergebench.records import RunResult, SampleResult
from emergebench.rescore import Rescorer, find_run, rescore_spec
from emergebench.runner import RunOptions, build_spec, run_sync

SKILLMIX_TESTS = Path(__file__).parents[1] / "plugins" / "skill-mix" / "tests"
EMERGEBENCH = str(Path(sys.executable).with_name("emergebench"))

# One small finished run per first-party task, with offline models: (task, model, model args, spec kwargs).
FIRST_PARTY: dict[str, dict[str, Any]] = {
    "mars": {
        "task": "mars/transition",
        "model": "scripted/cycle",
        "model_args": {"replies": ["Yes.", "no", "It is not plausible.", "maybe"]},
        "task_args": {"data": "sample"},
        "limit": 6,
    },
    "skill-mix": {
        "task": "skill-mix",
        "model": "scripted/function",
        "model_args": {"function": "skillmix_scripted:student"},
        "grader_model": "scripted/function",
        "grader_model_args": {"function": "skillmix_scripted:table_judge"},
        "task_args": {"k": 3, "combinations": 3, "generation_rounds": 2, "grading_rounds": 2},
    },
    "boxinggym": {
        "task": "boxinggym/peregrines",
        "model": "boxinggym/random-design",
        "task_args": {"budgets": "0,1,2", "num_evals": 3, "seeds": 2, "random_designs": 10},
    },
    "donor-game": {
        "task": "donor-game",
        "model": "scripted/cycle",
        "model_args": {"replies": ["My strategy will be to give half.", "Answer: 5", "Answer: 2"]},
        "task_args": {"population": 4, "generations": 2, "runs": 2, "max_tokens": 32, "max_attempts": 1},
    },
}


def _options(home: Path) -> RunOptions:
    return RunOptions(runs_dir=home / "runs", cache_path=home / "cache.sqlite", progress=False)


def _journal(home: Path, result: RunResult) -> dict[tuple[str, int], SampleResult]:
    return {r.key: r for r in iter_journal(home / "runs" / result.run_id / "journal.jsonl")}


@pytest.fixture
def home(emergebench_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(SKILLMIX_TESTS))  # the skill-mix scripted student and judge
    return emergebench_home


@pytest.mark.parametrize("plugin", sorted(FIRST_PARTY))
def test_rescoring_a_finished_run_calls_no_subject_model_and_gives_identical_scores(home: Path, plugin: str) -> None:
    kwargs = dict(FIRST_PARTY[plugin])
    spec = build_spec(kwargs.pop("task"), kwargs.pop("model"), **kwargs)
    source = run_sync(spec, _options(home))
    assert source.status == "complete" and source.n_errors == 0, source.errors
    before = _journal(home, source)
    assert all(r.output is not None for r in before.values())  # the outputs are stored apart from scores

    again = rescore_spec(read_spec(home / "runs" / source.run_id), source.run_id)
    rescorer = Rescorer(find_run(source.run_id, home / "runs"), again, _options(home))
    rescored = run_sync_rescore(rescorer)

    assert rescored.status == "complete" and rescored.n_errors == 0, rescored.errors
    assert rescored.spec.source_run == source.run_id and rescored.run_id != source.run_id
    after = _journal(home, rescored)
    assert after.keys() == before.keys()
    for key, old in before.items():
        new = after[key]
        assert new.scores == old.scores, key
        assert new.output == old.output and new.answer == old.answer
        assert not [c for c in new.calls if c.role != "grader"]  # scoring never calls the subject model
        assert all(c.cached for c in new.calls)  # judge calls come from the cache
    assert rescored.model_calls == 0  # nothing went to any model
    assert rescored.metrics == source.metrics
    if plugin == "skill-mix":
        assert rescored.cached_calls == sum(1 for r in before.values() for c in r.calls if c.role == "grader") > 0


def run_sync_rescore(rescorer: Rescorer) -> RunResult:
    from emergebench.runner import run_coroutine

    return run_coroutine(rescorer.run())


def test_rescoring_computes_a_metric_from_old_outputs(home: Path) -> None:
    """A scoring change (here: reference extraction) applies to the stored replies, no model call."""
    spec = build_spec("mars/transition", "scripted/cycle", model_args={"replies": ["**Yes**", "no"]},
                      task_args={"data": "sample"}, limit=4)  # fmt: skip
    source = run_sync(spec, _options(home))
    assert {m.name: m.value for m in source.metrics if m.group is None}["extraction_failure_rate"] == 0.0
    stored = read_spec(home / "runs" / source.run_id)
    changed = rescore_spec(stored, source.run_id).model_copy(
        update={"task_args": {**stored.task_args, "extraction": "reference"}}
    )
    rescored = run_sync_rescore(Rescorer(find_run(source.run_id, home / "runs"), changed, _options(home)))
    # the reference extractor needs the reply to start with yes/no: "**Yes**" now fails, "no" still reads
    failure = {m.name: m.value for m in rescored.metrics if m.group is None}["extraction_failure_rate"]
    assert failure == 0.5 and rescored.model_calls == 0


def _run_dirs(home: Path) -> list[Path]:
    return [d for d in (home / "runs").iterdir() if not d.name.startswith(".")]


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EMERGEBENCH_HOME": str(home), "COLUMNS": "200"}
    return subprocess.run([EMERGEBENCH, *args], env=env, capture_output=True, text=True, timeout=240)


def test_score_command_records_lineage_in_registry_and_shards(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ran = _cli(home, "run", "mars/transition", "-m", "scripted/cycle", "-M", 'replies=["yes","no"]',
               "-T", "data=sample", "--limit", "4")  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    (source_dir,) = _run_dirs(home)
    # a model-graded grader: its judge calls are recorded with the re-scoring run (and pooled with it)
    scored = _cli(home, "score", source_dir.name, "--grader", "rubric", "--grader-model", "scripted/constant",
                  "-J", "reply=GRADE: C")  # fmt: skip
    assert scored.returncode == 0, scored.stderr
    assert f"re-scored from run {source_dir.name}" in scored.stdout
    new = [d for d in _run_dirs(home) if d != source_dir]
    assert len(new) == 1
    result = read_result(new[0])
    assert result is not None and result.spec.source_run == source_dir.name and result.spec.grader == "rubric"
    rows = [r for r in iter_journal(new[0] / "journal.jsonl")]
    # the user's grader is applied to every sample next to the task's own scores
    assert all(set(r.scores) == {"correct", "extraction_failed", "rubric"} for r in rows)
    assert all(r.scores["rubric"] == 1.0 and [c.role for c in r.calls] == ["grader"] for r in rows)
    assert result.model_calls == 4 and result.model.id == "scripted/cycle"

    sql = _cli(home, "sql", "SELECT run_id, source_run_id FROM runs ORDER BY source_run_id NULLS FIRST", "--format",
               "json")  # fmt: skip
    assert sql.returncode == 0, sql.stderr
    lineage = json.loads(sql.stdout)
    assert [(r["run_id"], r["source_run_id"]) for r in lineage] == [
        (source_dir.name, None),
        (new[0].name, source_dir.name),
    ]
    exported = _cli(home, "export", "-o", str(tmp_path / "shards"))
    assert exported.returncode == 0, exported.stderr
    other = tmp_path / "other"
    imported = _cli(other, "import", str(tmp_path / "shards"))
    assert imported.returncode == 0, imported.stderr
    pooled = json.loads(
        _cli(
            other,
            "sql",
            "SELECT source_run_id FROM runs WHERE run_id = ?".replace("?", f"'{new[0].name}'"),
            "--format",
            "json",
        ).stdout  # fmt: skip
    )
    assert pooled == [{"source_run_id": source_dir.name}]


def test_score_refuses_unknown_or_malformed_run_ids(tmp_path: Path) -> None:
    for bad in ("../etc", "nope-123"):
        done = _cli(tmp_path / "home", "score", bad)
        assert done.returncode != 0 and "Traceback" not in done.stderr
        assert bad in done.stderr and "emergebench runs" in done.stderr


@pytest.mark.parametrize(
    ("task", "task_args"),
    [
        ("boxinggym/peregrines", {"seeds": 1}),
        ("donor-game", {"runs": 1}),
        ("skill-mix", {}),
    ],
)
def test_a_grader_the_output_cannot_take_is_refused_before_running(
    emergebench_home: Path, task: str, task_args: dict[str, Any]
) -> None:
    from emergebench.errors import UsageError

    get_manager()
    with pytest.raises(UsageError, match="regex"):
        build_spec(task, "scripted/echo", task_args=task_args, grader="regex", grader_args={"pattern": "x"})
    assert not (emergebench_home / "runs").exists()


def test_a_grader_on_mars_is_applied_not_ignored(emergebench_home: Path) -> None:
    spec = build_spec(
        "mars/transition",
        "scripted/cycle",
        model_args={"replies": ["yes", "no"]},
        task_args={"data": "sample"},
        limit=4,
        grader="regex",
        grader_args={"pattern": "zzz"},
    )
    result = run_sync(spec, _options(emergebench_home))
    rows = list(_journal(emergebench_home, result).values())
    assert all(r.scores["regex"] == 0.0 and r.metadata["user_grader"]["parse_failed"] for r in rows)
    assert [(m.value, m.n) for m in result.metrics if m.name == "regex"] == [(0.0, 4)]
