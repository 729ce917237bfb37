"""A small task plugin for the core's tests (importable by subprocess scripts via PYTHONPATH)."""

from __future__ import annotations

import asyncio
from typing import Any

from emergebench import Sample, SampleScore, Task, hookimpl
from pydantic import BaseModel, ConfigDict


class AddArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: int = 20
    fail_every: int = 0


class AddTask(Task):
    """``a+b`` questions; the answer is graded by exact match against the sum."""

    name = "core-test/add"
    version = "1.0"
    description = "arithmetic used by the core's tests"
    Args = AddArgs
    main_metric = "accuracy"
    default_grader = "exact"

    def dataset(self, seed: int) -> list[Sample]:
        return [Sample(id=f"q{i}", input=f"{i}+{i}", target=str(2 * i)) for i in range(self.args.n)]

    async def solve(self, sample: Sample, ctx: Any) -> SampleScore:
        if self.args.fail_every and int(sample.id[1:]) % self.args.fail_every == 0:
            raise ValueError(f"sample {sample.id} fails on purpose")
        output = await ctx.model.generate(sample.input)
        grade = await ctx.grader.grade(output.text, sample.target, ctx)
        return SampleScore(scores={"accuracy": grade.value}, answer=output.text)


class FanOutTask(AddTask):
    """Makes several concurrent model calls per sample, as the Donor Game does."""

    name = "core-test/fanout"

    async def solve(self, sample: Sample, ctx: Any) -> SampleScore:
        outs = await asyncio.gather(*(ctx.model.generate(f"{sample.input} #{k}") for k in range(4)))
        return SampleScore(scores={"calls": float(len(outs))})


class CoreTestPlugin:
    @staticmethod
    @hookimpl
    def register_tasks(register: Any) -> None:
        register(AddTask)
        register(FanOutTask)


def solve_sum(messages: Any, config: Any) -> str:
    """A scripted 'model' that answers the arithmetic correctly."""
    a, b = messages[-1].content.split(" ")[0].split("+")
    return str(int(a) + int(b))


def fails_every_fourth(messages: Any, config: Any) -> str:
    """A scripted 'model' whose call fails (not transiently) for every question ``a+a`` with ``a % 4 == 0``:
    exactly a quarter of ``core-test/add``'s samples when ``n`` is a multiple of 4."""
    a, b = messages[-1].content.split(" ")[0].split("+")
    if int(a) % 4 == 0:
        raise RuntimeError(f"the model refused question {a}+{b}")
    return str(int(a) + int(b))
