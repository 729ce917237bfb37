"""Built-in graders: exact match, choice/label extraction, regex, and a model-graded rubric."""

from __future__ import annotations

import re
import string
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..context import BaseContext
from ..grader import Grade, Grader
from ..hookspecs import hookimpl
from ..records import Message

_PUNCT = str.maketrans("", "", string.punctuation)


def normalize(text: str) -> str:
    """Lower-case, drop punctuation and collapse white space (the SQuAD-style normalisation)."""
    return " ".join(text.lower().translate(_PUNCT).split())


class ExactArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    normalize: bool = True


class ExactMatch(Grader[ExactArgs]):
    name = "exact"
    description = "1 if the answer equals the target (or any of a list of targets), else 0."
    Args = ExactArgs

    async def grade(self, answer: str, target: Any, ctx: BaseContext) -> Grade:
        targets = target if isinstance(target, list) else [target]
        fix = normalize if self.args.normalize else str.strip
        hit = any(fix(answer) == fix(str(t)) for t in targets)
        return Grade(value=float(hit), extracted=answer.strip())


class ChoiceArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    choices: list[str] = Field(default_factory=lambda: ["A", "B", "C", "D"])


class ChoiceGrader(Grader[ChoiceArgs]):
    """Finds the first choice label the answer commits to ("B", "(B)", "Answer: B", "**yes**")."""

    name = "choice"
    description = "Extracts a choice label (A/B/C/D, yes/no, ...) from the answer; 1 if it is the target."
    Args = ChoiceArgs

    def extract(self, answer: str) -> str | None:
        labels = sorted(self.args.choices, key=len, reverse=True)
        alternatives = "|".join(re.escape(label) for label in labels)
        pattern = re.compile(rf"(?<![A-Za-z0-9])({alternatives})(?![A-Za-z0-9])", re.IGNORECASE)
        marked = re.search(rf"answer\s*(?:is|:)\s*\W*({alternatives})\b", answer, re.IGNORECASE)
        match = marked or pattern.search(answer)
        if match is None:
            return None
        found = match.group(1).lower()
        return next(label for label in labels if label.lower() == found)

    async def grade(self, answer: str, target: Any, ctx: BaseContext) -> Grade:
        extracted = self.extract(answer)
        if extracted is None:
            return Grade(value=0.0, parse_failed=True, explanation="no choice label found")
        return Grade(value=float(extracted.lower() == str(target).lower()), extracted=extracted)


class RegexArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pattern: str = Field(description="a regular expression; group 1 (or the whole match) is the answer")
    normalize: bool = True


class RegexGrader(Grader[RegexArgs]):
    name = "regex"
    description = "Extracts the answer with a regular expression (-A pattern=...) and compares it to the target."
    Args = RegexArgs

    async def grade(self, answer: str, target: Any, ctx: BaseContext) -> Grade:
        match = re.search(self.args.pattern, answer, re.DOTALL)
        if match is None:
            return Grade(value=0.0, parse_failed=True, explanation=f"no match for {self.args.pattern!r}")
        extracted = match.group(1) if match.groups() else match.group(0)
        fix = normalize if self.args.normalize else str.strip
        return Grade(value=float(fix(extracted) == fix(str(target))), extracted=extracted)


RUBRIC_TEMPLATE = """You are grading an answer against a rubric.

[Question]
{question}

[Answer]
{answer}

[Rubric]
{rubric}

Reason briefly, then end with a line of the form "GRADE: C" if the answer meets the rubric,
"GRADE: P" if it partly meets it, or "GRADE: I" if it does not."""


class RubricArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    template: str = RUBRIC_TEMPLATE
    partial_credit: float = 0.5


class RubricGrader(Grader[RubricArgs]):
    """Model-graded rubric in the style of inspect_ai's model_graded_qa: C / P / I verdicts."""

    name = "rubric"
    description = "A judge model (--grader-model) grades the answer against the target rubric: C=1, P=partial, I=0."
    Args = RubricArgs
    needs_model = True

    async def grade(self, answer: str, target: Any, ctx: BaseContext) -> Grade:
        question = ctx.sample.input if isinstance(ctx.sample.input, str) else str(ctx.sample.input)
        prompt = self.args.template.format(question=question, answer=answer, rubric=target)
        output = await ctx.grader_model_or_fail().generate([Message(role="user", content=prompt)])
        verdicts = re.findall(r"GRADE\s*:\s*\**\s*([CPI])\b", output.text, re.IGNORECASE)
        if not verdicts:
            return Grade(value=0.0, parse_failed=True, explanation=output.text[-500:])
        verdict = verdicts[-1].upper()
        value = {"C": 1.0, "P": self.args.partial_credit, "I": 0.0}[verdict]
        return Grade(value=value, extracted=verdict, explanation=output.text[-500:])


@hookimpl
def register_graders(register: Any) -> None:
    for grader in (ExactMatch, ChoiceGrader, RegexGrader, RubricGrader):
        register(grader)
