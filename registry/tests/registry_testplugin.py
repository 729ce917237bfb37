"""A tiny task plugin for the registry's tests (importable by subprocesses via PYTHONPATH)."""

from __future__ import annotations

from typing import Any

from emergebench import Message, Sample, SampleScore, Task, hookimpl
from emergebench.metrics import metric
from pydantic import BaseModel, ConfigDict


class QuizArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: int = 6


class QuizTask(Task):
    """``i+i`` questions; 'correct' per sample and an 'accuracy' metric with a per-parity breakdown."""

    name = "regtest/quiz"
    version = "1.0"
    description = "arithmetic for the registry tests"
    Args = QuizArgs
    main_metric = "accuracy"

    def dataset(self, seed: int) -> list[Sample]:
        return [Sample(id=f"q{i}", input=f"{i}+{i}", target=str(2 * i)) for i in range(self.args.n)]

    async def solve(self, sample: Sample, ctx: Any) -> SampleScore:
        output = await ctx.model.generate(sample.input)
        correct = float(output.text.strip() == sample.target)
        return SampleScore(scores={"correct": correct, "length": float(len(output.text))}, answer=output.text)

    def metrics(self, results: list[Any]) -> list[Any]:
        values = [r.scores["correct"] for r in results if r.error is None]
        even = [r.scores["correct"] for r in results if r.error is None and int(r.sample_id[1:]) % 2 == 0]
        return [metric("accuracy", values), metric("accuracy", even, group="even")]

    def provenance(self) -> dict[str, Any]:
        return {"data_sha256": "0" * 64}


class QuizV2(QuizTask):
    name = "regtest/quiz2"
    version = "2.0"


class GroupedQuiz(QuizTask):
    """Like Skill-Mix: the main metric exists only per group (k=1, k=2, k=10), never overall."""

    name = "regtest/grouped"
    version = "1.0"
    KS = (1, 2, 10)

    def metrics(self, results: list[Any]) -> list[Any]:
        out = []
        for index, k in enumerate(self.KS):  # sample q<i> belongs to group KS[i % 3]
            values = [r.scores["correct"] for r in results if r.error is None and int(r.sample_id[1:]) % 3 == index]
            out.append(metric("accuracy", values, group=f"k={k}"))
        return out


class CurveQuiz(QuizTask):
    """Like the Donor Game: an overall main metric plus a per-generation curve of the same name."""

    name = "regtest/curve"
    version = "1.0"

    def metrics(self, results: list[Any]) -> list[Any]:
        values = [r.scores["correct"] for r in results if r.error is None]
        curve = [metric("accuracy", values[: g + 1], group=f"generation={g}") for g in range(3)]
        return [metric("accuracy", values), *curve]


class DialogueQuiz(QuizTask):
    """Two model calls per sample (the question is asked again after the first answer), a multi-turn
    sample like BoxingGym's experiments."""

    name = "regtest/dialogue"
    version = "1.0"

    async def solve(self, sample: Sample, ctx: Any) -> SampleScore:
        first = await ctx.model.generate(sample.input)
        turns = [
            Message(role="user", content=sample.input),
            Message(role="assistant", content=first.text),
            Message(role="user", content=sample.input),
        ]
        output = await ctx.model.generate(turns)
        correct = float(output.text.strip() == sample.target)
        return SampleScore(scores={"correct": correct, "length": float(len(output.text))}, answer=output.text)


class ErrorQuiz(QuizTask):
    """Like BoxingGym: the main metric is an error (``abs_error``, lower is better)."""

    name = "regtest/error"
    version = "1.0"
    main_metric = "abs_error"
    lower_is_better = frozenset({"abs_error"})

    async def solve(self, sample: Sample, ctx: Any) -> SampleScore:
        output = await ctx.model.generate(sample.input)
        error = abs(float(output.text.strip()) - float(sample.target))
        return SampleScore(scores={"abs_error": error}, answer=output.text)

    def metrics(self, results: list[Any]) -> list[Any]:
        return [metric("abs_error", [r.scores["abs_error"] for r in results if r.error is None])]


class RegTestPlugin:
    @staticmethod
    @hookimpl
    def register_tasks(register: Any) -> None:
        register(QuizTask)
        register(QuizV2)
        register(GroupedQuiz)
        register(CurveQuiz)
        register(DialogueQuiz)
        register(ErrorQuiz)


def solve_sum(messages: Any, config: Any) -> str:
    """A scripted 'model' that answers correctly."""
    a, b = messages[-1].content.split("+")
    return str(int(a) + int(b))


def fails_on_multiples_of_three(messages: Any, config: Any) -> str:
    """A scripted 'model' that fails (not transiently) on questions ``i+i`` with ``i % 3 == 0``."""
    a, b = messages[-1].content.split("+")
    if int(a) % 3 == 0:
        raise RuntimeError(f"refused {a}+{b}")
    return str(int(a) + int(b))


def always_fails(messages: Any, config: Any) -> str:
    raise RuntimeError("this model never answers")
