"""One game of the Donor Game: transfers, punishments and reputation traces (spec section 4).

The engine knows nothing about models: a ``Decide`` coroutine turns what the donor can see into an
action, so scripted policies and language models play through the same code.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

from .schedule import Round
from .settings import GameRules, Number

ActionKind = Literal["donate", "punish"]


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    amount: float


@dataclass(frozen=True)
class Decision:
    """A donor's choice. ``failed`` means no reply parsed within the attempt limit (the action is then
    a donation of 0, as in the reference code)."""

    action: Action
    justification: str = ""
    attempts: int = 1
    failed: bool = False


@dataclass(frozen=True)
class EncounterView:
    """Everything a donor is shown in one encounter."""

    generation: int
    game: int
    round: int
    donor: str
    recipient: str
    donor_resources: Number
    recipient_resources: Number
    trace: str


Decide = Callable[[EncounterView], Awaitable[Decision]]


@dataclass
class Player:
    """An agent's state inside one game: resources and the trace chain others will see."""

    name: str
    resources: Number
    chain: list[str] = field(default_factory=list)

    @classmethod
    def fresh(cls, name: str, endowment: Number) -> Player:
        return cls(name, endowment, [f"{name} did not have any previous interactions."])


@dataclass(frozen=True)
class Encounter:
    """The record of one encounter, journaled so the paper's plots can be redrawn."""

    generation: int
    game: int
    round: int
    donor: str
    recipient: str
    donor_before: Number
    donor_after: Number
    recipient_before: Number
    recipient_after: Number
    action: ActionKind
    amount: float
    fraction: float
    valid: bool
    punished: bool
    failed: bool
    attempts: int
    justification: str

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def format_units(value: Number) -> str:
    """Resources as the reference prints them: Python's own repr (``10``, ``12.5``, ``25.0``)."""
    return repr(value)


def trace_text(chain: list[str], depth: int) -> str:
    """The last ``depth`` entries of a chain, newest first, joined by spaces."""
    return " ".join(reversed(chain[-depth:]))


def apply_encounter(
    donor: Player, recipient: Player, decision: Decision, *, round_no: int, rules: GameRules
) -> tuple[bool, float, str | None]:
    """Apply one decision to both players; returns (valid, donated fraction, trace sentence).

    An amount outside [0, donor resources] is an invalid action: nothing moves (for punishment too,
    the bound the spec recommends). The donor's chain becomes the recipient's chain plus the action
    sentence; after an invalid action from round 2 on it is the recipient's chain alone, as in the
    reference code.
    """
    action = decision.action
    amount = action.amount
    valid = 0 <= amount <= donor.resources and (action.kind == "donate" or rules.punishment)
    sentence: str | None = None
    fraction = 0.0
    if valid and action.kind == "donate":
        fraction = amount / donor.resources if donor.resources else 1.0
        donor.resources -= amount
        recipient.resources += rules.multiplier * amount
        sentence = (
            f"In round {round_no}, {donor.name} donated {fraction * 100:.2f}% of their resources to {recipient.name}."
        )
    elif valid:
        loss = rules.punishment_loss * amount
        donor.resources -= amount
        recipient.resources = max(0, recipient.resources - loss)
        sentence = (
            f"In round {round_no}, {donor.name} punished {recipient.name} by spending {amount} units "
            f"to take away {loss} units from their resources."
        )
    if sentence is not None:
        donor.chain = [*recipient.chain, sentence]
    elif round_no > 1:
        donor.chain = list(recipient.chain)
    return valid, fraction, sentence


@dataclass
class GameResult:
    final: dict[str, Number]
    encounters: list[Encounter]

    @property
    def average(self) -> float:
        return sum(self.final.values()) / len(self.final)


async def play_game(
    names: list[str], rounds: list[Round], rules: GameRules, decide: Decide, *, generation: int, game: int
) -> GameResult:
    """Play every round from fresh resources and traces; a round's decisions are made concurrently."""
    players = [Player.fresh(name, rules.endowment) for name in names]
    encounters: list[Encounter] = []
    for round_no, pairs in enumerate(rounds, start=1):
        views = [
            EncounterView(
                generation=generation,
                game=game,
                round=round_no,
                donor=players[d].name,
                recipient=players[r].name,
                donor_resources=players[d].resources,
                recipient_resources=players[r].resources,
                trace=trace_text(players[r].chain, rules.trace_depth),
            )
            for d, r in pairs
        ]
        decisions = await asyncio.gather(*(decide(view) for view in views))
        for (d, r), decision in zip(pairs, decisions, strict=True):
            donor, recipient = players[d], players[r]
            donor_before, recipient_before = donor.resources, recipient.resources
            valid, fraction, _ = apply_encounter(donor, recipient, decision, round_no=round_no, rules=rules)
            encounters.append(
                Encounter(
                    generation=generation,
                    game=game,
                    round=round_no,
                    donor=donor.name,
                    recipient=recipient.name,
                    donor_before=donor_before,
                    donor_after=donor.resources,
                    recipient_before=recipient_before,
                    recipient_after=recipient.resources,
                    action=decision.action.kind,
                    amount=decision.action.amount,
                    fraction=fraction,
                    valid=valid,
                    punished=valid and decision.action.kind == "punish",
                    failed=decision.failed,
                    attempts=decision.attempts,
                    justification=decision.justification,
                )
            )
    return GameResult({p.name: p.resources for p in players}, encounters)
