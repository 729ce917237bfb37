"""Paired comparison of two runs of one task: per-sample score differences on the samples both
runs finished, with the standard error and a 95% interval of the mean difference. Pairing removes
the between-sample variance that makes two independent means look further apart than they are
(Miller, "Adding Error Bars to Evals", 2024)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from emergebench.errors import UsageError
from emergebench.metrics import Z95

from .direction import run_lower_is_better
from .query import run_sql
from .store import Store


@dataclass
class Comparison:
    task: str
    task_version: str
    metric: str
    run_a: str
    run_b: str
    model_a: str
    model_b: str
    n_paired: int
    only_a: int
    only_b: int
    mean_a: float
    mean_b: float
    diff: float
    stderr: float | None
    p_value: float | None
    lower_is_better: bool = False

    @property
    def better(self) -> str:
        """Which run scored better on the paired mean ("A", "B" or "tie"), in the metric's direction."""
        if self.diff == 0:
            return "tie"
        return "B" if (self.diff < 0) == self.lower_is_better else "A"

    @property
    def ci(self) -> tuple[float, float] | None:
        if self.stderr is None:
            return None
        return self.diff - Z95 * self.stderr, self.diff + Z95 * self.stderr


def resolve_run(store: Store, ref: str, task: str | None) -> tuple[str, str, str, str, str | None]:
    """A run id (or unique prefix), or a model id whose latest finished run of ``task`` is meant."""
    rows = run_sql(
        store,
        "SELECT run_id, task, task_version, model_id, main_metric FROM runs WHERE starts_with(run_id, ?)",
        params=[ref],
    ).rows
    if not rows and task is not None:
        rows = run_sql(
            store,
            "SELECT run_id, task, task_version, model_id, main_metric FROM latest_runs WHERE model_id = ? AND task = ?",
            params=[ref, task],
        ).rows
    if not rows:
        where = f" and no finished run of model {ref!r} on task {task!r}" if task else ""
        raise UsageError(
            f"no run {ref!r} in the registry{where}: give run ids (see `emergebench runs`) or --task with model ids"
        )
    if len(rows) > 1:
        raise UsageError(f"{ref!r} matches several runs ({', '.join(r[0] for r in rows[:4])}); give more of the id")
    return rows[0]


def score_behind_metric(store: Store, run_id: str, metric: str | None) -> str | None:
    """The one per-sample score whose mean over the run's samples is the run-level ``metric`` (MARS's
    ``accuracy`` is the mean of its per-sample ``correct``), so comparing by model works without
    ``--metric``. None when no score, or more than one, matches the metric's value and count."""
    if metric is None:
        return None
    rows = run_sql(
        store,
        """
        WITH m AS (SELECT value, n FROM metrics WHERE run_id = $r AND name = $m AND breakdown = ''),
             s AS (SELECT name, avg(value) AS mean, count(*) AS n FROM scores WHERE run_id = $r GROUP BY name)
        SELECT s.name FROM s, m WHERE s.n = m.n AND abs(s.mean - m.value) <= 1e-9 * greatest(1, abs(m.value))
        """,
        params={"r": run_id, "m": metric},
    ).rows
    return rows[0][0] if len(rows) == 1 else None


def compare_runs(
    store: Store, ref_a: str, ref_b: str, task: str | None = None, metric: str | None = None
) -> Comparison:
    run_a, task_a, version_a, model_a, main_a = resolve_run(store, ref_a, task)
    run_b, task_b, version_b, model_b, _ = resolve_run(store, ref_b, task)
    if (task_a, version_a) != (task_b, version_b):
        raise UsageError(
            f"runs {run_a} ({task_a} v{version_a}) and {run_b} ({task_b} v{version_b}) are of different tasks or "
            "task versions: only runs of one task version are comparable sample by sample"
        )
    names = [
        r[0]
        for r in run_sql(store, "SELECT DISTINCT name FROM scores WHERE run_id = ? ORDER BY 1", params=[run_a]).rows
    ]
    chosen = metric or main_a
    if metric is None and chosen not in names:
        chosen = score_behind_metric(store, run_a, chosen) or chosen
    if chosen is None or chosen not in names:
        what = "" if metric else " (the task's main metric)"
        raise UsageError(
            f"run {run_a} has no per-sample score {chosen!r}{what}; its per-sample scores are "
            f"{', '.join(names) or 'none'}: pick one with --metric"
        )
    row = run_sql(
        store,
        """
        WITH a AS (SELECT sample_id, epoch, value FROM scores WHERE run_id = $a AND name = $m),
             b AS (SELECT sample_id, epoch, value FROM scores WHERE run_id = $b AND name = $m),
             paired AS (SELECT a.value AS va, b.value AS vb FROM a JOIN b USING (sample_id, epoch))
        SELECT (SELECT count(*) FROM paired), (SELECT count(*) FROM a) - (SELECT count(*) FROM paired),
               (SELECT count(*) FROM b) - (SELECT count(*) FROM paired),
               (SELECT avg(va) FROM paired), (SELECT avg(vb) FROM paired),
               (SELECT avg(vb - va) FROM paired), (SELECT stddev_samp(vb - va) FROM paired)
        """,
        params={"a": run_a, "b": run_b, "m": chosen},
    ).rows[0]
    n, only_a, only_b, mean_a, mean_b, diff, sd = row
    if not n:
        raise UsageError(f"runs {run_a} and {run_b} share no finished (sample, epoch) with score {chosen!r}")
    cells = run_sql(store, "SELECT lower_is_better FROM runs WHERE run_id IN (?, ?)", params=[run_a, run_b]).rows
    lower = any(run_lower_is_better(cell, chosen) for (cell,) in cells)
    stderr = sd / math.sqrt(n) if sd is not None and n > 1 else None
    p_value = None
    if stderr is not None:
        p_value = (
            1.0 if stderr == 0 and diff == 0 else (0.0 if stderr == 0 else math.erfc(abs(diff) / stderr / math.sqrt(2)))
        )
    return Comparison(
        task_a,
        version_a,
        chosen,
        run_a,
        run_b,
        model_a,
        model_b,
        n,
        only_a,
        only_b,
        mean_a,
        mean_b,
        diff,
        stderr,
        p_value,
        lower,
    )
