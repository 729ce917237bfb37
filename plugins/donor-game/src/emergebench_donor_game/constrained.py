"""Constrained output: JSON schemas for the two reply formats, and reading replies that follow them.

With ``-T constrained=on`` (or ``auto`` on a provider that supports JSON schemas) the provider is
asked for ``{"justification": ..., "answer": x}`` (or ``"action"`` and ``"amount"`` in the costly
game) instead of the reference's free-text ``Justification: ... Answer: x``. The justification still
comes first, as the reference asks; its length is capped so a small token budget reaches the answer.
Off by default: the paper's models answered in free text.
"""

from __future__ import annotations

import json
import math
from typing import Any

from .engine import Action
from .parsing import STRATEGY_MARK, ParsedReply, parse_strategy_reply

JUSTIFICATION_CHARS = 160
STRATEGY_CHARS = 200


def _format(name: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {
            "name": name,
            "strict": True,
            "schema": {
                "type": "object",
                "properties": properties,
                "required": list(properties),
                "additionalProperties": False,
            },
        },
    }


def donation_schema(punishment: bool) -> dict[str, Any]:
    reason = {"type": "string", "maxLength": JUSTIFICATION_CHARS}
    if punishment:
        return _format(
            "donor_game_action",
            {
                "justification": reason,
                "action": {"type": "string", "enum": ["Donate", "Punish"]},
                "amount": {"type": "number", "minimum": 0},
            },
        )
    return _format("donor_game_donation", {"justification": reason, "answer": {"type": "number", "minimum": 0}})


def strategy_schema() -> dict[str, Any]:
    return _format(
        "donor_game_strategy",
        {
            "reasoning": {"type": "string", "maxLength": JUSTIFICATION_CHARS},
            "strategy": {"type": "string", "maxLength": STRATEGY_CHARS},
        },
    )


def _object(reply: str) -> dict[str, Any] | None:
    start, end = reply.find("{"), reply.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        value = json.loads(reply[start : end + 1])
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _amount(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        return None
    return float(value)


def parse_json_donation(reply: str, *, punishment: bool) -> ParsedReply | None:
    """The action a constrained reply states; None (ask again) when it is not that JSON."""
    data = _object(reply)
    if data is None:
        return None
    justification = str(data.get("justification", "")).strip()
    if punishment:
        kind = str(data.get("action", "")).lower()
        amount = _amount(data.get("amount"))
        if kind not in ("donate", "punish") or amount is None:
            return None
        return ParsedReply(Action(kind, amount), justification)
    amount = _amount(data.get("answer"))
    return None if amount is None else ParsedReply(Action("donate", amount), justification)


def parse_json_strategy(reply: str) -> tuple[str, str] | None:
    """(strategy, reasoning) from a constrained strategy reply, with the reference's opening phrase."""
    data = _object(reply)
    if data is None or not isinstance(data.get("strategy"), str) or not data["strategy"].strip():
        return None
    text = data["strategy"].strip()
    strategy, _ = parse_strategy_reply(text if STRATEGY_MARK in text else f"{STRATEGY_MARK} {text}")
    return strategy, str(data.get("reasoning", "")).strip()
