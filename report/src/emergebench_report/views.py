"""Per-task report views contributed by plugins through the ``register_report_views`` hook, and the
helpers first-party views share (a mean with a bootstrap interval per group, a line with a band)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb
from emergebench.plugins import get_manager

from .formats import AXIS_FORMAT, TOOLTIP_FORMAT
from .pooled import POOLED_STATUSES

# A view sees at most this many samples per task (newest runs first), so a huge registry stays fast.
MAX_VIEW_SAMPLES = 20_000


@dataclass(frozen=True)
class ViewSample:
    """One pooled sample as a view sees it."""

    run_id: str
    model_id: str
    family: str | None
    parameters: int | None
    task: str
    task_version: str
    sample_id: str
    epoch: int
    scores: dict[str, float]
    metadata: dict[str, Any]
    target: Any = None
    error: str | None = None


@dataclass(frozen=True)
class ReportView:
    """``task`` is a task name or a prefix ending in ``/``; ``build`` returns an Altair chart or None."""

    task: str
    title: str
    build: Callable[[list[ViewSample]], Any]
    description: str = ""

    def matches(self, task: str) -> bool:
        return task.startswith(self.task) if self.task.endswith("/") else task == self.task


def collect_views() -> list[ReportView]:
    """Every registered view; a plugin whose hook raises is reported by the plugin manager and skipped."""
    views: list[ReportView] = []

    def register(view: Any, *_: Any, **__: Any) -> None:
        if not isinstance(view, ReportView):
            raise TypeError(f"register_report_views expects ReportView(...), got {view!r}")
        views.append(view)

    for _plugin, _ in get_manager().call_guarded("register_report_views", register=register):
        pass
    return views


_SAMPLES = """
WITH picked AS (
  SELECT sm.run_id, sm.sample_id, sm.epoch, CAST(sm.metadata AS VARCHAR) AS metadata,
         CAST(sm.target AS VARCHAR) AS target, sm.error, r.model_id, r.task, r.task_version,
         coalesce(r.finished_at, r.started_at) AS run_time
  FROM samples sm JOIN runs r USING (run_id)
  WHERE r.task = $task AND r.status IN (SELECT unnest($statuses))
  ORDER BY run_time DESC, sm.run_id, sm.sample_id, sm.epoch
  LIMIT $limit
),
sc AS (
  SELECT s.run_id, s.sample_id, s.epoch, map_from_entries(list(struct_pack(k := s.name, v := s.value))) AS scores
  FROM scores s JOIN picked p USING (run_id, sample_id, epoch) GROUP BY ALL
)
SELECT p.run_id, p.model_id, m.family, m.parameters, p.task, p.task_version, p.sample_id, p.epoch,
       p.metadata, p.target, p.error, sc.scores
FROM picked p LEFT JOIN sc USING (run_id, sample_id, epoch) LEFT JOIN models m USING (model_id)
ORDER BY p.run_time DESC, p.run_id, p.sample_id, p.epoch
"""


def _json(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def view_samples(con: duckdb.DuckDBPyConnection, task: str, limit: int = MAX_VIEW_SAMPLES) -> list[ViewSample]:
    rows = con.execute(_SAMPLES, {"task": task, "statuses": list(POOLED_STATUSES), "limit": limit}).fetchall()
    out = []
    for run_id, model, family, params, task_name, version, sample_id, epoch, meta, target, error, scores in rows:
        metadata = _json(meta)
        out.append(
            ViewSample(
                run_id=run_id,
                model_id=model,
                family=family,
                parameters=params,
                task=task_name,
                task_version=version,
                sample_id=sample_id,
                epoch=epoch,
                scores=dict(scores or {}),
                metadata=metadata if isinstance(metadata, dict) else {},
                target=_json(target),
                error=error,
            )
        )
    return out


def model_label(sample: ViewSample) -> str:
    """What views put in a legend: the model id, with its size when known."""
    from emergebench_registry.query import human_params

    size = human_params(sample.parameters)
    return f"{sample.model_id} ({size})" if size else sample.model_id


def summarise(rows: list[dict[str, Any]], keys: tuple[str, ...], value: str, seed: int = 0) -> list[dict[str, Any]]:
    """Mean of ``value`` with a 95% bootstrap interval per distinct ``keys``: what band and bar views draw."""
    import numpy as np

    from .bootstrap import estimate

    groups: dict[tuple[Any, ...], list[float]] = {}
    for row in rows:
        v = row.get(value)
        if isinstance(v, int | float) and np.isfinite(v):
            groups.setdefault(tuple(row[k] for k in keys), []).append(float(v))
    rng = np.random.default_rng(seed)
    out = []
    for key, values in sorted(groups.items(), key=lambda kv: tuple(str(x) for x in kv[0])):
        distinct, counts = np.unique(np.array(values), return_counts=True)
        est = estimate(distinct, counts, rng, resamples=500)
        row = dict(zip(keys, key, strict=True))
        out.append({**row, value: est.mean, "ci_low": est.ci_low, "ci_high": est.ci_high, "n": est.n})
    return out


def band_chart(summary: list[dict[str, Any]], x: str, y: str, series: str, x_title: str, y_title: str) -> Any:
    """A line per series with its 95% interval as a band (the Donor Game paper's figure style)."""
    import altair as alt

    base = alt.Chart(alt.Data(values=summary)).encode(
        x=alt.X(f"{x}:Q", title=x_title, axis=alt.Axis(format=AXIS_FORMAT)),
        color=alt.Color(f"{series}:N", title=series),
    )
    y_axis = alt.Axis(format=AXIS_FORMAT)
    band = base.mark_area(opacity=0.25).encode(y=alt.Y("ci_low:Q", title=y_title, axis=y_axis), y2="ci_high:Q")
    line = base.mark_line(point=True).encode(
        y=alt.Y(f"{y}:Q", title=y_title, axis=y_axis),
        tooltip=[f"{series}:N", f"{x}:Q", alt.Tooltip(f"{y}:Q", format=TOOLTIP_FORMAT), "n:Q"],
    )
    return alt.layer(band, line).properties(width=360, height=240)
