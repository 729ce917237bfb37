"""Turn a model's reply into a label (1 plausible / 0 metaphysical) or an extraction failure.

The reference splits the lower-cased reply on whitespace and looks for the bare tokens "no", "yes",
"wrong", "right", "incorrect", "correct" in that order, so "Yes." or "**No**" never match and fall
to a coin flip (spec section 4c, 7.4). ``extract_robust`` reads JSON, explicit "the answer is ..."
phrases, and the first or last word after removing case, punctuation and markdown; a reply that
gives both answers without a clear final one is a failure, not a guess. ``extract_reference``
reproduces the reference rules exactly (minus its random fallback, which the task applies).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

POSITIVE = {"yes", "true", "correct", "right", "plausible", "possible", "realistic", "reality", "y"}
NEGATIVE = {"no", "false", "incorrect", "wrong", "implausible", "impossible", "unrealistic", "metaphysical", "n"}
# words that only count as an answer on their own or in an explicit answer phrase, never mid-sentence
WEAK = {"y", "n", "possible", "impossible", "reality", "right"}
NEGATORS = {"not", "never", "isnt", "isn't", "no"}
REFERENCE_ORDER = (("no", 0), ("yes", 1), ("wrong", 0), ("right", 1), ("incorrect", 0), ("correct", 1))

_ANSWER_WORD = r"(yes|no|true|false|correct|incorrect|right|wrong|plausible|implausible|not\s+plausible)"
_EXPLICIT = re.compile(
    r"(?:final\s+answer|the\s+answer|my\s+answer|your\s+answer|answer|verdict|label|prediction)"
    r"\s*(?:is|would\s+be|will\s+be|:|=|-|->)\s*(?:that\s+)?(?:it\s+is\s+)?[\"'`*_\[(]*\s*" + _ANSWER_WORD + r"\b"
)
_ECHO = re.compile(r"\b(yes\s*(?:or|/)\s*no|no\s*(?:or|/)\s*yes)\b")
_MARKDOWN = re.compile(r"[*_`#>~|]+")
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)
# a JSON answer cut off by max_tokens before its closing brace: {"answer": "yes
_JSON_FIELD = re.compile(r'"(?:answer|label|prediction)"\s*:\s*"?\s*(yes|no|true|false)\b', re.IGNORECASE)


@dataclass(frozen=True)
class Extraction:
    label: int | None
    method: str  # json | explicit | first | last | only | reference-<token> | failed-<why>

    @property
    def failed(self) -> bool:
        return self.label is None


def _word_label(word: str) -> int | None:
    word = re.sub(r"\s+", " ", word.strip().lower())
    if word in ("not plausible", "implausible") or word in NEGATIVE:
        return 0
    if word in POSITIVE:
        return 1
    return None


def _from_json(text: str) -> int | None:
    match = re.search(r"\{.*\}", text, re.DOTALL)
    if not match:
        return None
    try:
        value = json.loads(match.group(0))
    except json.JSONDecodeError:
        return None
    if not isinstance(value, dict):
        return None
    for key in ("answer", "label", "plausible", "prediction"):
        if key in value:
            answer = value[key]
            if isinstance(answer, bool):
                return int(answer)
            if isinstance(answer, int | float) and answer in (0, 1):
                return int(answer)
            if isinstance(answer, str):
                return _word_label(answer.strip(" .!\"'"))
    return None


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^a-z']+", text) if w.strip("'")]


def extract_robust(reply: str | None) -> Extraction:
    """The corrected extractor: deterministic, and honest about replies it cannot read."""
    if reply is None or not reply.strip():
        return Extraction(None, "failed-empty")
    text = _THINK.sub(" ", reply).strip()
    label = _from_json(text)
    if label is not None:
        return Extraction(label, "json")
    partial = _JSON_FIELD.search(text)
    if partial:
        return Extraction(_word_label(partial.group(1)), "json-partial")
    lowered = _MARKDOWN.sub(" ", text.lower())
    lowered = _ECHO.sub(" ", lowered)  # "answer yes or no" repeats the instruction, it answers nothing
    explicit = [_word_label(m.group(1)) for m in _EXPLICIT.finditer(lowered)]
    explicit = [x for x in explicit if x is not None]
    if explicit:
        return Extraction(explicit[-1], "explicit")
    words = [w.strip("'") for w in _words(lowered)]
    if not words:
        return Extraction(None, "failed-no-words")
    first = _word_label(words[0])
    if first is not None and not (len(words) > 1 and words[0] == "no" and words[1] in ("doubt", "way")):
        return Extraction(first, "first")
    last = _word_label(words[-1])
    if last is not None and words[-1] not in WEAK:
        negated = len(words) > 1 and words[-2] in NEGATORS and words[-1] not in ("no",)
        return Extraction(1 - last if negated else last, "last")
    found = set()
    for index, word in enumerate(words):
        if word in WEAK:
            continue
        value = _word_label(word)
        if value is not None:
            negated = index > 0 and words[index - 1] in NEGATORS and word != "no"
            found.add(1 - value if negated else value)
    if len(found) == 1:
        return Extraction(found.pop(), "only")
    return Extraction(None, "failed-ambiguous" if found else "failed-no-answer")


def extract_reference(reply: str | None) -> Extraction:
    """The reference's rules: whitespace tokens, first of no/yes/wrong/right/incorrect/correct."""
    tokens = (reply or "").lower().split()
    for token, label in REFERENCE_ORDER:
        if token in tokens:
            return Extraction(label, f"reference-{token}")
    return Extraction(None, "failed-reference")


def extract(reply: str | None, mode: str = "robust") -> Extraction:
    if mode == "robust":
        return extract_robust(reply)
    if mode == "reference":
        return extract_reference(reply)
    raise ValueError(f"unknown extraction mode {mode!r}: use 'robust' or 'reference'")
