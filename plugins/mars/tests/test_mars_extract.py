"""Answer extraction on realistic replies: the robust extractor and the reference's parser."""

from __future__ import annotations

import pytest
from emergebench_mars.extract import extract, extract_reference, extract_robust

YES, NO, FAIL = 1, 0, None

# (reply, expected label from the robust extractor)
REPLIES: list[tuple[str, int | None]] = [
    ("yes", YES),
    ("no", NO),
    ("Yes.", YES),
    ("No.", NO),
    ("No,", NO),
    ("YES", YES),
    ("  no  \n", NO),
    ("**Yes**", YES),
    ("**No.**", NO),
    ("`yes`", YES),
    ("# No", NO),
    ("> Yes, this can happen in the real world.", YES),
    ("Yes, it is plausible.", YES),
    ("No, a 10 meter butterfly does not exist.", NO),
    ("No - this is metaphysical.", NO),
    ("The answer is no.", NO),
    ("The answer is: Yes", YES),
    ("Answer: no", NO),
    ("Final answer: **yes**", YES),
    ("My answer is No", NO),
    ("I think the answer would be yes.", YES),
    ("Considering the size of the object, the final answer is no", NO),
    ("This can occur in reality, so yes.", YES),
    ("Such an event is not commonly seen in the real world. No.", NO),
    ('{"answer": "yes"}', YES),
    ('{"answer": "no"}', NO),
    ('{\n  "answer": "yes"', YES),  # cut off by max_tokens before the brace
    ('```json\n{"answer": "no"}\n```', NO),
    ("True", YES),
    ("False.", NO),
    ("Plausible.", YES),
    ("Implausible", NO),
    ("The assertion is plausible.", YES),
    ("This is not plausible.", NO),
    ("It is implausible that a child enjoys it.", NO),
    ("Correct", YES),
    ("Incorrect.", NO),
    ("<think>The kite is small, so the chase is fun.</think> Yes", YES),
    ("Yes or no: no", NO),
    ("", FAIL),
    ("   ", FAIL),
    ("I cannot determine that.", FAIL),
    ("The child", FAIL),  # cut off after three tokens, answers nothing
    ("Answer yes or no only.", FAIL),  # an echo of the instruction
    ("Maybe yes, maybe no, it depends on the context", FAIL),
    ("...", FAIL),
]


@pytest.mark.parametrize(("reply", "expected"), REPLIES)
def test_robust_extraction(reply: str, expected: int | None) -> None:
    result = extract_robust(reply)
    assert result.label == expected, (reply, result)
    assert result.failed == (expected is None)


def test_table_is_large_enough() -> None:
    assert len(REPLIES) >= 40


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("yes", YES),
        ("no", NO),
        ("Yes.", FAIL),  # punctuation stays attached: the reference's coin-flip case
        ("No,", FAIL),
        ("**Yes**", FAIL),
        ("yes and no", NO),  # "no" is checked first
        ("that is right", YES),
        ("incorrect", NO),
        ("it is correct", YES),
        ("", FAIL),
    ],
)
def test_reference_parser(reply: str, expected: int | None) -> None:
    assert extract_reference(reply).label == expected


def test_extract_mode_dispatch_and_unknown_mode() -> None:
    assert extract("Yes.", "robust").label == YES
    assert extract("Yes.", "reference").label is None
    with pytest.raises(ValueError, match="unknown extraction mode 'fuzzy'"):
        extract("yes", "fuzzy")


def test_methods_are_recorded() -> None:
    assert extract_robust('{"answer": "no"}').method == "json"
    assert extract_robust("The answer is no").method == "explicit"
    assert extract_robust("No, never.").method == "bare"
    assert extract_robust("This is not plausible.").method == "statement"
    assert extract_robust("").method == "failed-empty"
