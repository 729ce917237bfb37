"""EIG and EIG regret are computed when a trajectory is scored, from the data stored with it: the
numbers equal those the solve-time computation gave, a re-scoring with other EIG settings equals a
fresh run with them (with no model call), and the stored designs and observations decode exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from emergebench.context import sample_seed
from emergebench.journal import iter_journal, read_spec
from emergebench.records import RunResult, SampleResult
from emergebench.rescore import Rescorer, find_run, rescore_spec
from emergebench.runner import RunOptions, build_spec, run_coroutine, run_sync
from emergebench_boxinggym.envs import ENVIRONMENTS
from emergebench_boxinggym.scoring import score_trajectory
from emergebench_boxinggym.stored import StoredValueError, decode, decode_data, encode
from emergebench_boxinggym.tasks import TASKS
from emergebench_boxinggym.trajectory import eval_rng

PEREGRINES = {"budgets": "0,1,2", "num_evals": 3, "seeds": 2, "random_designs": 10}
IRT = {"budgets": "0,2", "num_evals": 2, "seeds": 1, "random_designs": 5}
# What the solve-time EIG computation (before it moved to scoring) gave for these runs of the
# random-design baseline: recorded with that implementation, which shared none of the replay code.
SOLVE_TIME = {
    ("boxinggym/peregrines", "direct-prior-oed-1"): (0.04230967432124725, 1.8812714694655166),
    ("boxinggym/peregrines", "direct-prior-oed-2"): (1.1977969491066518, 0.15439795544439927),
    ("boxinggym/irt", "direct-prior-oed-1"): (0.1145432394548801, 0.00036992251294981626),
}


def options(home: Path) -> RunOptions:
    return RunOptions(runs_dir=home / "runs", cache_path=home / "cache.sqlite", progress=False)


def run(home: Path, task: str, args: dict[str, Any]) -> tuple[RunResult, list[SampleResult]]:
    result = run_sync(build_spec(task, "boxinggym/random-design", task_args=args), options(home))
    assert result.status == "complete", result.errors
    return result, list(iter_journal(home / "runs" / result.run_id / "journal.jsonl"))


@pytest.mark.parametrize(("task", "args"), [("boxinggym/peregrines", PEREGRINES), ("boxinggym/irt", IRT)])
def test_eig_is_scored_from_the_stored_data_as_solve_used_to(emergebench_home: Path, task: str, args: dict) -> None:
    _, samples = run(emergebench_home, task, args)
    for sample in samples:
        output = sample.output or {}
        done = [e for e in output["experiments"] if e["success"]]
        assert not any("eig" in e for e in output["experiments"])  # solve no longer computes it
        assert len(output["data"]) == len(done) > 0
        eig, regret = SOLVE_TIME[(task, sample.sample_id)]
        assert sample.scores["eig"] == pytest.approx(eig, rel=1e-9)
        assert sample.scores["eig_regret"] == pytest.approx(regret, rel=1e-9)
        assert [step["eig"] for step in sample.metadata["eig"]] and len(sample.metadata["eig"]) == len(done)


def test_rescoring_with_other_random_designs_equals_a_fresh_run(emergebench_home: Path) -> None:
    source, before = run(emergebench_home, "boxinggym/peregrines", PEREGRINES)
    changed = {**PEREGRINES, "random_designs": 3}
    stored = read_spec(emergebench_home / "runs" / source.run_id)
    spec = rescore_spec(stored, source.run_id).model_copy(update={"task_args": {**stored.task_args, **changed}})
    rescored = run_coroutine(
        Rescorer(find_run(source.run_id, emergebench_home / "runs"), spec, options(emergebench_home)).run()
    )
    assert rescored.status == "complete" and rescored.model_calls == 0
    after = {r.sample_id: r.scores for r in iter_journal(emergebench_home / "runs" / rescored.run_id / "journal.jsonl")}
    _, fresh = run(emergebench_home / "fresh", "boxinggym/peregrines", changed)
    assert after == {r.sample_id: r.scores for r in fresh}
    assert any(after[r.sample_id]["eig_regret"] != r.scores["eig_regret"] for r in before)


def test_a_record_stored_before_the_move_scores_from_its_own_eig(emergebench_home: Path) -> None:
    """Runs solved before EIG moved to scoring carry it per experiment and no data: scored as before."""
    _, samples = run(emergebench_home, "boxinggym/irt", IRT)
    sample = samples[0]
    old = dict(sample.output or {})
    steps = iter(sample.metadata["eig"])
    old["experiments"] = [{**e, **next(steps)} if e["success"] else e for e in old.pop("experiments")]
    old.pop("data")
    task = TASKS["irt"](TASKS["irt"].Args.model_validate(IRT))
    _, goal = task.world(seed_of(emergebench_home, sample))
    points = goal.eval_points(eval_rng(seed_of(emergebench_home, sample)), IRT["num_evals"])
    scores, _ = score_trajectory(goal, points, old, "fixed")
    assert scores["eig"] == sample.scores["eig"] and scores["eig_regret"] == sample.scores["eig_regret"]


def seed_of(home: Path, sample: SampleResult) -> int:
    return sample_seed(read_spec(home / "runs" / sample.run_id).seed, sample.sample_id, sample.epoch)


@pytest.mark.parametrize("key", sorted(ENVIRONMENTS))
def test_every_worlds_designs_and_observations_round_trip_exactly(key: str) -> None:
    env = ENVIRONMENTS[key](np.random.default_rng(3), "fixed", phrase=False, include_prior=True)
    rng = np.random.default_rng(4)
    for _ in range(5):
        design = env.random_design(rng)
        for value in (design, env.step(design)):
            back = decode(json.loads(json.dumps(encode(value))))
            assert type(back) is type(value) and repr(back) == repr(value)
            if isinstance(value, np.ndarray):
                assert back.dtype == value.dtype and np.array_equal(back, value)


@pytest.mark.parametrize(
    "stored",
    [
        {"scalar": 1, "dtype": "|O"},
        {"scalar": "1", "dtype": "<f8"},
        {"ndarray": [["a"]], "dtype": "<U5"},
        {"ndarray": [[1], [1, 2]], "dtype": "<i8"},
        {"ndarray": [1], "dtype": "<f8", "extra": 1},
        {"tuple": "xy"},
        {"dtype": "<f8" * 10, "scalar": 1.0},
        {"set": [1]},
        json.loads("[" * 20 + "]" * 20),
    ],
)
def test_hostile_stored_values_are_refused_by_name(stored: Any) -> None:
    with pytest.raises(StoredValueError):
        decode(stored)


def test_stored_data_must_be_pairs() -> None:
    assert decode_data([[1.5, {"scalar": 2, "dtype": "<i8"}]]) == [(1.5, np.int64(2))]
    for bad in ("x", [[1]], [[1, 2, 3]], {"a": 1}):
        with pytest.raises(StoredValueError):
            decode_data(bad)
