"""Scaling analysis: per (curve, metric, model) a mean with a bootstrap interval, and per curve the
emergence diagnostics, with metric pairs shown side by side."""

from __future__ import annotations

import functools
import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from emergebench.metric_pairs import MetricPair

from .bootstrap import DEFAULT_RESAMPLES, binary_estimates, shared_weight_estimates
from .diagnostics import Diagnosis, diagnose_many, pair_verdict
from .pooled import Cell, CurveKey, Pool

UNKNOWN_FAMILY = "unknown"


@dataclass
class Point:
    key: CurveKey
    metric: str
    model_id: str
    family: str
    parameters: int | None
    n: int
    runs: int
    mean: float
    ci_low: float
    ci_high: float
    role: str = ""  # "headline" or "continuous" when the metric is part of a declared pair
    partner: str = ""
    derived: bool = False  # a headline computed from its continuous partner's threshold
    origin: str = ""  # where the pooled runs came from ("native", "inspect", "inspect, native", ...)


@dataclass
class Curve:
    key: CurveKey
    metric: str
    family: str
    role: str
    points: list[Point]
    diagnosis: Diagnosis


@dataclass
class Analysis:
    points: list[Point]
    curves: list[Curve]
    pairs: list[tuple[Curve, Curve, str]]
    skipped: dict[str, int] = field(default_factory=dict)
    unplaced_models: list[str] = field(default_factory=list)  # models without a parameter count


def _passes(pair: MetricPair, cut: float, value: Any) -> Any:
    """Whether a continuous score (or an array of them) reaches the cut."""
    return value <= cut if pair.lower_is_better else value >= cut


@functools.lru_cache(maxsize=4096)
def _task_args(text: str) -> dict[str, Any]:
    try:
        args = json.loads(text) if text else {}
    except ValueError:
        return {}
    return args if isinstance(args, dict) else {}


def _derive(cells: list[Cell], pairs: dict[str, list[MetricPair]]) -> list[Cell]:
    """Add headline cells derived from continuous ones where a pair has a threshold and no headline score."""
    have = {(c.key, c.model_id, c.metric) for c in cells}
    extra = []
    for cell in cells:
        for pair in pairs.get(cell.key.task, ()):
            cut = pair.threshold_for(_task_args(cell.key.task_args))  # the run's own cut where it has one
            if cut is None or cell.metric != pair.continuous:
                continue
            if (cell.key, cell.model_id, pair.headline) in have:
                continue
            if cell.values is not None:
                ones = float(np.count_nonzero(_passes(pair, cut, cell.values)))
            else:  # a 0/1 cell: its ones and its zeros each pass or fail together
                ones = (cell.total if _passes(pair, cut, 1.0) else 0.0) + (
                    cell.n - cell.total if _passes(pair, cut, 0.0) else 0.0
                )
            extra.append(
                Cell(cell.key, cell.model_id, pair.headline, cell.n, ones, None, cell.runs, True, cell.origins)
            )
            have.add((cell.key, cell.model_id, pair.headline))
    return cells + extra


def _estimate_cells(cells: list[Cell], resamples: int, seed: int) -> list[tuple[float, float, float, int]]:
    """Mean and 95% percentile-bootstrap interval of every cell (0/1 cells in closed form, see bootstrap.py)."""
    rng = np.random.default_rng(seed)
    out: list[tuple[float, float, float, int] | None] = [None] * len(cells)
    binary = [i for i, c in enumerate(cells) if c.values is None]
    if binary:
        ones = np.array([cells[i].total for i in binary])
        totals = np.array([cells[i].n for i in binary], dtype=float)
        mean, low, high = binary_estimates(ones, totals)
        for j, i in enumerate(binary):
            out[i] = (float(mean[j]), float(low[j]), float(high[j]), int(totals[j]))
    rest = [i for i, value in enumerate(out) if value is None]
    samples = [cells[i].values for i in rest]
    for i, est in zip(rest, shared_weight_estimates(samples, rng, resamples), strict=True):  # type: ignore[arg-type]
        out[i] = (est.mean, est.ci_low, est.ci_high, est.n)
    return out  # type: ignore[return-value]


def _roles(pairs: dict[str, list[MetricPair]]) -> dict[tuple[str, str], tuple[str, str]]:
    roles = {}
    for task, declared in pairs.items():
        for pair in declared:
            roles[(task, pair.headline)] = ("headline", pair.continuous)
            roles[(task, pair.continuous)] = ("continuous", pair.headline)
    return roles


def analyze(
    pool: Pool,
    pairs: dict[str, list[MetricPair]] | None = None,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    diagnostics: bool = True,
    metrics: list[str] | None = None,
) -> Analysis:
    pairs = pairs or {}
    cells = _derive(pool.cells, pairs)
    if metrics:
        wanted = set(metrics)
        cells = [c for c in cells if c.metric in wanted]
    cells.sort(key=lambda c: (c.key.task, c.key.task_version, c.key.task_args, c.key.group, c.metric, c.model_id))
    roles = _roles(pairs)
    points = []
    for cell, (mean, low, high, n) in zip(cells, _estimate_cells(cells, resamples, seed), strict=True):
        meta = pool.models.get(cell.model_id)
        role, partner = roles.get((cell.key.task, cell.metric), ("", ""))
        points.append(
            Point(
                key=cell.key,
                metric=cell.metric,
                model_id=cell.model_id,
                family=(meta.family if meta and meta.family else UNKNOWN_FAMILY),
                parameters=meta.parameters if meta and meta.parameters and meta.parameters > 0 else None,
                n=n,
                runs=cell.runs,
                mean=mean,
                ci_low=low,
                ci_high=high,
                role=role,
                partner=partner,
                derived=cell.derived,
                origin=", ".join(cell.origins),
            )
        )
    curves = build_curves(points, diagnostics)
    unplaced = sorted({p.model_id for p in points if p.parameters is None})
    return Analysis(points, curves, pair_curves(curves), dict(pool.skipped), unplaced)


