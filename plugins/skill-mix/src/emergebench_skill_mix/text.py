"""Answer extraction and the reference's sentence counter (R ``task.py`` get_text, ``utils.py`` count_num_sentences).

The sentence-limit rubric point is always recomputed with this counter, never taken from the grader, so the
counter must match the reference rule for rule, quirks included (see ``count_sentences``).
"""

from __future__ import annotations

import re

# The reference protects titles with re.sub('Mr. ', 'Mr.', text) and so on: the '.' there is a regex
# wildcard, so "Mrs Smith" also loses its space. Reproduced on purpose: the counts must agree.
_TITLES = (re.compile("Mr. "), re.compile("Mrs. "), re.compile("Ms. "), re.compile("Dr. "), re.compile("Prof. "))
_TITLE_REPLACEMENTS = ("Mr.", "Mrs.", "Ms.", "Dr.", "Prof.")
# A sentence ends at . ! or ?, then optional straight quotes, exactly one space, optional quotes, A-Z.
_BOUNDARY = re.compile(r"[.!?]['\"]* ['\"]*[A-Z]")


def count_sentences(text: str) -> int:
    """Number of sentences by the reference rule: one more than the number of boundaries found.

    Only straight quotes count as quotes, only one space separates sentences, and the next sentence must
    start with an ASCII capital; an empty text counts as one sentence. These are the reference's choices.
    """
    for pattern, replacement in zip(_TITLES, _TITLE_REPLACEMENTS, strict=True):
        text = pattern.sub(replacement, text)
    return len(_BOUNDARY.split(text))


def sentence_limit(k: int) -> int:
    """The number of sentences allowed for k skills: max(1, k - 1) (R utils.py)."""
    return max(1, k - 1)


def extract_answer(reply: str) -> str:
    """The text after the last 'Answer:' (the whole reply if none), cut at the first 'Explanation', stripped."""
    text = reply.split("Answer:")[-1]
    return text.split("Explanation")[0].strip()
