"""The ``donor-game`` task: one sample is one whole seeded simulation of cultural evolution."""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from emergebench import Metric, Sample, SampleResult, SampleScore, SolveContext, Task

from .engine import EncounterView
from .metrics import donor_metrics
from .model_agents import ModelAgents
from .prompts import donation_prompt, first_strategy_prompt, inherited_strategy_prompt, system_prompt
from .report import sample_score
from .settings import DonorGameArgs, GameRules
from .simulation import simulate


class DonorGame(Task):
    name: ClassVar[str] = "donor-game"
    version: ClassVar[str] = "1.0"
    description: ClassVar[str] = (
        "Iterated Donor Game with cultural evolution (Vallinder and Hughes 2024): generations of agents "
        "played by the model donate to each other seeing a short trace of their partner's behaviour; the "
        "best half survive and newcomers write strategies from theirs. Score: the society's final resources."
    )
    Args: ClassVar[type[DonorGameArgs]] = DonorGameArgs
    main_metric: ClassVar[str] = "final_resources"
    demo_args: ClassVar[dict[str, Any] | None] = {
        "population": 2,
        "generations": 1,
        "max_tokens": 32,
        "max_attempts": 1,
    }
    demo_limit: ClassVar[int | None] = 1

    args: DonorGameArgs

    def dataset(self, seed: int) -> list[Sample]:
        settings = self.args.model_dump(mode="json", exclude={"runs"})
        return [Sample(id=f"run-{i}", input=settings) for i in range(1, self.args.runs + 1)]

    async def solve(self, sample: Sample, ctx: SolveContext) -> SampleScore:
        rules = GameRules.from_args(self.args)
        agents = ModelAgents(
            ctx.model,
            rules,
            seed=ctx.seed,
            temperature=self.args.temperature,
            max_tokens=self.args.max_tokens,
            max_attempts=self.args.max_attempts,
        )
        result = await simulate(
            rules,
            agents,
            generations=self.args.generations,
            selection=self.args.selection,
            rng=ctx.rng,
            shuffle=self.args.shuffle,
            show_scores=self.args.show_scores,
        )
        return sample_score(result)

    def metrics(self, results: list[SampleResult]) -> list[Metric]:
        return donor_metrics(results)

    def provenance(self) -> dict[str, Any]:
        """A fingerprint of the prompts as configured, so prompt edits are visible in the registry."""
        rules = GameRules.from_args(self.args)
        view = EncounterView(1, 1, 1, "1_1", "1_7", 10, 10, "1_7 did not have any previous interactions.")
        text = "\n".join(
            [
                system_prompt(rules),
                first_strategy_prompt("1_1", rules),
                inherited_strategy_prompt("2_1", rules, ["My strategy will be x."], None),
                donation_prompt(view, "My strategy will be x.", rules),
            ]
        )
        return {"prompts_sha256": hashlib.sha256(text.encode()).hexdigest()}
