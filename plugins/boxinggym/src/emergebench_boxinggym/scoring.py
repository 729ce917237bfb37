"""Turning predictions into raw and standardized errors, in fixed or paper mode (spec 4.1-4.2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .envs.base import Goal, Mode
from .norms import fixed_norm

PAPER_REGRET_CLIP = {"location_finding": (0.0, 50000.0, 1000.0)}  # (low, high, divisor) of per-step regrets
PAPER_REGRET_STEPS = {"irt": 9}  # the reference averages only the first 9 successful IRT steps


@dataclass
class Scored:
    error: float  # fixed: mean item error; paper: the reference's raw number (accuracy for most class goals)
    z: float
    item_errors: list[float]


def norm_constants(goal: Goal, mode: Mode) -> tuple[float, float]:
    return goal.paper_norm if mode == "paper" else fixed_norm(goal.env.key, goal.name)


def score(goal: Goal, predictions: list[Any], truths: list[Any], mode: Mode) -> Scored:
    items = [goal.item_error(p, t) for p, t in zip(predictions, truths, strict=True)]
    mu, sigma = norm_constants(goal, mode)
    if mode == "fixed":
        error = float(np.mean(items))
        return Scored(error, (error - mu) / sigma, items)
    raw = goal.paper_raw(items)
    clip = getattr(goal, "paper_clip", None)
    if clip is not None:
        raw = float(np.clip(raw, *clip))
    z = (raw - mu) / sigma
    if goal.kind == "class" and goal.paper_reports_accuracy:
        z = 1.0 - z  # the notebooks flip accuracy-valued goals so that lower is better
    return Scored(raw, float(z), items)


def regret_summary(env_key: str, regrets: list[float], mode: Mode) -> float | None:
    """Mean regret over a trajectory's successful steps, with the reference's transforms in paper mode."""
    values = [r for r in regrets if np.isfinite(r)]
    if mode == "paper":
        values = values[: PAPER_REGRET_STEPS.get(env_key, len(values))]
        if env_key in PAPER_REGRET_CLIP:
            low, high, div = PAPER_REGRET_CLIP[env_key]
            values = [float(np.clip(v, low, high)) / div for v in values]
    return float(np.mean(values)) if values else None
