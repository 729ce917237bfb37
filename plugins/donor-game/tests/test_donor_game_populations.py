"""Exact final resources of scripted populations (spec section 10).

The agents are the ``donor-game/<policy>`` models answering the real prompts, so each case runs the
whole prompt -> reply -> parse -> engine path. List order is [A1..A6, B1..B6] (shuffle off), i.e.
agents 1_1..1_6 then 1_7..1_12. Game 1 rounds (donor group): A in 1,3,5,8,10,12; B in 2,4,6,7,9,11.

Uniform populations, worked by hand with a = A's and b = B's resources (all equal within a group),
where the donor keeps (1-f)x and the recipient gains 2fx:
- f = 1/2: a,b = 10,10 -> R1 5,20 -> R2 25,10 -> R3 12.5,35 -> R4 47.5,17.5 -> R5 23.75,65
  -> R6 88.75,32.5 -> R7 121.25,16.25 -> R8 60.625,137.5 -> R9 198.125,68.75 -> R10 99.0625,266.875
  -> R11 365.9375,133.4375 -> R12 182.96875,499.375. Average 341.171875 = 21835/64.
- f = 1: R1 0,30 -> R2 60,0 -> R3 0,120 -> R4 240,0 -> R5 0,480 -> R6 960,0 -> R7 (B holds 0, gives 0,
  logged 100.00%) 960,0 -> R8 0,1920 -> R9 3840,0 -> R10 0,7680 -> R11 15360,0 -> R12 0,30720.
  Average 15,360, half the paper's 30,720.
- f = 1 alternating: the holder doubles every round: 30, 60, ..., 30 * 2^11 = 61,440 in A after
  round 12 (B gives last), B 0; average 30,720, the paper's stated maximum.
The f = 1/4, f = 1/10, multiplier and mixed cases follow the same recurrences; their values were
worked in exact fractions independently of this package and are asserted as fractions.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from emergebench_donor_game.agents import DonorAgentModel
from emergebench_donor_game.local import simulate_with_model
from emergebench_donor_game.settings import DonorGameArgs
from emergebench_donor_game.simulation import SimulationResult

A = [f"1_{k}" for k in range(1, 7)]
B = [f"1_{k}" for k in range(7, 13)]
LABEL = {name: f"A{k}" for k, name in enumerate(A, 1)} | {name: f"B{k}" for k, name in enumerate(B, 1)}


async def run(policy: str, options: dict[str, Any] | None = None, **args: Any) -> SimulationResult:
    model = DonorAgentModel(policy, options or {})
    return await simulate_with_model(model, DonorGameArgs(shuffle=False, generations=1, **args))


def finals(result: SimulationResult, game: int) -> dict[str, float]:
    gen = result.generations[0]
    values = gen.game1 if game == 1 else gen.game2
    return {LABEL[n]: v for n, v in values.items()}


def survivors(result: SimulationResult) -> list[str]:
    return [LABEL[n] for n in result.generations[0].ranking[:6]]


def group(a: Fraction | float, b: Fraction | float) -> dict[str, Any]:
    return {f"A{k}": a for k in range(1, 7)} | {f"B{k}": b for k in range(1, 7)}


@pytest.mark.parametrize(
    ("fraction", "a", "b", "average"),
    [
        (0.0, 10, 10, 10),
        (0.25, Fraction(85545, 2048), Fraction(127545, 2048), Fraction(106545, 2048)),
        (0.5, Fraction(5855, 32), Fraction(3995, 8), Fraction(21835, 64)),
        (1.0, 0, 30720, 15360),
    ],
)
async def test_uniform_dyadic_populations_exactly(fraction: float, a: Fraction, b: Fraction, average: Fraction) -> None:
    result = await run("constant", {"fraction": fraction})
    gen = result.generations[0]
    assert finals(result, 1) == group(a, b)
    assert finals(result, 2) == group(b, a)  # game 2 mirrors game 1
    assert gen.avg_game1 == gen.avg_game2 == gen.average == average


async def test_uniform_tenth_matches_the_exact_fraction() -> None:
    result = await run("constant", {"fraction": 0.1})
    a, b = Fraction(28050337071, 1562500000), Fraction(3801699771, 195312500)
    assert finals(result, 1) == pytest.approx(group(float(a), float(b)), rel=1e-12)
    assert result.final_average == pytest.approx(float(Fraction(58463935239, 3125000000)), rel=1e-12)


async def test_strict_alternation_reaches_the_papers_maximum() -> None:
    result = await run("constant", {"fraction": 1.0}, schedule="alternating")
    assert finals(result, 1) == group(61440, 0)
    assert result.final_average == 30720


@pytest.mark.parametrize(
    ("multiplier", "a", "b", "average"),
    [
        (1.5, Fraction(79268795, 2097152), Fraction(370974265, 4194304), Fraction(529511855, 8388608)),
        (3, Fraction(5739845, 2048), Fraction(20441345, 2048), Fraction(13090595, 2048)),
    ],
)
async def test_multiplier_ablations(multiplier: float, a: Fraction, b: Fraction, average: Fraction) -> None:
    result = await run("constant", {"fraction": 0.5}, multiplier=multiplier)
    assert finals(result, 1) == group(a, b)
    assert result.final_average == average


async def test_uniform_survivors_are_decided_by_list_order() -> None:
    paper = await run("constant", {"fraction": 0.5})
    reference = await run("constant", {"fraction": 0.5}, selection="reference")
    # paper: every score is 341.171875, so the stable sort keeps A1..A6
    assert survivors(paper) == ["A1", "A2", "A3", "A4", "A5", "A6"]
    # reference: game 2 only, where group A ends on 499.375 and B on 182.96875
    assert survivors(reference) == ["A1", "A2", "A3", "A4", "A5", "A6"]
    assert set(reference.generations[0].scores.values()) == {2 * 499.375, 2 * 182.96875}


A1_DEFECTS_G1 = {
    "A1": Fraction(7905, 16), "A2": Fraction(1215, 32), "A3": Fraction(1265, 16), "A4": Fraction(2755, 32),
    "A5": Fraction(1795, 16), "A6": Fraction(4125, 32), "B1": Fraction(10755, 32), "B2": Fraction(175, 2),
    "B3": Fraction(5765, 32), "B4": Fraction(2965, 16), "B5": Fraction(7195, 32), "B6": Fraction(2245, 8),
}  # fmt: skip
A1_DEFECTS_G2 = {
    "A1": Fraction(9615, 16), "A2": Fraction(1805, 16), "A3": Fraction(2105, 8), "A4": Fraction(2115, 8),
    "A5": Fraction(555, 2), "A6": Fraction(565, 2), "B1": Fraction(3025, 32), "B2": Fraction(3765, 32),
    "B3": Fraction(1025, 32), "B4": Fraction(2815, 32), "B5": Fraction(3195, 32), "B6": Fraction(3285, 32),
}  # fmt: skip


async def test_one_defector_separates_the_two_selection_rules() -> None:
    options = {"fraction": 0.5, "agents": {"1_1": {"policy": "defect"}}}
    paper = await run("constant", options)
    reference = await run("constant", options, selection="reference")
    gen = paper.generations[0]
    assert finals(paper, 1) == A1_DEFECTS_G1
    assert finals(paper, 2) == A1_DEFECTS_G2
    # the finals are dyadic (exact in floats); the averages divide by 12 and are compared to 1e-15
    expected = (Fraction(35725, 192), Fraction(37375, 192), Fraction(18275, 96))
    assert (gen.avg_game1, gen.avg_game2, gen.average) == pytest.approx([float(x) for x in expected], rel=1e-15)
    assert survivors(paper) == ["A1", "B1", "A6", "A5", "B6", "A4"]
    assert survivors(reference) == ["A1", "A6", "A5", "A4", "A3", "B2"]


async def test_mirror_defector_in_group_b() -> None:
    options = {"fraction": 0.5, "agents": {"1_7": {"policy": "defect"}}}
    paper = await run("constant", options)
    reference = await run("constant", options, selection="reference")
    assert finals(paper, 1) == {
        "A1": Fraction(3025, 32), "A2": Fraction(3285, 32), "A3": Fraction(3195, 32), "A4": Fraction(2815, 32),
        "A5": Fraction(1025, 32), "A6": Fraction(3765, 32), "B1": Fraction(9615, 16), "B2": Fraction(565, 2),
        "B3": Fraction(555, 2), "B4": Fraction(2115, 8), "B5": Fraction(2105, 8), "B6": Fraction(1805, 16),
    }  # fmt: skip
    assert finals(paper, 2) == {
        "A1": Fraction(10755, 32), "A2": Fraction(2245, 8), "A3": Fraction(7195, 32), "A4": Fraction(2965, 16),
        "A5": Fraction(5765, 32), "A6": Fraction(175, 2), "B1": Fraction(7905, 16), "B2": Fraction(4125, 32),
        "B3": Fraction(1795, 16), "B4": Fraction(2755, 32), "B5": Fraction(1265, 16), "B6": Fraction(1215, 32),
    }  # fmt: skip
    averages = (paper.generations[0].avg_game1, paper.generations[0].avg_game2)
    assert averages == pytest.approx([float(Fraction(37375, 192)), float(Fraction(35725, 192))], rel=1e-15)
    assert survivors(paper) == ["B1", "A1", "B2", "B3", "A2", "B4"]
    assert survivors(reference) == ["B1", "A1", "A2", "A3", "A4", "A5"]


async def test_all_reciprocators_behave_like_halves() -> None:
    result = await run("reciprocate")
    assert finals(result, 1) == group(Fraction(5855, 32), Fraction(3995, 8))
    assert result.final_average == Fraction(21835, 64)


async def test_a_defector_among_reciprocators_spreads_through_the_traces() -> None:
    result = await run("reciprocate", {"agents": {"1_1": {"policy": "defect"}}})
    paper_ranking = survivors(result)
    assert finals(result, 1) == {
        "A1": 10, "A2": 15, "A3": Fraction(65, 2), "A4": Fraction(265, 4), "A5": Fraction(465, 8),
        "A6": Fraction(285, 2), "B1": Fraction(125, 4), "B2": Fraction(65, 2), "B3": Fraction(655, 4),
        "B4": Fraction(395, 8), "B5": 115, "B6": Fraction(105, 8),
    }  # fmt: skip
    assert finals(result, 2) == {
        "A1": 20, "A2": Fraction(385, 4), "A3": Fraction(275, 2), "A4": Fraction(255, 4), "A5": Fraction(115, 4),
        "A6": Fraction(845, 8), "B1": Fraction(695, 8), "B2": Fraction(155, 4), "B3": Fraction(95, 4),
        "B4": Fraction(245, 2), "B5": 25, "B6": Fraction(685, 8),
    }  # fmt: skip
    assert result.final_average == Fraction(2085, 32)
    assert paper_ranking == ["A6", "B3", "B4", "A3", "B5", "A4"]
    reference = await run("reciprocate", {"agents": {"1_1": {"policy": "defect"}}}, selection="reference")
    assert survivors(reference) == ["A3", "B4", "A6", "A2", "B1", "B6"]


async def test_one_punisher_hits_each_b_once_per_game() -> None:
    options = {"amount": 1, "agents": {name: {"policy": "defect"} for name in A[1:] + B}}
    result = await run("punish", options, punishment="costly")
    expected = {"A1": 4.0} | {a: 10.0 for a in ("A2", "A3", "A4", "A5", "A6")} | {f"B{k}": 8.0 for k in range(1, 7)}
    assert finals(result, 1) == finals(result, 2) == expected
    assert result.final_average == 8.5
    # ties at 10 keep list order, then the first of the tied B's at 8
    assert survivors(result) == ["A2", "A3", "A4", "A5", "A6", "B1"]
    punished = [e for e in result.encounters if e.punished]
    assert len(punished) == 12 and {e.recipient for e in punished if e.game == 1} == set(B)


async def test_one_round_one_punishment_of_five() -> None:
    options = {"amount": 5, "rounds": [1], "agents": {name: {"policy": "defect"} for name in A[1:] + B}}
    paper = await run("punish", options, punishment="costly")
    reference = await run("punish", options, punishment="costly", selection="reference")
    assert finals(paper, 1) == {LABEL[n]: 10.0 for n in A + B} | {"A1": 5.0, "B1": 0}
    assert finals(paper, 2) == {LABEL[n]: 10.0 for n in A + B}
    gen = paper.generations[0]
    assert (gen.avg_game1, gen.avg_game2, gen.average) == (8.75, 10.0, 9.375)
    assert survivors(paper) == ["A2", "A3", "A4", "A5", "A6", "B2"]
    assert survivors(reference) == ["A1", "A2", "A3", "A4", "A5", "A6"]
    first = next(e for e in paper.encounters if e.punished)
    assert (first.round, first.donor, first.recipient, first.amount) == (1, "1_1", "1_7", 5.0)


async def test_a_fixed_answer_becomes_invalid_when_the_donor_is_short() -> None:
    # Four agents, multiplier 0.5, everyone answers 7. Game 1 rounds: A, B, B, A (reference schedule).
    # R1: A 10 -> 3, B 10 + 3.5 = 13.5. R2: B 13.5 -> 6.5, A 3 + 3.5 = 6.5. R3: B holds 6.5 < 7: invalid,
    # nothing moves. R4: A holds 6.5 < 7: invalid. Everyone ends on 6.5; game 2 mirrors it.
    model = FixedReply("Justification: none\nAnswer: 7")
    result = await simulate_with_model(model, DonorGameArgs(population=4, generations=1, multiplier=0.5))
    assert set(result.generations[0].game1.values()) == set(result.generations[0].game2.values()) == {6.5}
    invalid = [(e.game, e.round) for e in result.encounters if not e.valid]
    assert invalid == [(1, 3), (1, 3), (1, 4), (1, 4), (2, 3), (2, 3), (2, 4), (2, 4)]
    assert all(e.amount == 7.0 and e.donor_after == e.donor_before for e in result.encounters if not e.valid)


async def test_unparseable_replies_fall_back_to_zero_after_max_attempts() -> None:
    model = FixedReply("I refuse to use the format.")
    result = await simulate_with_model(model, DonorGameArgs(population=2, generations=1, max_attempts=3))
    assert result.final_average == 10
    assert all(e.failed and e.valid and e.attempts == 3 and e.amount == 0 for e in result.encounters)
    assert model.calls == 2 + 4 * 3  # two strategies, four encounters of three attempts each


class FixedReply(DonorAgentModel):
    """Answers every call with one text (a canned language model)."""

    def __init__(self, text: str) -> None:
        super().__init__("defect", {})
        self.text = text
        self.calls = 0

    async def generate(self, messages, config):  # type: ignore[no-untyped-def]
        from emergebench import ModelOutput

        self.calls += 1
        return ModelOutput(text=self.text)