def build_curves(points: list[Point], diagnostics: bool = True) -> list[Curve]:
    by_curve: dict[tuple[CurveKey, str, str], list[Point]] = defaultdict(list)
    for p in points:
        if p.parameters is not None:
            by_curve[(p.key, p.metric, p.family)].append(p)
    groups = list(by_curve.items())
    for _, pts in groups:
        pts.sort(key=lambda p: (p.parameters, p.model_id))
    diagnoses = [Diagnosis(len(pts), verdict="not computed") for _, pts in groups]
    if diagnostics:
        # curves over the same models share the logistic grid: diagnosed together (diagnose_many)
        by_x: dict[bytes, list[int]] = defaultdict(list)
        xs = [np.log10(np.array([p.parameters for p in pts], dtype=float)) for _, pts in groups]
        for i, x in enumerate(xs):
            by_x[x.tobytes()].append(i)
        for members in by_x.values():
            ys = [np.array([p.mean for p in groups[i][1]]) for i in members]
            ses = [np.array([(p.ci_high - p.ci_low) / (2 * 1.959963984540054) for p in groups[i][1]]) for i in members]
            for i, diagnosis in zip(members, diagnose_many(xs[members[0]], ys, ses), strict=True):
                diagnoses[i] = diagnosis
    return [
        Curve(key, metric, family, pts[0].role, pts, diagnosis)
        for ((key, metric, family), pts), diagnosis in zip(groups, diagnoses, strict=True)
    ]


def pair_curves(curves: list[Curve]) -> list[tuple[Curve, Curve, str]]:
    index = {(c.key, c.metric, c.family): c for c in curves}
    out = []
    for c in curves:
        if c.role != "headline":
            continue
        partner = index.get((c.key, c.points[0].partner, c.family))
        if partner is not None:
            out.append((c, partner, pair_verdict(c.diagnosis, partner.diagnosis)))
    return out


def args_label(key: CurveKey) -> str:
    """Short, stable text for the comparison key's arguments (task args, grader, judge)."""
    return _args_label(key.task_args, key.grader, key.grader_model)


@functools.lru_cache(maxsize=4096)
def _args_label(task_args: str, grader: str, grader_model: str) -> str:
    try:
        args = json.loads(task_args) if task_args else {}
    except ValueError:
        args = {"raw": task_args}
    if not isinstance(args, dict):
        args = {"raw": args}
    parts = [f"{k}={json.dumps(v, sort_keys=True) if not isinstance(v, str) else v}" for k, v in sorted(args.items())]
    if grader:
        parts.append(f"grader={grader}")
    if grader_model:
        parts.append(f"judge={grader_model}")
    return " ".join(parts)


def _r(value: float | None, digits: int = 4) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, digits)


POINT_COLUMNS = [
    "task",
    "task_version",
    "args",
    "group",
    "metric",
    "role",
    "family",
    "model_id",
    "parameters",
    "n",
    "runs",
    "mean",
    "ci_low",
    "ci_high",
    "derived",
    "origin",
]
FIT_COLUMNS = [
    "task",
    "task_version",
    "args",
    "group",
    "metric",
    "role",
    "family",
    "n_models",
    "verdict",
    "delta_aic",
    "breakpoint_params",
    "breakpoint_low_params",
    "breakpoint_high_params",
    "width_decades",
    "linearity",
    "breakthroughness",
]
PAIR_COLUMNS = [
    "task",
    "task_version",
    "args",
    "group",
    "family",
    "headline",
    "headline_verdict",
    "continuous",
    "continuous_verdict",
    "reading",
]


def point_rows(result: Analysis) -> list[tuple]:
    return [
        (
            p.key.task,
            p.key.task_version,
            args_label(p.key),
            p.key.group,
            p.metric,
            p.role,
            p.family,
            p.model_id,
            p.parameters,
            p.n,
            p.runs,
            _r(p.mean, 6),
            _r(p.ci_low, 6),
            _r(p.ci_high, 6),
            p.derived,
            p.origin,
        )
        for p in result.points
    ]


def _params(x: float | None) -> float | None:
    return None if x is None else float(f"{10**x:.3g}")


def fit_rows(result: Analysis) -> list[tuple]:
    rows = []
    for c in result.curves:
        d = c.diagnosis
        rows.append(
            (
                c.key.task,
                c.key.task_version,
                args_label(c.key),
                c.key.group,
                c.metric,
                c.role,
                c.family,
                d.n_models,
                d.verdict,
                _r(d.delta_aic, 2),
                _params(d.breakpoint),
                _params(d.breakpoint_low),
                _params(d.breakpoint_high),
                _r(d.width, 3),
                _r(d.linearity, 3),
                _r(d.breakthroughness, 3),
            )
        )
    return rows


def pair_rows(result: Analysis) -> list[tuple]:
    return [
        (
            h.key.task,
            h.key.task_version,
            args_label(h.key),
            h.key.group,
            h.family,
            h.metric,
            h.diagnosis.verdict,
            c.metric,
            c.diagnosis.verdict,
            reading,
        )
        for h, c, reading in result.pairs
    ]
