"""Constrained output: JSON schemas for the two reply formats, and reading replies that follow them.

With ``-T constrained=on`` (or ``auto`` on a provider that supports JSON schemas) the provider is
asked for ``{"justification": ..., "answer": x}`` (or ``"action"`` and ``"amount"`` in the costly
game) instead of the reference's free-text ``Justification: ... Answer: x``. The justification still
comes first, as the reference asks; its length is capped so a small token budget reaches the answer.
Off by default: the paper's models answered in free text.
"""

from __future__ import annotations

import math
from typing import Any

from emergebench.structured import json_object, json_schema_format

from .engine import Action, ActionKind
from .parsing import STRATEGY_MARK, ParsedReply, parse_strategy_reply

# llama.cpp turns maxLength into one grammar rule per character, which slows sampling on small CPUs:
# the cap is kept short, and strategies (which never fail to parse) get none
JUSTIFICATION_CHARS = 80


def donation_schema(punishment: bool, resources: float) -> dict[str, Any]:
    """Whole units from 0 to the donor's resources: llama.cpp enforces integer bounds (not ``number`` ones)."""
    reason = {"type": "string", "maxLength": JUSTIFICATION_CHARS}
    amount = {"type": "integer", "minimum": 0, "maximum": max(0, math.floor(resources))}
    if punishment:
        return json_schema_format(
            "donor_game_action",
            {"justification": reason, "action": {"type": "string", "enum": ["Donate", "Punish"]}, "amount": amount},
        )
    return json_schema_format("donor_game_donation", {"justification": reason, "answer": amount})


def strategy_schema() -> dict[str, Any]:
    return json_schema_format("donor_game_strategy", {"strategy": {"type": "string"}})


def _amount(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        return None
    return float(value)


def parse_json_donation(reply: str, *, punishment: bool) -> ParsedReply | None:
    """The action a constrained reply states; None (ask again) when it is not that JSON."""
    data = json_object(reply)
    if data is None:
        return None
    justification = str(data.get("justification", "")).strip()
    if punishment:
        stated = str(data.get("action", "")).lower()
        amount = _amount(data.get("amount"))
        if stated not in ("donate", "punish") or amount is None:
            return None
        kind: ActionKind = "punish" if stated == "punish" else "donate"
        return ParsedReply(Action(kind, amount), justification)
    amount = _amount(data.get("answer"))
    return None if amount is None else ParsedReply(Action("donate", amount), justification)


def parse_json_strategy(reply: str) -> tuple[str, str] | None:
    """(strategy, reasoning) from a constrained strategy reply, with the reference's opening phrase."""
    data = json_object(reply)
    if data is None or not isinstance(data.get("strategy"), str) or not data["strategy"].strip():
        return None
    text = data["strategy"].strip()
    strategy, _ = parse_strategy_reply(text if STRATEGY_MARK in text else f"{STRATEGY_MARK} {text}")
    return strategy, str(data.get("reasoning", "")).strip()
