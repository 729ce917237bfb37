"""The per-run sample browser's data: each run's samples with prompt, output, scores and error.

A registry can hold millions of samples, so the page embeds a bounded slice: the newest runs first,
at most ``samples_per_run`` samples per run (samples with an error, then failing ones, first), texts
cut at ``MAX_TEXT`` characters, until ``budget_bytes`` of JSON is used. The page says what was left out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import duckdb

MAX_TEXT = 2000


@dataclass
class BrowserData:
    runs: list[dict[str, Any]] = field(default_factory=list)
    total_runs: int = 0
    total_samples: int = 0
    shown_samples: int = 0


def _cut(text: Any) -> str | None:
    if text is None:
        return None
    if not isinstance(text, str):
        text = json.dumps(text, ensure_ascii=False)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + f" … [{len(text) - MAX_TEXT} more characters]"


_RUNS = """
SELECT r.run_id, r.task, r.task_version, r.model_id, r.status, r.main_metric, r.n_samples, r.n_errors,
       CAST(r.finished_at AS VARCHAR), r.source
FROM runs r ORDER BY coalesce(r.finished_at, r.started_at) DESC NULLS LAST, r.run_id LIMIT $limit
"""

_SAMPLES = """
WITH sc AS (
  SELECT run_id, sample_id, epoch, map_from_entries(list(struct_pack(k := name, v := value))) AS scores
  FROM scores WHERE run_id IN (SELECT unnest($runs)) GROUP BY ALL
),
prompt AS (
  SELECT run_id, sample_id, epoch, CAST(messages AS VARCHAR) AS messages, output FROM model_calls
  WHERE run_id IN (SELECT unnest($runs)) AND call_index = 0
),
ranked AS (
  SELECT sm.run_id, sm.sample_id, sm.epoch, CAST(sm.input AS VARCHAR) AS input, sm.answer, sm.error, sm.error_type,
         sc.scores, p.messages, p.output,
         row_number() OVER (PARTITION BY sm.run_id ORDER BY (sm.error IS NULL),
           coalesce(element_at(sc.scores, r.main_metric)[1], 1.0) > 0, sm.sample_id, sm.epoch) AS rk
  FROM samples sm JOIN runs r USING (run_id)
  LEFT JOIN sc USING (run_id, sample_id, epoch) LEFT JOIN prompt p USING (run_id, sample_id, epoch)
  WHERE sm.run_id IN (SELECT unnest($runs))
)
SELECT * EXCLUDE (rk) FROM ranked WHERE rk <= $per_run ORDER BY run_id, sample_id, epoch
"""


def _prompt(messages: str | None, fallback: str | None) -> str | None:
    """The last user message of the sample's first model call, else the task's input."""
    if messages:
        try:
            users = [m.get("content") for m in json.loads(messages) if isinstance(m, dict) and m.get("role") == "user"]
            if users:
                return users[-1]
        except ValueError:
            pass
    if fallback is None:
        return None
    try:
        value = json.loads(fallback)
    except ValueError:
        return fallback
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row else 0


def browser_data(
    con: duckdb.DuckDBPyConnection, max_runs: int = 200, samples_per_run: int = 50, budget_bytes: int = 6_000_000
) -> BrowserData:
    data = BrowserData()
    data.total_runs = _count(con, "SELECT count(*) FROM runs")
    data.total_samples = _count(con, "SELECT count(*) FROM samples")
    runs = con.execute(_RUNS, {"limit": max_runs}).fetchall()
    if not runs:
        return data
    ids = [r[0] for r in runs]
    by_run: dict[str, list[dict[str, Any]]] = {}
    for run_id, sample_id, epoch, inp, answer, error, error_type, scores, messages, output in con.execute(
        _SAMPLES, {"runs": ids, "per_run": samples_per_run}
    ).fetchall():
        by_run.setdefault(run_id, []).append(
            {
                "id": sample_id if not epoch else f"{sample_id}#{epoch}",
                "prompt": _cut(_prompt(messages, inp)),
                "output": _cut(answer if answer is not None else output),
                "scores": {k: (round(v, 6) if v is not None else None) for k, v in (scores or {}).items()},
                "error": _cut(f"{error_type}: {error}" if error and error_type else error),
            }
        )
    used = 0
    for run_id, task, version, model, status, main_metric, n_samples, n_errors, finished, source in runs:
        samples = by_run.get(run_id, [])
        entry = {
            "run_id": run_id,
            "task": f"{task}@{version}",
            "model": model,
            "status": status,
            "main_metric": main_metric,
            "n_samples": n_samples,
            "n_errors": n_errors,
            "finished": finished,
            "source": source,
            "samples": samples,
        }
        size = len(json.dumps(entry, ensure_ascii=False))
        if used + size > budget_bytes and data.runs:
            break
        used += size
        data.runs.append(entry)
        data.shown_samples += len(samples)
    return data
