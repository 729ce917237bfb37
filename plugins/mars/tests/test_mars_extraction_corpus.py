"""Item 14.7: the robust extractor on a hand-written corpus of replies (tests/data/extraction_corpus.txt).

A reply that commits to neither answer (or to both) must be an extraction failure, never a label:
the targets are zero swaps (yes read as no or the reverse) and zero guesses (a label for a reply
that commits to nothing). The corpus also checks that the reference parser does swap and guess on
it, so it is able to see the failures it is meant to catch.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from emergebench_mars.extract import extract_reference, extract_robust
from emergebench_mars.prompts import Item, echo_texts

CORPUS = Path(__file__).parent / "data" / "extraction_corpus.txt"
HELDOUT = Path(__file__).parent / "data" / "extraction_heldout.txt"
LABELS = {"yes": 1, "no": 0, "fail": None}
# the failure classes the issue names, and the corpus's names for them
ISSUE_CLASSES = {"echo", "no-idiom", "both", "ability", "json", "colloquial"}


@dataclass(frozen=True)
class Case:
    line: int
    expected: int | None
    kind: str
    reply: str
    echoes: tuple[str, ...]


def load_corpus(path: Path = CORPUS) -> list[Case]:
    cases, item = [], Item("")
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if raw.startswith("#") or not raw.strip():
            continue
        if raw.startswith("@item"):
            rest = raw[len("@item") :].strip()
            event, _, inference = rest.partition("|")
            item = Item("") if rest == "-" else Item(event.strip(), inference.strip() or None)
            continue
        expected, kind, reply = raw.split("\t", 2)
        cases.append(Case(number, LABELS[expected], kind, reply.replace("\\n", "\n"), tuple(echo_texts(item))))
    return cases


CASES = load_corpus()


def _outcome(expected: int | None, got: int | None) -> str:
    if got == expected:
        return "ok"
    if expected is None:
        return "guess"
    return "miss" if got is None else "swap"


def test_corpus_is_large_and_covers_the_issue_classes() -> None:
    kinds = Counter(c.kind for c in CASES)
    assert len(CASES) >= 300
    assert ISSUE_CLASSES <= set(kinds), ISSUE_CLASSES - set(kinds)
    assert all(kinds[k] >= 15 for k in ISSUE_CLASSES), kinds
    committed = Counter(c.expected for c in CASES)
    assert committed[1] >= 100 and committed[0] >= 100 and committed[None] >= 100, committed


def test_no_swaps_and_no_guesses() -> None:
    outcomes = {c.line: _outcome(c.expected, extract_robust(c.reply, c.echoes).label) for c in CASES}
    wrong = {line: o for line, o in outcomes.items() if o in ("swap", "guess")}
    assert not wrong, {line: (o, next(c.reply for c in CASES if c.line == line)) for line, o in wrong.items()}


def test_committed_replies_are_read() -> None:
    # every reply that does commit is read (the corpus was written alongside the extractor, so this
    # guards against regressions; misses are failures, never wrong labels)
    misses = [c.reply for c in CASES if _outcome(c.expected, extract_robust(c.reply, c.echoes).label) == "miss"]
    assert misses == []


@pytest.mark.parametrize("kind", sorted(ISSUE_CLASSES))
def test_each_issue_class_alone(kind: str) -> None:
    for case in (c for c in CASES if c.kind == kind):
        result = extract_robust(case.reply, case.echoes)
        assert result.label == case.expected, (case.line, case.reply, result)
        assert result.failed == (case.expected is None)


def test_the_reference_parser_swaps_and_guesses_on_the_corpus() -> None:
    outcomes = Counter(_outcome(c.expected, extract_reference(c.reply).label) for c in CASES)
    assert outcomes["swap"] > 0 and outcomes["guess"] > 0, outcomes
    # the known cases: an idiom read as a verdict, a reply that says both given a label
    assert extract_reference("No doubt, this is plausible.").label == 0
    assert extract_reference("yes and no").label == 0


def test_held_out_replies_have_no_swaps_or_guesses() -> None:
    cases = load_corpus(HELDOUT)
    outcomes = Counter(_outcome(c.expected, extract_robust(c.reply, c.echoes).label) for c in cases)
    assert len(cases) >= 60
    assert outcomes["swap"] == 0 and outcomes["guess"] == 0, outcomes
    assert outcomes["miss"] <= 5, outcomes  # the count when the file was written (see its header)
