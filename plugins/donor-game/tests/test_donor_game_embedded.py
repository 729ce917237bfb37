"""End to end on the embedded offline model (llamacpp/smollm2-135m): the prompts, retries and records
work with a real language model. Its answers are noise; only the pipeline is checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from emergebench.journal import iter_journal
from emergebench.plugins import get_manager
from emergebench.runner import RunOptions, build_spec, run_sync

MODEL = "llamacpp/smollm2-135m"


@pytest.mark.slow
def test_tiny_simulation_on_the_embedded_model(emergebench_home: Path) -> None:
    if "llamacpp" not in get_manager().catalog.models:
        pytest.skip("the emergebench-llamacpp plugin is not installed")
    args = {"population": 2, "generations": 1, "max_tokens": 24, "max_attempts": 1}
    spec = build_spec("donor-game", MODEL, task_args=args, seed=0)
    options = RunOptions(runs_dir=emergebench_home / "runs", cache_path=emergebench_home / "c.sqlite", progress=False)
    result = run_sync(spec, options)
    assert result.status == "complete" and result.n_errors == 0, result.errors
    (sample,) = list(iter_journal(next((emergebench_home / "runs").glob("*/journal.jsonl"))))
    encounters = sample.output["encounters"]
    assert len(encounters) == 4  # 2 games x 2 rounds x 1 pair
    # two strategy calls, then one try per encounter (an unreadable reply counts as giving 0)
    assert len(sample.calls) == 2 + 4
    assert all(e["attempts"] == 1 and (e["valid"] or e["amount"] > e["donor_before"]) for e in encounters)
    assert all(e["amount"] == 0 for e in encounters if e["failed"])
    assert all(c.messages[0].role == "system" and c.config.temperature == 0.8 for c in sample.calls)
    final = sample.metadata["generations"][0]
    assert sample.scores["final_resources"] == final["average"] >= 0
    # the same spec again is served from the cache with identical records
    again = run_sync(
        spec, RunOptions(runs_dir=emergebench_home / "runs2", cache_path=options.cache_path, progress=False)
    )
    assert again.cached_calls == result.model_calls and again.metrics == result.metrics
