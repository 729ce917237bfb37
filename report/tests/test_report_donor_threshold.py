"""The Donor Game's headline ("cooperative": the society ends with at least what each agent started
with) is cut at the run's own endowment, not the default 10."""

from __future__ import annotations

import pytest
from emergebench_donor_game.settings import DonorGameArgs
from emergebench_donor_game.task import DonorGame
from emergebench_registry.store import Store
from emergebench_report.analysis import analyze
from emergebench_report.pairs import collect_group_by, collect_pairs
from emergebench_report.pooled import load_pool

# agents that never give keep exactly their endowment: the final average resources equal it
KEEPERS = {"model_args": {"fraction": 0.0}, "seed": 1}
SMALL = {"population": 4, "generations": 1, "runs": 2}


def test_analysis_cuts_cooperative_at_each_runs_endowment(rep_run) -> None:
    low = rep_run("donor-game/constant", task="donor-game", task_args={**SMALL, "endowment": 4}, **KEEPERS)
    high = rep_run("donor-game/constant", task="donor-game", task_args={**SMALL, "endowment": 25}, **KEEPERS)
    default = rep_run("donor-game/constant", task="donor-game", task_args=SMALL, **KEEPERS)
    assert {r.status for r in (low, high, default)} == {"complete"}
    with Store().reader() as con:
        pool = load_pool(con, collect_group_by())
    points = analyze(pool, collect_pairs(), diagnostics=False).points
    by_args = {}
    for p in points:
        by_args.setdefault(p.key.task_args, {})[p.metric] = p
    assert len(by_args) == 3
    for endowment in (4, 25, 10):
        (metrics,) = [m for m in by_args.values() if m["final_resources"].mean == pytest.approx(endowment)]
        cooperative = metrics["cooperative"]
        # 4 units kept of 4 given is cooperative (a fixed cut at 10 would say no); 25 of 25 too
        assert cooperative.derived and cooperative.n == 2
        assert cooperative.mean == 1.0


def test_until_pass_reads_the_same_threshold_from_the_task_arguments() -> None:
    assert DonorGame(DonorGameArgs(endowment=4)).passed({"final_resources": 5.0}) is True
    assert DonorGame(DonorGameArgs(endowment=25)).passed({"final_resources": 24.0}) is False
    assert DonorGame().passed({"final_resources": 9.5}) is False  # default endowment 10
    assert DonorGame().passed({"final_resources": 10.0}) is True
