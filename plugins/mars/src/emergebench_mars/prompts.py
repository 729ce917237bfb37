"""Prompts in the two styles of the reference's zero-shot code (spec section 4).

``chat`` follows ``evaluation/zero-shot/GPT_zero_shot.py`` (instructions, yes and no rules, the
assertion, "Answer yes or no only."); ``open`` follows ``OpenLLM_zero-shot.py`` (one instruction
line, then the assertion ending "Your answer is", with no comma after the antecedent). The
reference released prompts for the Transition task only; Inference reuses them with its own
event column, and Event's wording is ours, built from the same rules (see README, deviations).

By default lines are sent without the reference's incidental indentation (its prompts are
indented triple-quoted literals); ``verbatim=True`` sends that whitespace as the reference did.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .schema import LABEL_WORDS

INDENT = " " * 8

CHAT_INTRO = {
    "assertion": "Given an assertion with a if-then relationship, determine if it's plausible or not.",
    "event": "Given an event, determine if it's plausible or not.",
}
CHAT_YES = "If it's plausible and can possibly occur in reality world, answer yes."
CHAT_NO = {
    "assertion": "If not and it's a metaphysical inference, meaning that it's not commonly seen in the real world, "
    "answer no.",
    "event": "If not and it's a metaphysical event, meaning that it's not commonly seen in the real world, answer no.",
}
CHAT_ASK = "Answer yes or no only."
OPEN_INTRO = {
    "assertion": "Given an assertion that describes a if-then inference, determine whether the inference is "
    "plausible or not.",
    "event": "Given an event, determine whether the event is plausible or not.",
}
OPEN_ASK = "Answer Yes or No only. Your answer is"


@dataclass(frozen=True)
class Item:
    """What one prompt line shows: an event, and for assertion tasks the inference."""

    event: str
    inference: str | None = None

    @property
    def kind(self) -> str:
        return "event" if self.inference is None else "assertion"


def _statement(item: Item, style: str) -> str:
    if item.inference is None:
        return f"Event: {item.event}"
    comma = "," if style == "chat" else ""
    return f"Assertion: If {item.event}{comma} then {item.inference}"


def _shot_answer(label: int, style: str, shot_labels: str) -> str:
    if shot_labels == "integer":  # the reference shows the raw 0/1 label
        return str(label)
    word = LABEL_WORDS[label]
    return word.capitalize() if style == "open" else word


def echo_texts(item: Item) -> list[str]:
    """Every text of the prompt a reply may copy; the extractor removes them before reading the answer."""
    fixed = [*CHAT_INTRO.values(), CHAT_YES, *CHAT_NO.values(), CHAT_ASK, *OPEN_INTRO.values(), OPEN_ASK]
    return [*fixed, item.event, *([item.inference] if item.inference else [])]


def render(
    item: Item,
    *,
    style: str = "chat",
    shots: Sequence[tuple[Item, int]] = (),
    shot_labels: str = "yes-no",
    verbatim: bool = False,
) -> str:
    """The user message for one item; ``shots`` are (item, label) demonstrations shown first."""
    kind = item.kind
    examples = [f"{_statement(s, style)}. Answer: {_shot_answer(label, style, shot_labels)}" for s, label in shots]
    if style == "chat":
        lines = [CHAT_INTRO[kind], CHAT_YES, CHAT_NO[kind]]
        if examples:
            lines += [CHAT_ASK, "Here are some examples:", *examples]
        lines += [_statement(item, style), CHAT_ASK]
        if verbatim:
            return "\n" + "".join(f"{INDENT}{line}\n" for line in lines) + INDENT
        return "\n".join(lines)
    if style == "open":
        lines = [OPEN_INTRO[kind]]
        if examples:
            lines += ["Here are some examples:", *examples]
        lines.append(f"{_statement(item, style)}. {OPEN_ASK}")
        if verbatim:
            return lines[0] + "".join(f"\n{INDENT}{line}" for line in lines[1:])
        return "\n".join(lines)
    raise ValueError(f"unknown prompt style {style!r}: use 'chat' or 'open'")
