"""Baseline scientists registered as models (``boxinggym/random-design``, ``boxinggym/prior-mean``).

They answer from the running trajectory (``current_context.get().state["boxinggym"]``), never
from text, so they are exact references: ``prior-mean`` is the predictor that defines the fixed-mode
normalisation (its z is 0 in expectation) and ``random-design`` is a Bayesian observer that picks
designs at random and predicts with the posterior-predictive mean.
"""

from __future__ import annotations

from typing import Any

from emergebench import GenerateConfig, Message, Model, ModelError, ModelInfo, ModelOutput, ModelProvider, UsageError
from emergebench.context import current_context

from .trajectory import Trajectory, posterior_prediction

NAMES = {
    "random-design": "random designs; posterior-predictive-mean predictions",
    "prior-mean": "random designs; prior-predictive-mean (or majority-class) predictions",
}


class BaselineScientist(Model):
    def __init__(self, name: str, options: dict[str, Any]) -> None:
        if name not in NAMES:
            raise UsageError(f"unknown boxinggym baseline {name!r}: choose one of {', '.join(NAMES)}")
        info = ModelInfo(id=f"boxinggym/{name}", provider="boxinggym", name=name, family="baseline", args=options)
        super().__init__(info.id, info)
        self.use_data = name == "random-design"

    async def generate(self, messages: list[Message], config: GenerateConfig) -> ModelOutput:
        ctx = current_context.get()
        traj = ctx.state.get("boxinggym") if ctx is not None else None
        if not isinstance(traj, Trajectory):
            raise ModelError(f"{self.model_id} only answers inside a boxinggym/<env> task run")
        found = traj.lookup(messages)
        if found is None:
            last_user = next((m.content for m in reversed(messages) if m.role == "user"), "")
            raise ModelError(f"{self.model_id} got a prompt the trajectory did not send: {last_user[:80]!r}")
        kind, payload = found
        return ModelOutput(text=await self._reply(traj, kind, payload), finish_reason="stop")

    async def _reply(self, traj: Trajectory, kind: str, payload: Any) -> str:
        env, goal = traj.env, traj.goal
        if kind == "experiment":
            design = env.format_design(env.random_design(traj.baseline_rng))
            return f"<thought>a random design</thought>\n<observe>{design}</observe>"
        if kind == "phrase":
            return env.format_observation(payload)
        if kind == "explain":
            observed = "; ".join(f"{env.format_design(d)} -> {env.format_observation(y)}" for d, y in traj.data)
            return f"Observations so far: {observed}"
        use_data = self.use_data and kind == "predict"
        prediction = await posterior_prediction(traj, payload, use_data=use_data)
        return f"<answer>{goal.format_prediction(_rounded(prediction))}</answer>"


def _rounded(prediction: Any) -> Any:
    return round(prediction, 6) if isinstance(prediction, float) else prediction


def provider() -> ModelProvider:
    return ModelProvider(
        prefix="boxinggym",
        factory=lambda name, options: BaselineScientist(name, options),
        description="BoxingGym baseline scientists that read the running world (only inside boxinggym tasks)",
        known=list(NAMES),
        open_names=False,
        options_help={},
    )
