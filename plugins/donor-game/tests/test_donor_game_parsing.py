"""Reply parsing of spec section 6.4 and the strategy split of 6.2."""

from __future__ import annotations

import pytest
from emergebench_donor_game.engine import Action
from emergebench_donor_game.parsing import parse_donation_reply, parse_strategy_reply


@pytest.mark.parametrize(
    ("reply", "amount"),
    [
        ("Justification:\nI give half.\n\nAnswer: 5 units", 5.0),
        ("Answer: 5.5", 5.5),
        ("Answer:   7", 7.0),
        ("Answer: 0", 0.0),
        ("Answer: 3. That is all", 3.0),
        ("Answer: 12 Answer: 4", 12.0),
    ],
)
def test_plain_answers(reply: str, amount: float) -> None:
    parsed = parse_donation_reply(reply, punishment=False)
    assert parsed is not None and parsed.action == Action("donate", amount)


@pytest.mark.parametrize(
    "reply",
    ["Answer: **5**", "Answer: $5", "Answer: -1", "I give 5", "answer: 5", "ANSWER: 5", "Answer: five", ""],
)
def test_malformed_or_negative_answers_are_retried(reply: str) -> None:
    assert parse_donation_reply(reply, punishment=False) is None


def test_justification_is_kept_without_its_label() -> None:
    parsed = parse_donation_reply("Justification:\nThey gave 50%.\nAnswer: 4", punishment=False)
    assert parsed is not None and parsed.justification == "They gave 50%."


@pytest.mark.parametrize(
    ("answer", "action"),
    [
        ("Punish, 2,5", Action("punish", 2.5)),
        ("Donate, 3", Action("donate", 3.0)),
        ("I will donate 1.5 units", Action("donate", 1.5)),
        ("PUNISH, 4", Action("punish", 4.0)),
        ("punish 2 units, not donate 9", Action("punish", 2.0)),
        ("Donate - 3", Action("donate", 3.0)),
    ],
)
def test_costly_answers(answer: str, action: Action) -> None:
    parsed = parse_donation_reply(f"Justification: x\nAnswer: {answer}", punishment=True)
    assert parsed is not None and parsed.action == action


@pytest.mark.parametrize("answer", ["Punish, -3", "Donate, -0.5", "5", "give 5", "Punish"])
def test_costly_answers_without_keyword_number_or_with_a_sign_are_retried(answer: str) -> None:
    assert parse_donation_reply(f"Answer: {answer}", punishment=True) is None


def test_strategy_split_inserts_the_missing_space() -> None:
    strategy, why = parse_strategy_reply("Think first.\nMy strategy will be to give half.")
    assert strategy == "My strategy will be to give half."
    assert why == "Think first."
    assert parse_strategy_reply("My strategy will be: give half")[0] == "My strategy will be: give half"
    assert parse_strategy_reply("  I just give  ") == ("I just give", "")
