"""The task through the real runner: registration, options, journaled records and metrics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from emergebench import SampleResult, UsageError
from emergebench.journal import iter_journal
from emergebench.runner import RunOptions, build_spec, run_sync
from emergebench_donor_game.agents import DonorAgentModel
from emergebench_donor_game.engine import EncounterView
from emergebench_donor_game.metrics import DonorMetrics
from emergebench_donor_game.prompt_reader import read_donation_prompt, read_strategy_prompt
from emergebench_donor_game.prompts import donation_prompt, first_strategy_prompt, inherited_strategy_prompt
from emergebench_donor_game.settings import GameRules


def run(home: Path, model: str, model_args: dict | None = None, epochs: int = 1, **task_args: object):
    spec = build_spec("donor-game", model, task_args=task_args, model_args=model_args or {}, seed=3, epochs=epochs)
    result = run_sync(spec, RunOptions(runs_dir=home / "runs", cache_path=home / "cache.sqlite", progress=False))
    journal = next((home / "runs").glob("*/journal.jsonl"))
    return result, list(iter_journal(journal))


def test_run_records_everything_the_plots_need(emergebench_home: Path) -> None:
    result, samples = run(
        emergebench_home, "donor-game/constant", {"fraction": 0.5}, population=4, generations=3, runs=2
    )
    assert result.status == "complete" and result.n_samples == 2 and result.n_errors == 0
    metrics = {(m.name, m.group): m for m in result.metrics}
    # four agents, reference schedule: every generation ends on the same average (survivors reset to 10)
    assert metrics[("final_resources", None)].value == pytest.approx(metrics[("resources", "generation=1")].value)
    assert metrics[("final_resources", None)].n == 2
    assert {g for (name, g) in metrics if name == "resources"} == {f"generation={g}" for g in (1, 2, 3)}
    assert metrics[("donation_fraction", "generation=2")].value == 0.5
    assert metrics[("donation_fraction_slope", None)].value == 0
    assert metrics[("punishment_share", None)].value == 0
    # 4 + 2 + 2 strategy calls and 3 generations x 2 games x 4 rounds x 2 pairs donation calls
    assert metrics[("model_calls", None)].value == 8 + 48
    assert metrics[("input_tokens", None)].value > 0

    sample = samples[0]
    meta = json.loads(json.dumps(sample.metadata))  # survives the journal's JSON round trip
    out = json.loads(json.dumps(sample.output))  # the stored simulation, apart from the scores
    assert len(out["encounters"]) == 48
    first = out["encounters"][0]
    assert {"generation", "game", "round", "donor", "recipient", "donor_before", "donor_after", "recipient_before",
            "recipient_after", "amount", "fraction", "punished", "justification"} <= set(first)  # fmt: skip
    assert len(out["strategies"]) == 8 and all(
        s["strategy"].startswith("My strategy will be") for s in out["strategies"]
    )
    assert [g["generation"] for g in out["generations"]] == [1, 2, 3]
    assert [g["generation"] for g in meta["generations"]] == [1, 2, 3]
    assert len(meta["agents"]) == 12
    assert sample.scores["final_resources"] == meta["generations"][-1]["average"]
    assert sample.input["population"] == 4


def test_costly_punishment_share_is_measured(emergebench_home: Path) -> None:
    result, samples = run(
        emergebench_home, "donor-game/punish", {"amount": 1, "threshold": 50}, population=4, generations=1,
        punishment="costly",
    )  # fmt: skip
    metrics = {(m.name, m.group): m.value for m in result.metrics}
    # punishers facing a fresh trace give nothing; from then on everyone's last act is below 50%
    assert metrics[("punishment_share", None)] == samples[0].scores["punishment_share"]
    assert 0 < metrics[("punishment_share", None)] <= 1


@pytest.mark.parametrize(
    ("args", "message"),
    [({"population": 5}, "population must be even"), ({"selection": "best"}, "selection"),
     ({"rounds": 3}, "rounds"), ({"punishment": "cheap"}, "punishment")],
)  # fmt: skip
def test_bad_options_are_refused_by_name(emergebench_home: Path, args: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        build_spec("donor-game", "donor-game/defect", task_args=args)


def test_scripted_model_option_errors_name_the_bad_value() -> None:
    with pytest.raises(UsageError, match="fraction"):
        DonorAgentModel("constant", {"fraction": 2})
    with pytest.raises(UsageError, match="'gift'"):
        DonorAgentModel("constant", {"agents": {"1_1": {"policy": "gift"}}})
    with pytest.raises(UsageError, match="JSON object"):
        DonorAgentModel("constant", {"agents": "not json"})


def test_prompt_reader_reads_what_the_prompts_say() -> None:
    rules = GameRules(punishment=True)
    trace = (
        "In round 3, 1_4 punished 1_8 by spending 1.0 units to take away 2.0 units from their resources. "
        "In round 2, 1_8 donated 12.50% of their resources to 1_3. 1_3 did not have any previous interactions."
    )
    view = EncounterView(2, 1, 4, "1_7", "1_4", 9.0, 12.5, trace)
    req = read_donation_prompt(donation_prompt(view, "My strategy will be to be kind.", rules))
    assert (req.name, req.recipient, req.generation, req.round) == ("1_7", "1_4", 2, 4)
    assert (req.resources, req.recipient_resources, req.costly) == (9.0, 12.5, True)
    assert req.strategy == "My strategy will be to be kind."
    assert [(t.round, t.actor, t.kind, t.percent) for t in req.trace] == [
        (3, "1_4", "punished", None),
        (2, "1_8", "donated", 12.5),
    ]
    assert read_strategy_prompt(first_strategy_prompt("1_5", rules)) == ("1_5", None)
    inherited = inherited_strategy_prompt("3_2", rules, ["a [b]", "c"], [1.0, 2.0])
    assert read_strategy_prompt(inherited) == ("3_2", ["a [b]", "c"])


def _folded_result(i: int) -> SampleResult:
    return SampleResult(
        run_id="r",
        sample_id=f"s{i}",
        scores={"final_resources": 10.0 + i, "donation_fraction": i / 10},
        output={"usage": {"model_calls": i, "input_tokens": 10 * i, "output_tokens": i}},
        metadata={"generations": [{"generation": g, "average": float(i + g)} for g in (1, 2)]},
    )


def test_merged_accumulators_give_the_metrics_of_one_fold() -> None:
    """A resumed run merges the journal's accumulator with the new one: the three maps (keyed by name
    and by (curve, generation)) must all join, or a resumed run reports fewer simulations."""
    results = [_folded_result(i) for i in range(5)]
    whole = DonorMetrics().fold(results)
    left, right = DonorMetrics(), DonorMetrics()
    for result in results[:2]:
        left.add(result)
    for result in results[2:]:
        right.add(result)
    left.merge(right)
    assert left.metrics() == whole
    by_name = {(m.name, m.group): m for m in whole}
    assert by_name[("final_resources", None)].value == pytest.approx(12.0)  # mean of 10..14
    assert by_name[("resources", "generation=2")].value == pytest.approx(4.0)  # mean of 2..6
    assert by_name[("model_calls", None)].n == 5
