"""The two Skill-Mix rubric graders, one judge call per grading round.

``skill-mix/gpt4-table`` asks for the reference's GPT-4 rubric table, ``skill-mix/llama2-points`` for its
LLaMA-2 "Point earned" lines. Both ask the judge chosen with ``--grader-model``, parse the per-item points,
and replace the sentence-limit item with the reference's program check. They can also be used by other tasks
through the generic ``grade(answer, target, ctx)`` with a dict target (see ``GradingRequest.from_target``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from emergebench import BaseContext, GenerateConfig, Grade, Grader, Message, UsageError

from .constrained import grading_schema, parse_json_points
from .data import Skill
from .parsing import ParsedPoints, parse_points_earned, parse_table
from .prompts import PromptSet, grading_prompts, prompt_fields, rubric_items
from .text import count_sentences, sentence_limit


@dataclass(frozen=True)
class GradingRequest:
    skills: tuple[Skill, ...]
    topic: str
    salt: str = "grading-1"
    config: GenerateConfig = field(default_factory=GenerateConfig)
    prompts: PromptSet | None = None  # a user's prompt file; None means the grader's built-in prompt
    constrained: bool = False  # ask for one JSON key per rubric item (a JSON schema) instead of free text

    @classmethod
    def from_target(cls, target: Any) -> GradingRequest:
        """Build from ``{"skills": [{"name", "definition", "example"}, ...], "topic": str}``."""
        if isinstance(target, GradingRequest):
            return target
        if not isinstance(target, dict) or "skills" not in target or "topic" not in target:
            raise UsageError(
                "Skill-Mix graders need a target {'skills': [{'name','definition','example'}...], 'topic': ...}; "
                f"got {type(target).__name__}"
            )
        skills = tuple(Skill(s["name"], s.get("definition", ""), s.get("example", "")) for s in target["skills"])
        return cls(skills=skills, topic=str(target["topic"]), salt=str(target.get("salt", "grading-1")))


class SkillMixGrader(Grader):
    """Base: render the rubric prompt, call the judge once, parse, recompute the sentence-limit point."""

    style: ClassVar[str]
    needs_model = True

    def parse(self, output: str, items: list[str]) -> ParsedPoints:
        raise NotImplementedError

    def prompt(self, answer: str, request: GradingRequest) -> str:
        prompts = request.prompts or grading_prompts(self.style, None)
        fields = prompt_fields(list(request.skills), request.topic, style=self.style, student_answer=answer)
        return prompts.render(fields)[0]

    async def grade(self, answer: str, target: Any, ctx: BaseContext) -> Grade:
        return await self.grade_round(answer, GradingRequest.from_target(target), ctx)

    async def grade_round(self, answer: str, request: GradingRequest, ctx: BaseContext) -> Grade:
        judge = ctx.grader_model_or_fail()
        items = rubric_items(list(request.skills), request.topic, self.style)
        config = request.config
        if request.constrained:
            config = config.merged(GenerateConfig(response_format=grading_schema(items)))
        output = await judge.generate(
            [Message(role="user", content=self.prompt(answer, request))], config, cache_salt=request.salt
        )
        k = len(request.skills)
        parsed = parse_json_points(output.text, items) if request.constrained else self.parse(output.text, items)
        n_sentences = count_sentences(answer)
        length_point = float(n_sentences <= sentence_limit(k))
        points = parsed.points[:-1] + [length_point]
        return Grade(
            value=sum(points) / len(points),
            parse_failed=parsed.failed,
            explanation="; ".join(parsed.problems) or None,
            details={
                "points": points,
                "grader_points": parsed.points,
                "raw_values": parsed.raw,
                "reported_total": parsed.reported_total,
                "grader_length_point": parsed.points[-1],
                "sentence_count": n_sentences,
                "length_point": length_point,
                "row_mapping": parsed.row_mapping,
                "ignored_rows": parsed.ignored_rows,
                "problems": parsed.problems,
                "finish_reason": output.finish_reason,
            },
        )


class Gpt4TableGrader(SkillMixGrader):
    name = "skill-mix/gpt4-table"
    style = "gpt4-table"
    description = (
        "Skill-Mix rubric as a 'Criteria | Points Earned' table (the reference's GPT-4 grader prompt); "
        "judge from --grader-model"
    )

    def parse(self, output: str, items: list[str]) -> ParsedPoints:
        return parse_table(output, items)


class Llama2PointsGrader(SkillMixGrader):
    name = "skill-mix/llama2-points"
    style = "llama2-points"
    description = (
        "Skill-Mix rubric with one 'Point earned: 0/1' per item and a final 'Grade:' (the reference's "
        "LLaMA-2-70B grader prompt); judge from --grader-model"
    )

    def parse(self, output: str, items: list[str]) -> ParsedPoints:
        return parse_points_earned(output, items)


GRADERS: dict[str, type[SkillMixGrader]] = {g.style: g for g in (Gpt4TableGrader, Llama2PointsGrader)}
