"""Skill-Mix scoring (R ``aggregate_metrics.py`` defaults; spec section 5.6).

Per combination: points p[g][j][i] for generation round g, grading round j and rubric item i (k skills, then
topic, sense, sentence limit) -> per-item vote over j -> three metrics per generation -> best (or mean) over g.
Across combinations the task reports mean and standard error per k.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

Vote = Literal["majority", "average"]
AcrossGenerations = Literal["max", "mean"]
METRIC_NAMES = ("ratio_of_full_marks", "ratio_of_all_skills", "skill_fraction")
_EPS = 1e-9


def named_skills(answer: str, skills: Sequence[str]) -> list[bool]:
    """Which skills are named in the answer: the name before '(' as a lower-case substring (so 'metaphor'
    also matches 'metaphorical'), exactly the reference's explicit-name test."""
    text = answer.lower()
    flags = []
    for skill in skills:
        base = skill.split("(")[0].strip().lower()
        flags.append(bool(base) and base in text)
    return flags


def apply_name_penalty(points: Sequence[float], named: Sequence[bool]) -> list[float]:
    """Zero the point of every skill named explicitly in the text (the first k items)."""
    out = list(points)
    for i, hit in enumerate(named):
        if hit:
            out[i] = 0.0
    return out


def vote(rounds: Sequence[Sequence[float]], method: Vote = "majority") -> list[float]:
    """Per-item vote over grading rounds: the mean, rounded half to even for 'majority' (numpy rint)."""
    if not rounds:
        raise ValueError("vote needs at least one grading round")
    n_items = len(rounds[0])
    if any(len(r) != n_items for r in rounds):
        raise ValueError(f"grading rounds disagree on the number of items: {[len(r) for r in rounds]}")
    means = [math.fsum(r[i] for r in rounds) / len(rounds) for i in range(n_items)]
    if method == "average":
        return means
    return [float(round(m)) for m in means]  # Python's round() rounds halves to even, like numpy.rint


def generation_metrics(points: Sequence[float], k: int) -> dict[str, float]:
    """The three leaderboard metrics of one generation from its voted k+3 points."""
    if len(points) != k + 3:
        raise ValueError(f"expected {k + 3} points for k={k}, got {len(points)}")
    skills = math.fsum(points[:k])
    rest = math.fsum(points[k:])
    all_skills = abs(skills - k) < _EPS
    return {
        # all_points_earned_binary: every one of the k+3 points.
        "ratio_of_full_marks": float(abs(skills + rest - (k + 3)) < _EPS),
        # all_skills_and_good_rest: all k skill points and at least 2 of topic / sense / length.
        "ratio_of_all_skills": float(all_skills and rest >= 2 - _EPS),
        # average_over_skills_filtered: fraction of skill points, 0 unless topic, sense and length all earned.
        "skill_fraction": skills / k if abs(rest - 3) < _EPS else 0.0,
    }


def across_generations(
    per_generation: Sequence[dict[str, float]], method: AcrossGenerations = "max"
) -> dict[str, float]:
    """Each metric separately: the best generation (reference default) or the mean over generations."""
    if not per_generation:
        raise ValueError("no generations to aggregate")
    out = {}
    for name in METRIC_NAMES:
        values = [g[name] for g in per_generation]
        out[name] = max(values) if method == "max" else math.fsum(values) / len(values)
    return out
