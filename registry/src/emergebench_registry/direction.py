"""Metric direction in the store: ``runs.lower_is_better`` (a JSON list of metric names, from the
task's ``Task.lower_is_better``) says which metrics rank ascending. A run stored before it was
recorded (null) ranks as higher-is-better, as every metric did then."""

from __future__ import annotations

import json

from emergebench.metric_pairs import is_lower_better

DOWN = "↓"
LEGEND = f"{DOWN} = lower is better (ranked ascending: errors, regret, Brier score); other metrics rank descending"


def lower_sql(names: str, metric: str) -> str:
    """SQL: whether ``metric`` (or its base before ``@``) is in the JSON list column ``names``."""
    listed = f"CAST(json_extract_string({names}, '$[*]') AS VARCHAR[])"
    return (
        f"coalesce(list_contains({listed}, {metric}) OR list_contains({listed}, split_part({metric}, '@', 1)), false)"
    )


def lower_names(cell: str | None) -> list[str]:
    """The names in a stored ``lower_is_better`` cell (validated on the way in; null: none)."""
    names = json.loads(cell) if cell else []
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []


def run_lower_is_better(cell: str | None, metric: str) -> bool:
    """Whether a run whose ``lower_is_better`` cell is ``cell`` ranks ``metric`` ascending."""
    return is_lower_better(metric, lower_names(cell))
