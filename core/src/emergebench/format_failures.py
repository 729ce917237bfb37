"""How often a model's replies could not be read, per task: what ``emergebench demo`` prints last.

A benchmark's number means little when most replies were unreadable (a small model that ignores the
answer format). Each task names the metric that measures this (``Task.format_failure_metric``:
MARS's extraction failures, the Donor Game's failed decisions, Skill-Mix's grader parse failures,
BoxingGym's unparsed predictions); this module reads it from finished runs and prints one line per task.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .records import Metric

TARGET = 0.2  # the demo's goal: under 20% unreadable replies in every benchmark


@dataclass(frozen=True)
class FormatShare:
    task: str
    metric: str
    share: float | None  # None: the run produced no value for the metric
    n: int


def format_share(task: str, metrics: list[Metric], metric_name: str) -> FormatShare:
    """The metric over a whole run: its ungrouped value, else the n-weighted mean of its groups."""
    found = [m for m in metrics if m.name == metric_name and m.value is not None]
    overall = [m for m in found if m.group is None]
    if overall:
        return FormatShare(task, metric_name, overall[0].value, overall[0].n)
    n = sum(m.n for m in found)
    share = sum((m.value or 0.0) * m.n for m in found) / n if n else None
    return FormatShare(task, metric_name, share, n)


def print_format_shares(shares: list[FormatShare], echo: Callable[[str], None], model: str) -> None:
    if not shares:
        return
    echo(f"Replies from {model} that could not be read (target: under {TARGET:.0%} per task):")
    width = max(len(s.task) for s in shares)
    for s in shares:
        if s.share is None:
            echo(f"  {s.task:<{width}}  {s.metric}: no value (the run has no scored samples)")
            continue
        flag = "" if s.share < TARGET else "  above target"
        echo(f"  {s.task:<{width}}  {s.share:6.1%}  {s.metric} (n={s.n}){flag}")
