"""A task and a model of known pass probability, for the PassUntil tests (importable by subprocesses)."""

from __future__ import annotations

import random
from typing import Any

from emergebench import (
    GenerateConfig,
    Message,
    Model,
    ModelInfo,
    ModelOutput,
    ModelProvider,
    Sample,
    SampleScore,
    Task,
    hookimpl,
)
from emergebench.context import current_context
from pydantic import BaseModel, ConfigDict


class CoinModel(Model):
    """Answers "pass" with probability 1/``odds``, drawn from the running attempt's own seed."""

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        info = ModelInfo(id=f"coin/{name}", provider="coin", name=name, args=options)
        super().__init__(info.id, info)
        self.odds = int(name)

    async def generate(self, messages: list[Message], config: GenerateConfig) -> ModelOutput:
        ctx = current_context.get()
        return ModelOutput(text="pass" if random.Random(ctx.seed).randrange(self.odds) == 0 else "fail")


class TryArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: int = 1


class TryTask(Task):
    name = "coin/try"
    version = "1.0"
    Args = TryArgs
    main_metric = "passed"

    def dataset(self, seed: int) -> list[Sample]:
        # distinct prompts: identical calls of two samples would share one cached answer
        return [Sample(id=f"s{i}", input=f"pass? (item {i})") for i in range(self.args.n)]

    async def solve(self, sample: Sample, ctx: Any) -> SampleScore:
        output = await ctx.model.generate(sample.input)
        return SampleScore(scores={"passed": float(output.text == "pass")}, answer=output.text)


class NoVerdictTask(TryTask):
    name = "coin/no-verdict"
    main_metric = None


@hookimpl
def register_tasks(register: Any) -> None:
    register(TryTask)
    register(NoVerdictTask)


@hookimpl
def register_models(register: Any) -> None:
    register(ModelProvider(prefix="coin", factory=lambda name, options: CoinModel(name, options)))
