"""A test plugin for the report tests: "toy" models of known size and per-token accuracy, and a task
whose exact-match and per-token scores form a metric pair (the Mirage construction in miniature)."""

from __future__ import annotations

import hashlib
import random
from typing import Any

from emergebench import (
    GenerateConfig,
    Message,
    MetricPair,
    Model,
    ModelInfo,
    ModelOutput,
    ModelProvider,
    Sample,
    SampleScore,
    Task,
    hookimpl,
)
from pydantic import BaseModel, ConfigDict

# family -> (log10 parameters of the smallest model, per-token accuracy at 1e6 parameters, gain per decade)
FAMILIES = {"alpha": (0.50, 0.10), "beta": (0.40, 0.12)}


def token_accuracy(family: str, parameters: int) -> float:
    """The known per-token accuracy of a toy model: linear in log10(parameters)."""
    import math

    base, gain = FAMILIES[family]
    return min(0.995, base + gain * (math.log10(parameters) - 6.0))


class ToyModel(Model):
    """Writes one character per requested token: '1' (right) with the family's per-token accuracy."""

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        family, size = name.split("-")
        parameters = int(float(size.rstrip("m")) * 1e6)
        info = ModelInfo(
            id=f"toy/{name}", provider="toy", name=name, family=family, parameters=parameters, args=options
        )
        super().__init__(info.id, info)
        self.p = token_accuracy(family, parameters)
        self.fail_first = int(options.get("fail_first", 0))  # samples 0..N-1 of each length raise

    async def generate(self, messages: list[Message], config: GenerateConfig) -> ModelOutput:
        prompt = messages[-1].content
        _, length_text, index = prompt.split(":")
        length = int(length_text)
        if int(index) < self.fail_first:
            raise RuntimeError(f"the toy model refuses prompt {prompt}")
        rng = random.Random(hashlib.sha256(f"{self.model_id}|{prompt}|{config.seed}".encode()).digest())
        return ModelOutput(text="".join("1" if rng.random() < self.p else "0" for _ in range(length)))


class MirageArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: int = 40
    lengths: list[int] = [2, 8]


class MirageTask(Task):
    name = "rtest/mirage"
    version = "1.0"
    description = "copy L tokens; exact match vs per-token accuracy"
    Args = MirageArgs
    main_metric = "exact"
    metric_pairs = (MetricPair(headline="exact", continuous="per_token"),)
    group_by = ("k",)
    demo_args = {"n": 3}
    demo_limit = None

    def dataset(self, seed: int) -> list[Sample]:
        a = self.args
        return [
            Sample(id=f"L{k}-{i}", input=f"tokens:{k}:{i}", metadata={"k": k}) for k in a.lengths for i in range(a.n)
        ]

    async def solve(self, sample: Sample, ctx: Any) -> SampleScore:
        output = await ctx.model.generate(sample.input)
        text = output.text
        return SampleScore(
            scores={"exact": float(set(text) <= {"1"}), "per_token": text.count("1") / len(text)},
            answer=text,
            metadata={"k": sample.metadata["k"]},
        )


@hookimpl
def register_tasks(register: Any) -> None:
    register(MirageTask)


@hookimpl
def register_models(register: Any) -> None:
    register(ModelProvider(prefix="toy", factory=lambda name, options: ToyModel(name, options)))


@hookimpl
def register_metric_pairs(register: Any) -> None:
    register("rtest/mirage", MetricPair(headline="exact", continuous="per_token"))  # a duplicate: kept once
