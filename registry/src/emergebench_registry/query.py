"""Read-side queries: arbitrary SQL (read-only by default) and the leaderboard."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import duckdb
from emergebench.errors import UsageError

from .direction import DOWN, LEGEND, lower_sql
from .store import CONFIG, Store

# DuckDB's own switches for user SQL: no file, network or extension access outside the registry file,
# and the settings locked so a query cannot switch them back on (no SQL parsing involved).
SANDBOX: dict[str, Any] = {
    **CONFIG,
    "enable_external_access": "false",
    "allow_community_extensions": "false",
    "lock_configuration": "true",
}
# --allow-files: a normal DuckDB session over the user's files, with the settings still locked.
FILES_ALLOWED: dict[str, Any] = {**CONFIG, "lock_configuration": "true"}


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]


def run_sql(
    store: Store,
    sql: str,
    write: bool = False,
    params: list[Any] | dict[str, Any] | None = None,
    allow_files: bool = False,
) -> QueryResult:
    """Run one SQL text; DuckDB's own message (with its LINE/caret position) becomes a UsageError.

    The connection can read (and with ``write``, change) the registry file only: no other file, no
    ATTACH, COPY TO, EXPORT, INSTALL/LOAD, unless ``allow_files`` lifts the file sandbox.
    """
    if not sql.strip():
        raise UsageError('empty SQL query: pass a statement, e.g. emergebench sql "SELECT * FROM runs"')
    opener = store.writer if write else store.reader
    with opener(FILES_ALLOWED if allow_files else SANDBOX) as con:
        try:
            cursor = con.execute(sql, params or [])
            if cursor.description is None:
                return QueryResult([], [])
            columns = [d[0] for d in cursor.description]
            return QueryResult(columns, cursor.fetchall())
        except duckdb.Error as exc:
            message = str(exc).strip()
            hint = ""
            if not write and ("read-only" in message.lower() or "read only" in message.lower()):
                hint = "\nThe registry is opened read-only for queries; pass --write to modify it."
            elif isinstance(exc, duckdb.PermissionException) and not allow_files:
                hint = (
                    "\nQueries may only read the registry: pass --allow-files to let this query read or "
                    "write your own files, attach databases or load installed extensions."
                )
            raise UsageError(f"SQL error: {message}{hint}") from None


def group_order(column: str) -> str:
    """ORDER BY terms that sort group labels naturally: "k=2" before "k=10", then by the label itself."""
    return (
        f"regexp_replace({column}, '[0-9.]+', ''), "
        f"TRY_CAST(regexp_extract({column}, '[0-9]+(\\.[0-9]+)?') AS DOUBLE), {column}"
    )


# Where a run's results came from: ``native`` (run with emergebench, here or pulled from a Hub) or the
# framework ``import-results`` read it from, which travels with the run in ``task_provenance`` (so a
# pulled imported run keeps its mark). A name outside the known formats, from a hostile shard, reads
# as ``other``.
IMPORT_ORIGINS = ("inspect", "lm-eval", "helm", "eee")
NATIVE_ORIGIN = "native"


def origin_sql(provenance: str = "task_provenance") -> str:
    """SQL for a run's origin from its ``task_provenance`` column (see IMPORT_ORIGINS)."""
    framework = f"TRY(json_extract_string({provenance}, '$.imported_from'))"
    known = ", ".join(f"'{name}'" for name in IMPORT_ORIGINS)
    return (
        f"CASE WHEN {framework} IS NULL THEN '{NATIVE_ORIGIN}' "
        f"WHEN {framework} IN ({known}) THEN {framework} ELSE 'other' END"
    )


