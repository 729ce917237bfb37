"""Metric pairs: a task's discontinuous headline score next to a continuous counterpart.

Schaeffer et al. (2023, "Are Emergent Abilities of Large Language Models a Mirage?") show that a
harsh metric (exact match, pass/fail) can make a smoothly improving ability look sudden. Declaring
both metrics of one output lets the analysis show them side by side and say under which one a
scaling curve looks emergent.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def is_lower_better(name: str, lower_is_better: Iterable[str]) -> bool:
    """Whether a metric or score named ``name`` is ranked ascending: it, or its base before ``@``
    (BoxingGym's per-budget ``z@10``), is among a task's ``lower_is_better`` names."""
    names = set(lower_is_better)
    return name in names or name.partition("@")[0] in names


class MetricPair(BaseModel):
    """A discontinuous per-sample score and the continuous score computed from the same outputs.

    ``headline`` and ``continuous`` name per-sample scores (keys of ``SampleScore.scores``). When a
    run has no ``headline`` score but ``threshold`` is set, the analysis derives it from the
    continuous one: 1 where ``continuous >= threshold`` (``<=`` when ``lower_is_better``), else 0.
    When the cut depends on how the run was configured (the Donor Game's starting endowment),
    ``threshold_arg`` names the task argument that holds it; ``threshold`` is then the fallback for
    runs whose arguments do not record it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    headline: str = Field(description="the discontinuous score, e.g. exact match or pass/fail")
    continuous: str = Field(description="its continuous counterpart, e.g. probability of the right answer")
    lower_is_better: bool = Field(False, description="True when a smaller continuous value is better (errors)")
    threshold: float | None = Field(None, description="derive the headline from the continuous score at this cut")
    threshold_arg: str | None = Field(
        None, description="a task argument whose value in each run is that run's cut (threshold: the fallback)"
    )
    description: str = ""

    def threshold_for(self, task_args: Mapping[str, Any] | None = None) -> float | None:
        """The cut for a run with these task arguments: its ``threshold_arg`` value when it is a number."""
        if self.threshold_arg and task_args:
            value = task_args.get(self.threshold_arg)
            if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
                return float(value)
        return self.threshold

    def derive(self, continuous_value: float, task_args: Mapping[str, Any] | None = None) -> float:
        """The headline score implied by a continuous value (needs a threshold)."""
        cut = self.threshold_for(task_args)
        if cut is None:
            raise ValueError(f"metric pair {self.headline}/{self.continuous} has no threshold to derive from")
        passed = continuous_value <= cut if self.lower_is_better else continuous_value >= cut
        return 1.0 if passed else 0.0
