"""A deterministic scripted scientist for tests and benchmarks, used through the core's
``scripted/function`` model: ``-M function=emergebench_boxinggym.scripted:constant_scientist``.

It designs experiments from a fixed random stream and always gives the same answer (the first
class label, or 0), so on balanced evaluation sets its error is known exactly.
"""

from __future__ import annotations

import numpy as np
from emergebench import GenerateConfig, Message
from emergebench.context import current_context

CONSTANT_ANSWER = {"moral_machines": "1", "emotion": "\n".join(f"{e}: 5/9" for e in (
    "Happiness", "Sadness", "Anger", "Surprise", "Fear", "Disgust", "Contentment", "Disappointment"))}  # fmt: skip
SOURCE_ANSWER = "[[0, 0], [0, 0], [0, 0]]"
LV_ANSWER = "[0, 0]"


def constant_answer(env_key: str, goal_name: str) -> str:
    if env_key == "location_finding" and goal_name == "source":
        return SOURCE_ANSWER
    if env_key == "lotka_volterra":
        return LV_ANSWER
    return CONSTANT_ANSWER.get(env_key, "0")


def constant_scientist(messages: list[Message], config: GenerateConfig) -> str:
    ctx = current_context.get()
    traj = ctx.state.get("boxinggym") if ctx is not None else None
    if traj is None:
        raise RuntimeError("constant_scientist only answers inside a boxinggym task")
    kind, payload = traj.lookup(messages) or ("unknown", None)
    if kind == "experiment":
        design = traj.env.random_design(np.random.default_rng(1000 + len(traj.experiments)))
        return f"<thought>scripted</thought><observe>{traj.env.format_design(design)}</observe>"
    if kind == "phrase":
        return traj.env.format_observation(payload)
    if kind == "explain":
        return "The response does not depend on the input."
    return f"<answer>{constant_answer(traj.env.key, traj.goal.name)}</answer>"
