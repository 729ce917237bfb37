"""Reading pooled per-sample scores out of the registry, grouped into comparable curves.

Runs are pooled only when they computed the same thing: same task, task version, task arguments,
grader and judge model (the "comparison key"). Within a key, per-sample metadata named by the
task's ``group_by`` (Skill-Mix's ``k``) splits samples into groups that are never pooled. Local and
pulled runs are read alike: they are rows of the same tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import duckdb
import numpy as np
import pyarrow as pa
from emergebench_registry.query import origin_sql

# Run statuses whose samples are pooled; others are counted and reported as skipped.
POOLED_STATUSES = ("complete", "partial")


class CurveKey(NamedTuple):
    """What makes runs comparable, plus the group (a tuple: hashed in C, as every cell is keyed by it)."""

    task: str
    task_version: str
    task_args: str
    grader: str
    grader_model: str
    group: str  # '' or e.g. 'k=3'


@dataclass
class Cell:
    """One model's scores of one metric on one curve, summarised: the pooled samples' count ``n`` and
    sum ``total``; ``values`` (sorted) only when some score is not 0 or 1, since a 0/1 cell's interval
    needs nothing but n and its number of ones (see bootstrap.py)."""

    key: CurveKey
    model_id: str
    metric: str
    n: int
    total: float
    values: np.ndarray | None  # None: every score is 0 or 1 (then ``total`` is the number of ones)
    runs: int
    derived: bool = False  # computed from a metric pair's threshold, not stored
    origins: tuple[str, ...] = ()  # where the pooled runs came from: native, inspect, lm-eval, helm, eee

    @property
    def binary(self) -> bool:
        return self.values is None


@dataclass
class ModelMeta:
    family: str | None
    parameters: int | None


@dataclass
class Pool:
    cells: list[Cell]
    models: dict[str, ModelMeta]
    skipped: dict[str, int] = field(default_factory=dict)  # status -> number of runs left out


_RUNS = """
SELECT run_id, model_id, task, task_version, coalesce(CAST(task_args AS VARCHAR), '{}') AS task_args,
       coalesce(grader, '') AS grader, coalesce(grader_model, '') AS grader_model, {origin} AS origin
FROM runs WHERE status IN (SELECT unnest($statuses)) AND ($tasks IS NULL OR list_contains($tasks, task))
"""

# Scores are summarised per (run, group, metric) first, where the grouping is cheap (two short keys
# instead of eight text columns), then the few thousand summaries are pooled per comparison key.
# Only cells with a score other than 0 or 1 carry their values to Python.
_CELLS = """
WITH r AS ({runs}),
per_run AS (
  SELECT s.run_id, {group} AS grp, s.name AS metric, count(*) AS n, sum(s.value) AS total,
         count(*) FILTER (WHERE s.value <> 0 AND s.value <> 1) AS other, list(s.value) AS vals
  FROM scores s {join}
  WHERE s.value IS NOT NULL AND isfinite(s.value) AND s.run_id IN (SELECT run_id FROM r {where})
  GROUP BY ALL
)
SELECT r.task, r.task_version, r.task_args, r.grader, r.grader_model, p.grp, r.model_id, p.metric,
       sum(p.n) AS n, sum(p.total) AS total,
       CASE WHEN sum(p.other) > 0 THEN list_sort(flatten(list(p.vals))) END AS vals
FROM per_run p JOIN r USING (run_id)
GROUP BY ALL
"""


def _group_expr(keys: Iterable[str]) -> str:
    parts = [f"'{k}=' || coalesce(json_extract_string(sm.metadata, '$.\"{k}\"'), '?')" for k in keys]
    return " || ',' || ".join(parts)


def load_pool(
    con: duckdb.DuckDBPyConnection,
    group_by: dict[str, tuple[str, ...]],
    tasks: list[str] | None = None,
    statuses: tuple[str, ...] = POOLED_STATUSES,
) -> Pool:
    """Every (curve, model, metric) cell of the registry; ``group_by`` maps task -> metadata keys."""
    params: dict[str, Any] = {"statuses": list(statuses), "tasks": tasks}
    runs_sql = _RUNS.replace("{origin}", origin_sql())
    cells: list[Cell] = []
    grouped = {t: keys for t, keys in group_by.items() if keys and (tasks is None or t in tasks)}
    plain_where = "WHERE task NOT IN (SELECT unnest($grouped))" if grouped else ""
    queries = [
        (
            _CELLS.format(runs=runs_sql, group="''", join="", where=plain_where),
            {**params, "grouped": list(grouped)} if grouped else params,
        )
    ]
    for task, keys in grouped.items():
        sql = _CELLS.format(
            runs=runs_sql,
            group=_group_expr(keys),
            join="JOIN samples sm ON sm.run_id = s.run_id AND sm.sample_id = s.sample_id AND sm.epoch = s.epoch",
            where="WHERE task = $task",
        )
        queries.append((sql, {**params, "task": task}))
    for sql, args in queries:
        table = con.sql(sql, params=args).to_arrow_table()
        cells += _cells_from_arrow(table)
    run_counts = {
        (row[0], row[1], row[2], row[3], row[4], row[5]): (row[6], tuple(row[7]))
        for row in con.execute(
            "SELECT task, task_version, task_args, grader, grader_model, model_id, count(*), "
            "list(DISTINCT origin ORDER BY origin) "
            f"FROM ({runs_sql}) GROUP BY ALL",
            params,
        ).fetchall()
    }
    for cell in cells:
        k = cell.key
        key = (k.task, k.task_version, k.task_args, k.grader, k.grader_model, cell.model_id)
        cell.runs, cell.origins = run_counts.get(key, (0, ()))
    models = {
        row[0]: ModelMeta(row[1], row[2])
        for row in con.execute("SELECT model_id, family, parameters FROM models").fetchall()
    }
    skipped = dict(
        con.execute(
            "SELECT status, count(*) FROM runs WHERE status NOT IN (SELECT unnest($s)) "
            "AND ($tasks IS NULL OR list_contains($tasks, task)) GROUP BY status ORDER BY status",
            {"s": list(statuses), "tasks": tasks},
        ).fetchall()
    )
    return Pool(cells, models, skipped)


def _cells_from_arrow(table: pa.Table) -> list[Cell]:
    if table.num_rows == 0:
        return []
    table = table.combine_chunks()
    vals = table.column("vals").chunk(0)
    flat = vals.values.to_numpy(zero_copy_only=False).astype(float)  # the offsets index this child array
    offsets = vals.offsets.to_numpy()
    has_values = vals.is_valid().to_numpy(zero_copy_only=False)
    names = ("task", "task_version", "task_args", "grader", "grader_model", "grp", "model_id", "metric")
    columns = [table.column(name).to_pylist() for name in names]
    n = table.column("n").to_numpy()
    total = table.column("total").to_numpy()
    keys: dict[tuple[str, ...], CurveKey] = {}
    out = []
    for i, row in enumerate(zip(*columns, strict=True)):
        key = keys.get(row[:6]) or keys.setdefault(row[:6], CurveKey(*row[:6]))
        # the lists come sorted (list_sort): DuckDB's list order varies, the seeded bootstrap must not
        values = flat[offsets[i] : offsets[i + 1]] if has_values[i] else None
        out.append(Cell(key, row[6], row[7], int(n[i]), float(total[i]), values, 0))
    return out
