"""Answer extraction and the reference's sentence counter, edge cases included."""

from __future__ import annotations

import pytest
from emergebench_skill_mix.prompts import sentences_phrase
from emergebench_skill_mix.text import count_sentences, extract_answer, sentence_limit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One sentence only.", 1),
        ("", 1),
        ("First one. Second one.", 2),
        ("Is it? Yes! Fine.", 3),
        ("Dr. Watson arrived. He sat down.", 2),  # title protected
        ("Mr. and Mrs. Smith met Prof. Plum and Ms. Scarlet.", 1),
        ('He said "Stop." Then he left.', 2),  # straight quote after the period
        ('She asked, "Why?" And she waited.', 2),
        ("\u201cStop.\u201d Then he left.", 1),  # curly quotes are not quote characters for the reference
        ("It ended at 3 p.m. on time.", 1),  # next word is lower case
        ("First.  Second.", 1),  # two spaces: not a boundary in the reference rule
        ("First.Second.", 1),  # no space
        ("Ends here. 42 follows.", 1),  # a digit does not start a sentence
        ("The U.S. Army marched. It rained.", 3),  # abbreviations other than titles split
        ("Mrs Brown waved. Hi", 2),  # the reference's unescaped '.' in 'Mrs. ' also eats 'Mrs '
        ("Ask Dr? Maybe. No", 2),  # ... and 'Dr? ' (quirk kept so counts match the reference)
    ],
)
def test_count_sentences(text: str, expected: int) -> None:
    assert count_sentences(text) == expected


def test_sentence_limit_and_words() -> None:
    assert [sentence_limit(k) for k in range(1, 7)] == [1, 1, 2, 3, 4, 5]
    assert [sentences_phrase(sentence_limit(k)) for k in (1, 3, 6)] == [
        "one sentence",
        "two sentences",
        "five sentences",
    ]


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Answer: The bee hums. Explanation: metaphor.", "The bee hums."),
        ("Sure! Answer: draft\nAnswer: final text\n\nExplanation: why", "final text"),  # the last 'Answer:'
        ("no markers at all", "no markers at all"),
        ("Answer: text Explanation: a Explanation: b", "text"),
        ("Answer:   spaced  \nExplanations follow", "spaced"),  # cut at the first 'Explanation'
        ("Answer:", ""),
    ],
)
def test_extract_answer(reply: str, expected: str) -> None:
    assert extract_answer(reply) == expected
