"""Turning predictions into raw and standardized errors, in fixed or paper mode (spec 4.1-4.2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .envs.base import EvalPoint, Goal, Mode
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


def checkpoint_errors(
    goal: Goal, points: list[EvalPoint], answers: list[str | None], mode: Mode
) -> tuple[Scored, list[str]]:
    """Errors of one checkpoint's stored answers (an unparsed answer counts as the prior's prediction),
    and the predictions scored, formatted."""
    parsed = [goal.parse(a) if a is not None else None for a in answers]
    prior = goal.env.sample_prior(np.random.default_rng(0), 2000)
    fallback_rng = np.random.default_rng(1)
    predictions = [
        p if p is not None else goal.baseline_prediction(point.query, prior, fallback_rng)
        for p, point in zip(parsed, points, strict=True)
    ]
    formatted = [goal.format_prediction(p) for p in predictions]
    return score(goal, predictions, [p.truth for p in points], mode), formatted


def score_trajectory(
    goal: Goal,
    points: list[EvalPoint],
    output: dict[str, Any],
    mode: Mode,
    eig_steps: list[dict[str, Any]] | None = None,
) -> tuple[dict[str, float], dict[str, Any]]:
    """Scores (``z@N``, ``err@N``, ``z_final``, EIG regret, ...) and per-checkpoint details from a
    stored trajectory (``Trajectory.output``) and its world's held-out questions. ``eig_steps`` are
    the successful experiments' EIGs (``eig_replay.replay_eig``); without them, the EIGs a trajectory
    stored with its experiments (runs solved before EIG moved to scoring) are used."""
    out: dict[str, float] = {}
    details: dict[str, Any] = {"checkpoints": []}
    checkpoints = output.get("checkpoints") or []
    for cp in checkpoints:
        scored, predictions = checkpoint_errors(goal, points, cp["answers"], mode)
        out[f"z@{cp['budget']}"], out[f"err@{cp['budget']}"] = scored.z, scored.error
        details["checkpoints"].append(
            {"budget": cp["budget"], "error": scored.error, "z": scored.z, "predictions": predictions}
        )
    comm = output.get("communication")
    final: tuple[float, float] | None = None
    if comm is not None:
        scored, predictions = checkpoint_errors(goal, points, comm["answers"], mode)
        out["z_comm"], out["err_comm"] = scored.z, scored.error
        details["communication"] = {"error": scored.error, "z": scored.z, "predictions": predictions}
        final = (scored.z, scored.error)
    elif checkpoints:
        final = (out[f"z@{checkpoints[-1]['budget']}"], out[f"err@{checkpoints[-1]['budget']}"])
    if final is not None:
        out["z_final"], out["err_final"] = final
        unparsed = comm["unparsed"] if comm is not None else sum(c["unparsed"] for c in checkpoints)
        asked = len(points) * (1 if comm is not None else len(checkpoints))
        out["unparsed_rate"] = unparsed / asked if asked else 0.0
    experiments = output.get("experiments") or []
    steps = eig_steps if eig_steps is not None else [e for e in experiments if e["success"]]
    summary = regret_summary(goal.env.key, [e["regret"] for e in steps if e.get("regret") is not None], mode)
    if summary is not None:
        out["eig_regret"] = summary
        out["eig"] = float(np.mean([e["eig"] for e in steps if e.get("eig") is not None]))
    if eig_steps is not None:
        details["eig"] = eig_steps
    out["success_rate"] = float(np.mean([e["success"] for e in experiments])) if experiments else 1.0
    return out, details
