"""Transfers, invalid actions and trace strings of spec section 4, played with Python policies."""

from __future__ import annotations

from collections.abc import Callable

from emergebench_donor_game.engine import (
    Action,
    Decision,
    EncounterView,
    GameResult,
    Player,
    apply_encounter,
    play_game,
)
from emergebench_donor_game.schedule import game_schedule
from emergebench_donor_game.settings import GameRules

NAMES = [f"A{j}" for j in range(1, 7)] + [f"B{j}" for j in range(1, 7)]


def donating(fraction: float, seen: list[EncounterView]) -> Callable:
    async def decide(view: EncounterView) -> Decision:
        seen.append(view)
        return Decision(Action("donate", fraction * view.donor_resources))

    return decide


async def play(rules: GameRules, decide: Callable) -> GameResult:
    return await play_game(NAMES, game_schedule(12, rules.schedule), rules, decide, generation=1, game=1)


def view(seen: list[EncounterView], round_no: int, donor: str) -> EncounterView:
    return next(v for v in seen if v.round == round_no and v.donor == donor)


async def test_traces_grow_to_depth_three_newest_first() -> None:
    seen: list[EncounterView] = []
    await play(GameRules(), donating(0.5, seen))
    assert view(seen, 1, "A1").trace == "B1 did not have any previous interactions."
    assert view(seen, 2, "B1").trace == (
        "In round 1, A2 donated 50.00% of their resources to B2. B2 did not have any previous interactions."
    )
    assert view(seen, 4, "B1").trace == (
        "In round 3, A4 donated 50.00% of their resources to B2. "
        "In round 2, B2 donated 50.00% of their resources to A3. "
        "In round 1, A3 donated 50.00% of their resources to B3."
    )
    # round 7: A1 last gave in round 5, so "the preceding round" is its latest donor turn
    assert view(seen, 7, "B1").trace.startswith("In round 5, A1 donated 50.00% of their resources to B3.")
    assert all(v.trace.count("In round") == 3 for v in seen if v.round >= 4)


async def test_trace_depth_option() -> None:
    seen: list[EncounterView] = []
    await play(GameRules(trace_depth=1), donating(0.5, seen))
    assert view(seen, 4, "B1").trace == "In round 3, A4 donated 50.00% of their resources to B2."


async def test_resources_are_shown_as_python_numbers() -> None:
    seen: list[EncounterView] = []
    await play(GameRules(), donating(0.5, seen))
    assert repr(view(seen, 1, "A1").donor_resources) == "10"
    assert repr(view(seen, 2, "B1").donor_resources) == "20.0"
    assert repr(view(seen, 2, "B1").recipient_resources) == "5.0"


def rules_costly() -> GameRules:
    return GameRules(punishment=True)


def test_over_budget_is_a_no_op_and_the_trace_quirk_applies() -> None:
    rules = GameRules()
    donor, recipient = Player.fresh("A1", 10), Player.fresh("B1", 10)
    recipient.chain.append("In round 1, B1 donated 50.00% of their resources to A9.")
    valid, fraction, sentence = apply_encounter(
        donor, recipient, Decision(Action("donate", 11.0)), round_no=2, rules=rules
    )
    assert (valid, fraction, sentence) == (False, 0.0, None)
    assert (donor.resources, recipient.resources) == (10, 10)
    assert donor.chain == recipient.chain and donor.chain is not recipient.chain
    # in round 1 an invalid answer leaves the donor's own first sentence
    donor = Player.fresh("A1", 10)
    apply_encounter(donor, Player.fresh("B1", 10), Decision(Action("donate", 99.0)), round_no=1, rules=rules)
    assert donor.chain == ["A1 did not have any previous interactions."]


def test_zero_resources_log_one_hundred_percent() -> None:
    donor, recipient = Player("B1", 0.0, ["x"]), Player("A1", 960.0, ["y"])
    valid, fraction, sentence = apply_encounter(
        donor, recipient, Decision(Action("donate", 0.0)), round_no=7, rules=GameRules()
    )
    assert valid and fraction == 1.0
    assert sentence == "In round 7, B1 donated 100.00% of their resources to A1."


def test_punishment_is_bounded_and_floors_the_recipient_at_zero() -> None:
    rules = rules_costly()
    donor, recipient = Player.fresh("A1", 10), Player.fresh("B1", 3)
    valid, _, sentence = apply_encounter(donor, recipient, Decision(Action("punish", 2.0)), round_no=1, rules=rules)
    assert valid and (donor.resources, recipient.resources) == (8.0, 0)
    assert sentence == "In round 1, A1 punished B1 by spending 2.0 units to take away 4.0 units from their resources."
    over = apply_encounter(donor, recipient, Decision(Action("punish", 9.0)), round_no=2, rules=rules)
    assert over[0] is False and donor.resources == 8.0
    # without the punishment option a punish action is never applied
    plain = Player.fresh("A2", 10)
    assert (
        apply_encounter(plain, Player.fresh("B2", 10), Decision(Action("punish", 1.0)), round_no=1, rules=GameRules())[
            0
        ]
        is False
    )


async def test_concurrent_round_decisions_never_share_an_agent() -> None:
    seen: list[EncounterView] = []
    result = await play(GameRules(), donating(0.5, seen))
    for r in range(1, 13):
        names = [v.donor for v in seen if v.round == r] + [v.recipient for v in seen if v.round == r]
        assert sorted(names) == sorted(NAMES)
    assert len(result.encounters) == 72
