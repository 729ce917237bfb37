"""Student and grader prompts.

The wording is written for this plugin from the structure and the phrases quoted in the specification
(shared/specs/skill-mix.md sections 4 and 5): the framing, the literal 'Answer:' / 'Explanation:' contract, the
sentence limit in words in turn 2 only, the rubric items and the required table / "Point earned" formats are the
reference's; the connecting sentences are ours. To run the reference's own prompt files byte for byte, pass them
with ``-T generation_prompt_file=`` / ``-T grading_prompt_file=``: a JSON list of Python format strings that use the
same placeholders as the reference (listed in ``PLACEHOLDERS``).
"""

from __future__ import annotations

import hashlib
import json
import string
from dataclasses import dataclass
from pathlib import Path

from emergebench import UsageError

from .data import Skill
from .text import sentence_limit

_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty"
).split()

PLACEHOLDERS = frozenset(
    {
        "skills_str",
        "skills_defs_and_examples",
        "skills_defs_and_examples_simple",
        "skills_defs",
        "num_skills",
        "num_skills_str",
        "topic",
        "num_sentences",
        "num_sentences_str",
        "student_answer",
        "rubric_items",
    }
)

_FRAMING = (
    "Greetings! I am interested in natural language processing and I was wondering if you could help me "
    "generate an example of text that illustrates multiple skills in semantics or syntax. "
)
_ANSWER_CONTRACT = (
    "Please start the minimal natural piece of text with 'Answer:' and start the explanation with 'Explanation:'."
)
_REVISED_CONTRACT = (
    "As before, please start the improved minimal natural piece of text with 'Answer:' and start the explanation "
    "with 'Explanation:'."
)

GENERATION_PROMPTS: dict[str, tuple[str, str]] = {
    # R prompts/generation/default.json (internal id 9): turn 2 asks to improve and states the limit.
    "default": (
        _FRAMING + "I need a minimal natural piece of text with up to a few lines in the context of {topic} that "
        "illustrates all of the following skills: {skills_str}. Please keep the text as short as possible, and make "
        "sure the concepts can be found fully from the text.\n\n"
        "For reference, here are the definitions and examples for the concepts:\n{skills_defs_and_examples_simple}\n\n"
        + _ANSWER_CONTRACT
        + "\n\nThanks very much!",
        "Thanks very much. Now please look over your answer and improve it. The new answer should better illustrate "
        "all skills and stay on topic, and it should contain only up to {num_sentences_str}.\n"
        + _REVISED_CONTRACT
        + "\n\nThanks very much!",
    ),
    # R prompts/generation/llama_k_greater_2.json (internal id 8): same turn 1, turn 2 asks to improve and shorten.
    "llama_k_greater_2": (
        "",  # filled below: identical to the default turn 1
        "Thanks very much. Could you now look over the minimal natural piece of text and possibly improve and shorten "
        "it (up to {num_sentences_str})? If you change it, the text must still illustrate all skills and stay on "
        "topic.\n" + _REVISED_CONTRACT + "\n\nThanks very much!",
    ),
}
GENERATION_PROMPTS["llama_k_greater_2"] = (GENERATION_PROMPTS["default"][0], GENERATION_PROMPTS["llama_k_greater_2"][1])

_GRADER_OPENING = (
    "Greetings! I was wondering if you could help me grade the following answer given by a student.\n\n"
    "Below I describe the question the student was given, then the student's answer, then the grading rubric.\n\n"
    'The question given to the student was: "Give a single piece of text with up to {num_sentences_str} in the '
    'context of {topic}. This single piece of text should illustrate all of the following skills: {skills_str}."\n\n'
    'The student\'s answer was: "{student_answer}"\n\n'
)

GRADING_PROMPTS: dict[str, str] = {
    # R prompts/grade/gpt.json (internal id 10): table with 'Criteria' / 'Points Earned', total row, then reasoning.
    "gpt4-table": _GRADER_OPENING + "For reference, here are the definitions for the skills:\n"
    "{skills_defs_and_examples_simple}\n\n"
    "Using a rubric table format, please grade the student's answer with positive scoring. Each criterion is worth "
    "1 point. The criteria are: {rubric_items}. The table should have only the columns 'Criteria' and "
    "'Points Earned', and the 'Points Earned' column should contain numbers only, with no other formatting. Please "
    "introduce the table with 'Here's the grading table:' and end it with a row for 'Total Points Earned'. Finally, "
    "please start your grading explanation with 'Explanation':",
    # R prompts/grade/llama.json (internal id 14): definitions only, one "Point earned" per item, then "Grade:".
    "llama2-points": _GRADER_OPENING + "For reference, here are the definitions for the skills:\n{skills_defs}\n\n"
    "Please grade the student's answer using the following criteria: {rubric_items}. For each item in the rubric, "
    "please write 'Point earned: 1' if the requirement is met and 'Point earned: 0' otherwise. Please finish your "
    "grading with 'Grade:' followed by a number giving the total points earned by the student. Thanks so much.",
}