# A metric's groups are never pooled: the overall value (breakdown '') is shown where the run has
# one; where the metric exists only per group (Skill-Mix per k), each group is its own row. Only a
# run with no aggregate of that name at all falls back to the mean of its per-sample scores.
LEADERBOARD_SQL = f"""
WITH lr AS (
  SELECT l.*, coalesce(CAST($metric AS VARCHAR), l.main_metric) AS metric, {origin_sql("l.task_provenance")} AS origin
  FROM latest_runs l
  WHERE ($task IS NULL OR l.task = $task) AND l.status <> 'failed'
),
named AS (
  SELECT lr.run_id, mt.breakdown, mt.value, mt.stderr, mt.ci_low, mt.ci_high, mt.n,
         bool_or(mt.breakdown = '') OVER (PARTITION BY lr.run_id) AS has_overall
  FROM lr JOIN metrics mt ON mt.run_id = lr.run_id AND mt.name = lr.metric
),
from_metrics AS (
  SELECT run_id, breakdown, value, stderr, ci_low, ci_high, n FROM named WHERE breakdown = '' OR NOT has_overall
),
from_scores AS (
  SELECT lr.run_id, '' AS breakdown, avg(s.value) AS value,
         CASE WHEN count(*) > 1 THEN stddev_samp(s.value) / sqrt(count(*)) END AS stderr,
         NULL::DOUBLE AS ci_low, NULL::DOUBLE AS ci_high, count(*) AS n
  FROM lr JOIN scores s ON s.run_id = lr.run_id AND s.name = lr.metric
  WHERE lr.run_id NOT IN (SELECT run_id FROM named)
  GROUP BY lr.run_id
),
vals AS (SELECT * FROM from_metrics UNION ALL SELECT * FROM from_scores),
ranked AS (
  SELECT lr.task, lr.task_version, lr.model_id, m.family AS model_family, m.parameters AS model_parameters,
         lr.metric, v.breakdown, v.value, v.stderr,
         coalesce(v.ci_low, v.value - 1.96 * v.stderr) AS ci_low,
         coalesce(v.ci_high, v.value + 1.96 * v.stderr) AS ci_high,
         v.n, lr.run_id, lr.status, lr.origin,
         bool_or({lower_sql("lr.lower_is_better", "lr.metric")})
           OVER (PARTITION BY lr.task, lr.task_version, lr.metric) AS lower_is_better
  FROM lr JOIN vals v USING (run_id) LEFT JOIN models m ON m.model_id = lr.model_id
)
SELECT * FROM ranked
ORDER BY task, task_version, {group_order("breakdown")},
         CASE WHEN lower_is_better THEN value ELSE -value END ASC NULLS LAST, model_id
"""


def leaderboard(store: Store, task: str | None = None, metric: str | None = None) -> QueryResult:
    """One row per (task, task version, group, model): the latest finished run's main metric (or ``metric``),
    best first: ascending where any run of that task version says the metric is lower-is-better.

    The task's own aggregate (the ``metrics`` table) is used when it has the metric: its overall value
    (group ``''``) where there is one, else one row per group, never pooled. A run without any
    aggregate of that name gets the mean and standard error of its per-sample scores. Task versions
    are never mixed.
    """
    with store.reader() as con:
        cursor = con.execute(LEADERBOARD_SQL, {"task": task, "metric": metric})
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
        if not rows and task is not None:
            known = [r[0] for r in con.execute("SELECT DISTINCT task FROM runs ORDER BY 1").fetchall()]
            if task not in known:
                raise UsageError(
                    f"no runs of task {task!r} in the registry {store.path}. "
                    f"Tasks with runs: {', '.join(known) or 'none yet (run one with `emergebench run`)'}"
                )
    return QueryResult(columns, rows)


SKIPPED_SQL = """
SELECT task, task_version, model_id, run_id, status, n_errors, n_expected FROM latest_runs
WHERE ($task IS NULL OR task = $task) AND status = 'failed'
ORDER BY task, task_version, model_id
"""


def leaderboard_notes(store: Store, result: QueryResult, task: str | None = None) -> list[str]:
    """What the leaderboard must say about the runs behind it: each run it used that is not complete
    (its cell is marked), and each model whose latest run failed outright (no good sample: left out)."""
    idx = {c: i for i, c in enumerate(result.columns)}
    notes, seen = [], set()
    for row in result.rows:
        status, run_id = row[idx["status"]], row[idx["run_id"]]
        if status != "complete" and run_id not in seen:
            seen.add(run_id)
            notes.append(
                f"{row[idx['model_id']]} on {row[idx['task']]}@{row[idx['task_version']]}: run {run_id} is "
                f"{status}, its value is over the samples it finished"
            )
    with store.reader() as con:
        skipped = con.execute(SKIPPED_SQL, {"task": task}).fetchall()
    for task_name, version, model, run_id, status, n_errors, n_expected in skipped:
        notes.append(
            f"{model} on {task_name}@{version}: left out, its latest run {run_id} {status} "
            f"({n_errors} of {n_expected} samples failed)"
        )
    return notes


