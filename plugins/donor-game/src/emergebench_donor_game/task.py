"""The ``donor-game`` task: one sample is one whole seeded simulation of cultural evolution."""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from emergebench import (
    MetricPair,
    Sample,
    SampleOutput,
    SampleScore,
    ScoreContext,
    SolveContext,
    Task,
)

from .engine import EncounterView
from .metrics import DonorMetrics
from .model_agents import agents_for, prompt_set
from .report import sample_score, simulation_from_output, simulation_output
from .settings import DonorGameArgs, GameRules
from .simulation import simulate


class DonorGame(Task[DonorGameArgs]):
    name: ClassVar[str] = "donor-game"
    version: ClassVar[str] = "1.1"
    description: ClassVar[str] = (
        "Iterated Donor Game with cultural evolution (Vallinder and Hughes 2024): generations of agents "
        "played by the model donate to each other seeing a short trace of their partner's behaviour; the "
        "best half survive and newcomers write strategies from theirs. Score: the society's final resources."
    )
    Args: ClassVar[type[DonorGameArgs]] = DonorGameArgs
    main_metric: ClassVar[str] = "final_resources"
    format_failure_metric: ClassVar[str | None] = "failed_share"
    # shares of donations the model's replies spoiled: smaller is better
    lower_is_better: ClassVar[frozenset[str]] = frozenset({"invalid_share", "failed_share"})
    # "cooperative": the society ends with at least the run's starting endowment per agent on average
    # (its ``endowment`` argument; 10, the default, for runs that do not record it)
    metric_pairs: ClassVar[tuple[MetricPair, ...]] = (
        MetricPair(headline="cooperative", continuous="final_resources", threshold=10.0, threshold_arg="endowment"),
    )
    demo_args: ClassVar[dict[str, Any] | None] = {
        "population": 2,
        "generations": 2,  # two points: the report's per-generation view draws a curve
        "max_tokens": 96,
        "max_attempts": 1,
        "constrained": "auto",
    }
    demo_limit: ClassVar[int | None] = 1
    # the answer is a summary of a whole simulation: no generic grader can judge it
    answer_gradable: ClassVar[bool] = False

    def dataset(self, seed: int) -> list[Sample]:
        settings = self.args.model_dump(mode="json", exclude={"runs"})
        return [Sample(id=f"run-{i}", input=settings) for i in range(1, self.args.runs + 1)]

    async def solve(self, sample: Sample, ctx: SolveContext) -> SampleOutput:
        """Play one whole simulation; every record of it is the stored output."""
        rules = GameRules.from_args(self.args)
        agents = agents_for(ctx.model, self.args, ctx.seed)
        result = await simulate(
            rules,
            agents,
            generations=self.args.generations,
            selection=self.args.selection,
            rng=ctx.rng,
            shuffle=self.args.shuffle,
            show_scores=self.args.show_scores,
        )
        output = simulation_output(result)
        # what the simulation cost is part of its record: a re-scoring run makes none of these calls
        output.data["usage"] = {
            "model_calls": len(ctx.calls),
            "input_tokens": sum(c.usage.input_tokens for c in ctx.calls),
            "output_tokens": sum(c.usage.output_tokens for c in ctx.calls),
        }
        return output

    async def score(self, sample: Sample, output: SampleOutput, ctx: ScoreContext) -> SampleScore:
        """Resources, donation shares and per-generation rows, recomputed from the stored simulation."""
        return sample_score(simulation_from_output(output.data))

    def metric_accumulator(self) -> DonorMetrics:
        return DonorMetrics()

    def provenance(self) -> dict[str, Any]:
        """A fingerprint of the prompts as configured, so prompt edits are visible in the registry."""
        prompts = prompt_set(self.args)
        view = EncounterView(1, 1, 1, "1_1", "1_7", 10, 10, "1_7 did not have any previous interactions.")
        text = "\n".join(
            [
                prompts.system() if self.args.system_prompt == "send" else "",
                prompts.first_strategy("1_1"),
                prompts.inherited_strategy("2_1", 2, ["My strategy will be x."], None),
                prompts.donation(view, "My strategy will be x."),
            ]
        )
        return {"prompts_sha256": hashlib.sha256(text.encode()).hexdigest(), **prompts.provenance()}
