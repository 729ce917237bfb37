"""Reading model replies (spec sections 6.2 and 6.4).

A reply that cannot be read returns ``None`` so the caller can ask again; the rules mirror the
reference code, except that a minus sign is never dropped from a punishment-mode amount.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .engine import Action, ActionKind

ANSWER_MARK = "Answer:"
STRATEGY_MARK = "My strategy will be"
_LEADING_NUMBER = re.compile(r"\s*(\d+(?:\.\d+)?)")
_KEYWORD_AMOUNT = re.compile(r"(donate|punish).*?(-?)(\d+(?:[.,]\d+)?)", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class ParsedReply:
    action: Action
    justification: str


def split_answer(reply: str) -> tuple[str, str] | None:
    """(justification, answer) split at the first case-sensitive ``Answer:``; None when absent."""
    head, mark, tail = reply.partition(ANSWER_MARK)
    if not mark:
        return None
    justification = head.replace("Justification:", "", 1).strip()
    return justification, tail


def parse_amount(answer: str) -> float | None:
    """No-punishment answers must start with a plain number: ``5 units`` is 5; ``**5**``, ``$5``, ``-1`` fail."""
    match = _LEADING_NUMBER.match(answer)
    return float(match.group(1)) if match else None


def parse_costly(answer: str) -> Action | None:
    """``Donate, x`` or ``Punish, x`` anywhere in the answer, case-insensitive; ``2,5`` means 2.5.

    A negative amount is refused (the reference would silently read ``Punish, -3`` as 3).
    """
    match = _KEYWORD_AMOUNT.search(answer)
    if match is None or match.group(2) == "-":
        return None
    kind: ActionKind = "punish" if match.group(1).lower() == "punish" else "donate"
    return Action(kind, float(match.group(3).replace(",", ".")))


def parse_donation_reply(reply: str, *, punishment: bool) -> ParsedReply | None:
    """The action a donation reply states, or None when it must be asked again."""
    split = split_answer(reply)
    if split is None:
        return None
    justification, answer = split
    if punishment:
        action = parse_costly(answer)
    else:
        amount = parse_amount(answer)
        action = None if amount is None else Action("donate", amount)
    return None if action is None else ParsedReply(action, justification)


def parse_strategy_reply(reply: str) -> tuple[str, str]:
    """(strategy, justification): the strategy starts at the first ``My strategy will be``.

    The reference glues the phrase to the rest with no space ("will beto"); a space is inserted when
    the rest starts with a letter or digit. Without the phrase the whole reply is the strategy.
    """
    head, mark, tail = reply.partition(STRATEGY_MARK)
    if not mark:
        return reply.strip(), ""
    rest = tail.strip()
    joiner = " " if rest[:1].isalnum() else ""
    return f"{STRATEGY_MARK}{joiner}{rest}", head.strip()
