"""Selection, inheritance and a deterministic multi-generation run (spec sections 2 and 5)."""

from __future__ import annotations

import asyncio
import re

import pytest
from emergebench import GenerateConfig, Message, ModelError
from emergebench_donor_game.agents import DonorAgentModel
from emergebench_donor_game.local import simulate_sync, simulate_with_model
from emergebench_donor_game.prompt_reader import is_donation_prompt, read_strategy_prompt
from emergebench_donor_game.prompts import inherited_strategy_prompt
from emergebench_donor_game.selection import rank, selection_score, survivors
from emergebench_donor_game.settings import DonorGameArgs, GameRules


def test_ties_keep_list_order() -> None:
    order = ["b", "a", "d", "c"]
    scores = {"a": 5.0, "b": 5.0, "c": 9.0, "d": 5.0}
    assert rank(order, scores) == ["c", "b", "a", "d"]
    assert survivors(order, scores) == ["c", "b"]


def test_selection_rules() -> None:
    assert selection_score(4, 10, "paper") == 7
    assert selection_score(4, 10, "reference") == 20
    with pytest.raises(ValueError, match="'best'"):
        selection_score(1, 2, "best")


def test_inherited_prompt_lists_survivors_best_first_with_optional_scores() -> None:
    rules = GameRules()
    plain = inherited_strategy_prompt("2_1", rules, ["My strategy will be B.", "My strategy will be A."], None)
    assert "['My strategy will be B.', 'My strategy will be A.']" in plain
    assert plain.startswith("Your name is 2_1.")
    scored = inherited_strategy_prompt("2_1", rules, ["s1", "s2"], [30.5, 12.0])
    assert "[['s1', 30.5], ['s2', 12.0]]" in scored


PERCENT = re.compile(r"donate (\d+(?:\.\d+)?)% of my resources")


def percent(strategy: str) -> float:
    match = PERCENT.search(strategy)
    assert match is not None, strategy
    return float(match.group(1))


async def test_deterministic_cultural_evolution_with_a_strategy_writing_model() -> None:
    """Imitators start from name-derived shares; newcomers write the survivors' mean plus 10 points."""
    model = DonorAgentModel("imitate", {"step": 0.1})
    args = DonorGameArgs(population=4, generations=3)
    result = await simulate_with_model(model, args, seed=7)
    again = await simulate_with_model(DonorAgentModel("imitate", {"step": 0.1}), args, seed=7)
    assert [a.strategy for a in result.agents] == [a.strategy for a in again.agents]
    assert [e.as_dict() for e in result.encounters] == [e.as_dict() for e in again.encounters]

    names = [a.name for a in result.agents]
    assert names == ["1_1", "1_2", "1_3", "1_4", "2_1", "2_2", "3_1", "3_2"]
    strategy = {a.name: a.strategy for a in result.agents}
    for gen, nxt in zip(result.generations, result.generations[1:], strict=False):
        assert gen.survivors is not None and len(gen.survivors) == 2
        # survivors carry over with their strategies; two newcomers join; the new list is shuffled
        assert set(nxt.order) == set(gen.survivors) | {f"{nxt.generation}_1", f"{nxt.generation}_2"}
        mean = sum(percent(strategy[n]) for n in gen.survivors) / 2
        expected = min(100.0, mean + 10)
        for k in (1, 2):
            assert percent(strategy[f"{nxt.generation}_{k}"]) == pytest.approx(expected)
        # the survivors are the best half by mean final resources
        best = sorted(gen.order, key=lambda n: (gen.game1[n] + gen.game2[n]) / 2, reverse=True)[:2]
        assert gen.survivors == best
    assert result.generations[-1].survivors is None
    # every donation follows the donor's strategy
    for e in result.encounters:
        assert e.fraction == pytest.approx(percent(strategy[e.donor]) / 100 if e.donor_before else 1.0)


async def test_generation_one_strategy_prompt_and_shuffle_are_seeded() -> None:
    args = DonorGameArgs(population=6, generations=2)
    one = await simulate_with_model(DonorAgentModel("imitate", {}), args, seed=1)
    two = await simulate_with_model(DonorAgentModel("imitate", {}), args, seed=2)
    assert one.generations[0].order != two.generations[0].order
    unshuffled = await simulate_with_model(DonorAgentModel("imitate", {}), args.model_copy(update={"shuffle": False}))
    assert unshuffled.generations[0].order == [f"1_{k}" for k in range(1, 7)]


def test_sync_helper_takes_task_options() -> None:
    result = simulate_sync(DonorAgentModel("defect", {}), population=2, generations=2, shuffle=False)
    assert [g.average for g in result.generations] == [10, 10]
    assert [a.name for a in result.agents] == ["1_1", "1_2", "2_1"]
    assert result.generations[0].survivors == ["1_1"]  # a tie at 10 keeps list order


class Recording(DonorAgentModel):
    """An imitator that keeps every prompt and measures how many calls of each kind overlap."""

    def __init__(self) -> None:
        super().__init__("imitate", {})
        self.prompts: list[str] = []
        self.in_flight = {"strategy": 0, "donation": 0}
        self.peak = {"strategy": 0, "donation": 0}

    async def generate(self, messages, config):  # type: ignore[no-untyped-def]
        prompt = messages[-1].content
        kind = "donation" if is_donation_prompt(prompt) else "strategy"
        self.prompts.append(prompt)
        self.in_flight[kind] += 1
        self.peak[kind] = max(self.peak[kind], self.in_flight[kind])
        await asyncio.sleep(0.001)
        try:
            return await super().generate(messages, config)
        finally:
            self.in_flight[kind] -= 1


async def test_newcomers_see_the_survivors_strategies_best_first() -> None:
    model = Recording()
    result = await simulate_with_model(model, DonorGameArgs(population=6, generations=2), seed=5)
    gen1 = result.generations[0]
    strategy = {a.name: a.strategy for a in result.agents}
    prompts = [p for p in model.prompts if p.startswith("Your name is 2_1.") and "Modify this advice" in p]
    assert len(prompts) == 1
    assert read_strategy_prompt(prompts[0]) == ("2_1", [strategy[n] for n in gen1.survivors or []])
    assert gen1.survivors == gen1.ranking[:3]


async def test_one_rounds_donations_are_asked_concurrently() -> None:
    model = Recording()
    await simulate_with_model(model, DonorGameArgs(population=12, generations=2))
    # each round's 6 donors are asked together, rounds one after another; strategies are written together
    assert model.peak == {"strategy": 12, "donation": 6}


async def test_scripted_agents_refuse_foreign_prompts() -> None:
    with pytest.raises(ModelError, match="only answers the donor-game task's prompts"):
        await DonorAgentModel("defect", {}).generate([Message(role="user", content="What is 2+2?")], GenerateConfig())