# The skill items of the rubric start with these words (R task.py MixSkillGrading.get_prompt).
RUBRIC_SKILL_PREFIX = {"gpt4-table": "Correctly illustrates", "llama2-points": "Contains"}


def number_in_words(n: int) -> str:
    if not 0 <= n < len(_WORDS):
        raise UsageError(f"cannot write {n} in words; k (and so the sentence limit) must stay below {len(_WORDS)}")
    return _WORDS[n]


def sentences_phrase(n: int) -> str:
    """'one sentence', 'two sentences', ...: the phrase the reference builds with inflect."""
    return f"{number_in_words(n)} {'sentences' if n > 1 else 'sentence'}"


def skill_line(skill: Skill, *, with_example: bool) -> str:
    """``**name**: definition For example, example`` (or without the example), as in the reference."""
    if with_example:
        return f"**{skill.name}**: {skill.definition} For example, {skill.example}"
    return f"**{skill.name}**: {skill.definition}"


def rubric_items(skills: list[Skill], topic: str, style: str) -> list[str]:
    """The k+3 rubric items in order: one per skill (lower-cased name), topic, sense, sentence limit."""
    prefix = RUBRIC_SKILL_PREFIX.get(style, "Correctly illustrates")
    limit = sentences_phrase(sentence_limit(len(skills)))
    return [f"{prefix} {s.name.strip().lower()}" for s in skills] + [
        f"Pertains to {topic}",
        "Text makes sense",
        f"At most {limit}",
    ]


def prompt_fields(skills: list[Skill], topic: str, *, style: str = "gpt4-table", student_answer: str = "") -> dict:
    k = len(skills)
    limit = sentence_limit(k)
    return {
        "skills_str": ", ".join(s.name for s in skills),
        "skills_defs_and_examples": "\n".join(
            f"Skill: {s.name}\nDefinition: {s.definition}\nExample: {s.example}" for s in skills
        ),
        "skills_defs_and_examples_simple": "\n".join(skill_line(s, with_example=True) for s in skills),
        "skills_defs": "\n".join(skill_line(s, with_example=False) for s in skills),
        "num_skills": k,
        "num_skills_str": number_in_words(k),
        "topic": topic,
        "num_sentences": limit,
        "num_sentences_str": sentences_phrase(limit),
        "student_answer": student_answer,
        "rubric_items": ", ".join(rubric_items(skills, topic, style)),
    }


@dataclass(frozen=True)
class PromptSet:
    """Format strings for the student's turns or the grader's single turn, with the hash recorded per run."""

    templates: tuple[str, ...]
    source: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(json.dumps(list(self.templates), ensure_ascii=False).encode()).hexdigest()

    def render(self, fields: dict) -> list[str]:
        return [t.format(**fields) for t in self.templates]


def load_prompt_file(path: str, expected_turns: int, option: str) -> PromptSet:
    """A JSON list of format strings (the reference's prompts/*.json format), checked before any model call."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise UsageError(f"-T {option}={path!r}: no such file; give a JSON list of prompt templates")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"-T {option}={path!r} is not valid UTF-8 JSON ({exc})") from None
    if not isinstance(data, list) or len(data) != expected_turns or not all(isinstance(t, str) for t in data):
        raise UsageError(
            f"-T {option}={path!r} must be a JSON list of exactly {expected_turns} string(s), got "
            f"{type(data).__name__} of length {len(data) if isinstance(data, list) else '-'}"
        )
    for template in data:
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
        except ValueError as exc:
            raise UsageError(f"-T {option}={path!r}: a template is not a valid format string ({exc})") from None
        unknown = sorted(n for n in names if n.split(".")[0].split("[")[0] not in PLACEHOLDERS)
        if unknown:
            raise UsageError(
                f"-T {option}={path!r} uses unknown placeholder(s) {unknown}; allowed: {sorted(PLACEHOLDERS)}"
            )
    return PromptSet(tuple(data), str(p))


def generation_prompts(variant: str, path: str | None) -> PromptSet:
    if path:
        return load_prompt_file(path, 2, "generation_prompt_file")
    return PromptSet(GENERATION_PROMPTS[variant], f"builtin:{variant}")


def grading_prompts(style: str, path: str | None) -> PromptSet:
    if path:
        return load_prompt_file(path, 1, "grading_prompt_file")
    return PromptSet((GRADING_PROMPTS[style],), f"builtin:{style}")
