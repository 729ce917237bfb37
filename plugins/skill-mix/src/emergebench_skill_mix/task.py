"""The skill-mix task: sample combinations, run the two-turn student conversation, grade, aggregate."""

from __future__ import annotations

import asyncio
import hashlib
from array import array
from collections import defaultdict
from typing import Any, ClassVar

from emergebench import (
    GenerateConfig,
    Message,
    Metric,
    MetricPair,
    ModelHandle,
    Sample,
    SampleOutput,
    SampleResult,
    SampleScore,
    ScoreContext,
    SolveContext,
    Task,
    UsageError,
)
from emergebench.grader import Grader
from emergebench.metrics import MetricAccumulator, metric

from .args import SkillMixArgs
from .constrained import student_answer, student_schema
from .data import Skill, load_skills, load_topics
from .graders import GRADERS, GradingRequest, SkillMixGrader
from .prompts import generation_prompts, grading_prompts, prompt_fields
from .sampling import draw_combinations
from .scoring import METRIC_NAMES, across_generations, apply_name_penalty, generation_metrics, named_skills, vote

GRADER_HINT = ", ".join(g.name for g in GRADERS.values())


def _round_seed(base: int, *parts: object) -> int:
    digest = hashlib.sha256(":".join(str(p) for p in (base, *parts)).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


class SkillMixTask(Task[SkillMixArgs]):
    name = "skill-mix"
    version = "1.0"
    description = (
        "Skill-Mix (Yu, Arora et al., ICLR 2024): write at most max(1,k-1) sentences on a topic that illustrate k "
        "random skills; a judge (--grader-model) scores each skill, topic, sense; the length is program-checked."
    )
    Args = SkillMixArgs
    main_metric = "ratio_of_full_marks"
    format_failure_metric = "grader_parse_failure_rate"
    lower_is_better = frozenset({"grader_parse_failure_rate"})
    metric_pairs = (MetricPair(headline="ratio_of_full_marks", continuous="skill_fraction"),)
    group_by = ("k",)  # curves per k, never pooled over k
    default_grader = "skill-mix/gpt4-table"
    demo_args: ClassVar[dict[str, Any] | None] = {
        "k": [1, 2],  # two points: the report's by-k view draws a curve
        "combinations": 1,
        "generation_rounds": 1,
        "grading_rounds": 1,
        "max_tokens": 48,
        "grader_max_tokens": 96,  # room for one JSON key per rubric item
        "constrained": "auto",
    }
    demo_limit = 2  # one combination per k

    def __init__(self, args: SkillMixArgs | None = None) -> None:
        super().__init__(args)
        a = self.args
        self.skill_list = load_skills(a.skills_file)
        self.topic_list = load_topics(a.topics_file)
        too_big = [k for k in a.k if k > len(self.skill_list.skills)]
        if too_big:
            raise UsageError(
                f"k={too_big} is larger than the skill list ({len(self.skill_list.skills)} skills in "
                f"{self.skill_list.source}); lower k or use a longer -T skills_file"
            )
        unknown = [s for s in a.filter_skills if s not in self.skill_list.names]
        if unknown:
            raise UsageError(
                f"-T filter_skills names skill(s) not in {self.skill_list.source}: {unknown}; "
                "use the exact names from the skill column"
            )
        self.student_prompts = generation_prompts(a.generation_prompt, a.generation_prompt_file)
        self.custom_grading = (
            grading_prompts(a.grader_prompt or "gpt4-table", a.grading_prompt_file) if a.grading_prompt_file else None
        )

    @property
    def a(self) -> SkillMixArgs:
        return self.args

    def dataset(self, seed: int) -> list[Sample]:
        """All combinations for every k; ``-T seed`` (not the run's --seed) decides the draw, as in the reference."""
        samples = []
        for k in self.a.k:
            combos = draw_combinations(
                self.skill_list.names,
                list(self.topic_list.topics),
                k,
                self.a.combinations,
                self.a.seed,
                self.a.presentation_seed,
            )
            for i, combo in enumerate(combos):
                samples.append(
                    Sample(
                        id=f"k{k}-{i:04d}",
                        input={"k": k, "skills": list(combo.skills), "topic": combo.topic, "index": i},
                        metadata={"skills_sha256": self.skill_list.sha256, "topics_sha256": self.topic_list.sha256},
                    )
                )
        return samples

    def select(self, samples: list[Sample], limit: int | None, seed: int) -> list[Sample]:
        """``--limit N`` keeps the first combinations of every k in turn (k=2 #0, k=3 #0, k=2 #1, ...)."""
        if limit is None:
            return samples
        by_k: dict[int, list[Sample]] = defaultdict(list)
        for s in samples:
            by_k[s.input["k"]].append(s)
        ordered = []
        depth = max((len(v) for v in by_k.values()), default=0)
        for i in range(depth):
            for k in sorted(by_k):
                if i < len(by_k[k]):
                    ordered.append(by_k[k][i])
        return ordered[:limit]

    def provenance(self) -> dict[str, Any]:
        out = {
            "skills_sha256": self.skill_list.sha256,
            "topics_sha256": self.topic_list.sha256,
            "skills_source": self.skill_list.source,
            "topics_source": self.topic_list.source,
            "n_skills": len(self.skill_list.skills),
            "n_topics": len(self.topic_list.topics),
            "generation_prompts_sha256": self.student_prompts.sha256,
        }
        if self.custom_grading is not None:
            out["grading_prompts_sha256"] = self.custom_grading.sha256
        return out

    def _grader(self, ctx: ScoreContext) -> SkillMixGrader:
        if self.a.grader_prompt is not None:
            return GRADERS[self.a.grader_prompt]()
        if isinstance(ctx.grader, SkillMixGrader):
            return ctx.grader
        given = getattr(ctx.grader, "name", None)
        raise UsageError(f"skill-mix needs a Skill-Mix rubric grader ({GRADER_HINT}), not {given!r}; drop --grader")

    @classmethod
    def check_grader(cls, grader: type[Grader[Any]]) -> None:
        """Only a Skill-Mix rubric grader can grade a Skill-Mix answer (it needs the skills and topic)."""
        if not issubclass(grader, SkillMixGrader):
            raise UsageError(
                f"skill-mix is graded by a Skill-Mix rubric grader ({GRADER_HINT}), not {grader.name!r}: "
                "its answers are judged per skill, topic and sense; drop --grader or pick one of those"
            )

    def _student_config(self, seed: int, constrained: bool) -> GenerateConfig:
        return GenerateConfig(
            temperature=self.a.temperature,
            max_tokens=self.a.max_tokens,
            seed=seed,
            response_format=student_schema() if constrained else None,
        )

    def _constrained(self, handle: ModelHandle | None) -> bool:
        return self.a.constrained == "on" or (
            self.a.constrained == "auto" and handle is not None and handle.supports_json_schema
        )

    def _skills(self, sample: Sample) -> list[Skill]:
        try:
            return [self.skill_list.get(name) for name in sample.input["skills"]]
        except KeyError as exc:
            raise UsageError(f"sample {sample.id} names skill {exc} which is not in {self.skill_list.source}") from None

    async def _generation(self, g: int, skills: list[Skill], topic: str, ctx: SolveContext) -> dict[str, Any]:
        """One student conversation (two turns); its turn-2 answer is what ``score`` grades."""
        a = self.a
        salt = f"generation-{g + 1}"
        config = self._student_config(_round_seed(ctx.seed, "generation", g), self._constrained(ctx.model))
        turns = self.student_prompts.render(prompt_fields(skills, topic))
        messages = [Message(role="system", content=a.system_prompt)] if a.system_prompt else []
        messages.append(Message(role="user", content=turns[0]))
        first = await ctx.model.generate(messages, config, cache_salt=salt)
        messages += [Message(role="assistant", content=first.text), Message(role="user", content=turns[1])]
        second = await ctx.model.generate(messages, config, cache_salt=salt)
        return {
            "round": g + 1,
            "turn1_answer": student_answer(first.text),
            "answer": student_answer(second.text),
            "finish_reasons": [first.finish_reason, second.finish_reason],
        }

    async def _grading(
        self, generation: dict[str, Any], skills: list[Skill], topic: str, ctx: ScoreContext, grader: SkillMixGrader
    ) -> dict[str, Any]:
        """One generation's stored answer graded ``grading_rounds`` times, penalised, voted, measured."""
        a = self.a
        g, answer = generation["round"] - 1, generation["answer"]
        requests = [
            GradingRequest(
                skills=tuple(skills),
                topic=topic,
                salt=f"generation-{g + 1}/grading-{j + 1}",
                config=GenerateConfig(
                    temperature=a.grader_temperature,
                    max_tokens=a.grader_max_tokens,
                    seed=_round_seed(ctx.seed, "grading", g, j),
                ),
                prompts=self.custom_grading,
                constrained=self._constrained(ctx.grader_model),
            )
            for j in range(a.grading_rounds)
        ]
        grades = await asyncio.gather(*(grader.grade_round(answer, r, ctx) for r in requests))
        named = named_skills(answer, [s.name for s in skills])
        rounds = [g_.details["points"] for g_ in grades]
        if a.explicit_name_penalty:
            rounds = [apply_name_penalty(p, named) for p in rounds]
        voted = vote(rounds, a.vote)
        return {
            **generation,
            "named_skills": [s.name for s, hit in zip(skills, named, strict=True) if hit],
            "gradings": [
                {"parse_failed": g_.parse_failed, **{k: v for k, v in g_.details.items() if k != "finish_reason"}}
                for g_ in grades
            ],
            "points_after_penalty": rounds,
            "voted_points": voted,
            **generation_metrics(voted, len(skills)),
        }

    async def solve(self, sample: Sample, ctx: SolveContext) -> SampleOutput:
        """The student's ``generation_rounds`` conversations; grading happens in ``score``."""
        skills = self._skills(sample)
        generations = await asyncio.gather(
            *(self._generation(g, skills, sample.input["topic"], ctx) for g in range(self.a.generation_rounds))
        )
        return SampleOutput(answer=generations[0]["answer"], data={"generations": list(generations)})

    async def score(self, sample: Sample, output: SampleOutput, ctx: ScoreContext) -> SampleScore:
        """Each stored answer graded by the judge (``--grader-model``), then voted and combined."""
        a = self.a
        k, topic = sample.input["k"], sample.input["topic"]
        skills = self._skills(sample)
        grader = self._grader(ctx)
        generations = await asyncio.gather(
            *(self._grading(gen, skills, topic, ctx, grader) for gen in output.data["generations"])
        )
        combined = across_generations(generations, a.across_generations)
        filtered = any(s.name in a.filter_skills for s in skills)
        n_gradings = sum(len(g["gradings"]) for g in generations)
        n_failed = sum(1 for g in generations for gr in g["gradings"] if gr["parse_failed"])
        metadata = {
            "k": k,
            "skills": [s.name for s in skills],
            "topic": topic,
            "combination_index": sample.input["index"],
            "skills_sha256": self.skill_list.sha256,
            "topics_sha256": self.topic_list.sha256,
            "grader": grader.name,
            "vote": a.vote,
            "across_generations": a.across_generations,
            "explicit_name_penalty": a.explicit_name_penalty,
            "filtered": filtered,
            "grader_parse_failures": n_failed,
            "gradings": n_gradings,
            "generations": generations,
            **{f"combined_{name}": combined[name] for name in METRIC_NAMES},
        }
        # A filtered combination is generated and graded but left out of the scores, as the reference does.
        scores = {} if filtered else dict(combined)
        return SampleScore(scores=scores, metadata=metadata)

    def metric_accumulator(self) -> SkillMixMetrics:
        return SkillMixMetrics()


class SkillMixMetrics(MetricAccumulator):
    """Mean and standard error over the combinations of each k (group "k=K"); never pooled over k.
    Keeps one float per score per combination, folded as results arrive."""

    def __init__(self) -> None:
        self.values: dict[int, dict[str, array]] = {}
        self.failures: dict[int, array] = {}

    def add(self, result: SampleResult) -> None:
        meta = result.metadata
        if result.error is not None or "k" not in meta:
            return
        k = int(meta["k"])
        if meta.get("gradings"):
            self.failures.setdefault(k, array("d")).append(meta["grader_parse_failures"] / meta["gradings"])
        if meta.get("filtered"):
            return
        for name in METRIC_NAMES:
            if name in result.scores:
                self.values.setdefault(k, {}).setdefault(name, array("d")).append(result.scores[name])

    def merge(self, other: SkillMixMetrics) -> None:
        for k, columns in other.values.items():
            for name, column in columns.items():
                self.values.setdefault(k, {}).setdefault(name, array("d")).extend(column)
        for k, column in other.failures.items():
            self.failures.setdefault(k, array("d")).extend(column)

    def metrics(self) -> list[Metric]:
        out = []
        for k in sorted(set(self.values) | set(self.failures)):
            group = f"k={k}"
            columns = self.values.get(k, {})
            out += [metric(name, columns.get(name, array("d")), group=group) for name in METRIC_NAMES]
            out.append(metric("grader_parse_failure_rate", self.failures.get(k, array("d")), group=group))
        return out