def format_score(value: float) -> str:
    """Three decimals for scores of everyday size; three significant digits (``3.49e+25``) for
    very large or very small ones, so one extreme value cannot stretch a leaderboard column."""
    if value == 0 or not math.isfinite(value) or 1e-3 <= abs(value) < 1e5:
        return f"{value:.3f}"
    return f"{value:.3g}"


def format_cell(value: float | None, stderr: float | None, lo: float | None, hi: float | None, n: int, ci: bool) -> str:
    if value is None:
        return f"- (n={n})"
    if ci and lo is not None and hi is not None:
        return f"{format_score(value)} [{format_score(lo)}, {format_score(hi)}] (n={n})"
    if stderr is not None:
        return f"{format_score(value)} ± {format_score(stderr)} (n={n})"
    return f"{format_score(value)} (n={n})"


def human_params(count: int | None) -> str:
    if not count:
        return ""
    for unit, size in (("T", 10**12), ("B", 10**9), ("M", 10**6), ("K", 10**3)):
        if count >= size:
            return f"{count / size:.3g}{unit}"
    return str(count)


def pivot_leaderboard(result: QueryResult, ci: bool = False) -> QueryResult:
    """Models as rows, ``task@version (metric)`` (or ``task@version group (metric)``) as columns, and an
    ``origin`` column saying where the row's runs came from (``native``, ``inspect``, ...). Where one row
    mixes origins (a task mapped onto a native one with ``--task-map``), each imported cell also names
    its origin: ``0.833 ± 0.167 (n=6) {inspect}``."""
    idx = {c: i for i, c in enumerate(result.columns)}
    columns: list[str] = []
    models: dict[str, dict[str, tuple[str, str]]] = {}
    labels: dict[str, str] = {}
    for row in result.rows:
        group = row[idx["breakdown"]]
        metric = f"{row[idx['metric']]} {DOWN}" if _lower(row, idx) else row[idx["metric"]]
        col = f"{row[idx['task']]}@{row[idx['task_version']]}{' ' + group if group else ''} ({metric})"
        if col not in columns:
            columns.append(col)
        model = row[idx["model_id"]]
        extra = ", ".join(x for x in (row[idx["model_family"]], human_params(row[idx["model_parameters"]])) if x)
        labels[model] = f"{model} ({extra})" if extra else model
        cell = format_cell(
            row[idx["value"]], row[idx["stderr"]], row[idx["ci_low"]], row[idx["ci_high"]], row[idx["n"]], ci
        )
        status = row[idx["status"]]
        models.setdefault(model, {})[col] = (cell if status == "complete" else f"{cell} [{status}]", row[idx["origin"]])
    rows = []
    for model, cells in models.items():
        origins = sorted({origin for _, origin in cells.values()})
        mixed = len(origins) > 1
        shown = {c: f"{text} {{{o}}}" if mixed and o != NATIVE_ORIGIN else text for c, (text, o) in cells.items()}
        rows.append(tuple([labels[model], ", ".join(origins)] + [shown.get(c, "") for c in columns]))
    return QueryResult(["model", "origin"] + columns, rows)


def direction_legend(result: QueryResult) -> str | None:
    """The line explaining the ↓ marker, when a column ranks ascending."""
    idx = {c: i for i, c in enumerate(result.columns)}
    return LEGEND if any(_lower(row, idx) for row in result.rows) else None


def _lower(row: tuple, idx: dict[str, int]) -> bool:
    """A leaderboard row's direction (rows built without the column rank higher-is-better)."""
    return "lower_is_better" in idx and bool(row[idx["lower_is_better"]])


def origin_legend(result: QueryResult) -> str | None:
    """One line explaining the origin column, when the leaderboard holds imported runs."""
    idx = result.columns.index("origin")
    if all(row[idx] == NATIVE_ORIGIN for row in result.rows):
        return None
    return (
        "origin: native = run with emergebench; inspect, lm-eval, helm, eee = imported from that framework's "
        "files with `emergebench import-results` (same metric name, but its own prompts and scoring)"
    )
