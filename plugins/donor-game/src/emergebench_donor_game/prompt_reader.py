"""Reads the game state back out of this plugin's prompts, so scripted agents answer the very
prompts a language model sees (and a test fails if the prompts stop saying what agents need)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from .prompts import COSTLY_FORMAT, DONOR_MARK

_NUMBER = r"([0-9][0-9.eE+-]*)"
_NAME = re.compile(r"Your name is (\S+?)\.(?:\s|$)")
_STRATEGY = re.compile(r"here is the strategy you decided to follow: (.*?)\nThis is generation", re.DOTALL)
_WHEN = re.compile(r"This is generation (\d+)\. It is now round (\d+)\.")
_PARTNER = re.compile(rf"you have been paired with (\S+?)\. They currently have {_NUMBER} units")
_OWN = re.compile(rf"{re.escape(DONOR_MARK)} You currently have {_NUMBER} units")
_TRACE = re.compile(r"of the valuable resource\.\n(.*?)\n" + re.escape(DONOR_MARK), re.DOTALL)
_SENTENCE = re.compile(r"In round (\d+), (\S+) (donated|punished) (.*?)\.(?= In round | \S+ did not have |$)")
_DONATED = re.compile(r"([0-9.]+)% of their resources to (\S+?)$")
_ADVICE = re.compile(r"Modify this advice to create your own strategy\. (\[.*?\]) As a donor", re.DOTALL)


class PromptFormatError(ValueError):
    """A prompt did not have the shape this plugin writes."""


@dataclass(frozen=True)
class TraceEntry:
    round: int
    actor: str
    kind: str  # "donated" or "punished"
    percent: float | None  # for donations


@dataclass(frozen=True)
class DonationRequest:
    name: str
    strategy: str
    generation: int
    round: int
    recipient: str
    recipient_resources: float
    resources: float
    trace: list[TraceEntry]
    costly: bool


def _need(pattern: re.Pattern[str], text: str, what: str) -> re.Match[str]:
    match = pattern.search(text)
    if match is None:
        raise PromptFormatError(f"cannot find the {what} in the donation prompt: {text[:200]!r}...")
    return match


def parse_trace(text: str) -> list[TraceEntry]:
    """Trace sentences, newest first, as shown to the donor."""
    entries = []
    for match in _SENTENCE.finditer(text.strip()):
        percent = None
        if match.group(3) == "donated":
            donated = _DONATED.search(match.group(4))
            percent = float(donated.group(1)) if donated else None
        entries.append(TraceEntry(int(match.group(1)), match.group(2), match.group(3), percent))
    return entries


def is_donation_prompt(text: str) -> bool:
    return DONOR_MARK in text


def read_donation_prompt(text: str) -> DonationRequest:
    when = _need(_WHEN, text, "generation and round")
    partner = _need(_PARTNER, text, "recipient")
    trace = _need(_TRACE, text, "trace")
    return DonationRequest(
        name=_need(_NAME, text, "donor name").group(1),
        strategy=_need(_STRATEGY, text, "strategy").group(1).strip(),
        generation=int(when.group(1)),
        round=int(when.group(2)),
        recipient=partner.group(1),
        recipient_resources=float(partner.group(2)),
        resources=float(_need(_OWN, text, "donor resources").group(1)),
        trace=parse_trace(trace.group(1)),
        costly=COSTLY_FORMAT in text,
    )


def read_strategy_prompt(text: str) -> tuple[str, list[str] | None]:
    """(agent name, survivors' strategies or None in generation 1)."""
    name = _need(_NAME, text, "agent name").group(1)
    advice = _ADVICE.search(text)
    if advice is None:
        return name, None
    items = ast.literal_eval(advice.group(1))
    return name, [item[0] if isinstance(item, list) else str(item) for item in items]
