"""Collecting metric pairs: each task's own ``metric_pairs`` plus those registered through the hook."""

from __future__ import annotations

from typing import Any

from emergebench.metric_pairs import MetricPair
from emergebench.plugins import get_manager


def collect_pairs() -> dict[str, list[MetricPair]]:
    """task name -> its metric pairs (the task's own first, then hook contributions, de-duplicated)."""
    manager = get_manager()
    out: dict[str, list[MetricPair]] = {}
    for name, cls in manager.catalog.tasks.items():
        out[name] = list(getattr(cls, "metric_pairs", ()) or ())

    def register(task: Any, pair: Any = None, *_: Any, **__: Any) -> None:
        if not isinstance(task, str) or not isinstance(pair, MetricPair):
            raise TypeError(f"register_metric_pairs expects register('task', MetricPair(...)), got {task!r}, {pair!r}")
        pairs = out.setdefault(task, [])
        if pair not in pairs:
            pairs.append(pair)

    for _plugin, _ in manager.call_guarded("register_metric_pairs", register=register):
        pass
    return out


def collect_group_by() -> dict[str, tuple[str, ...]]:
    """task name -> the per-sample metadata keys that split its curves (``Task.group_by``)."""
    return {
        name: tuple(getattr(cls, "group_by", ()) or ())
        for name, cls in get_manager().catalog.tasks.items()
        if getattr(cls, "group_by", ())
    }
