"""Model metadata per source: what a pulled or imported run may say about models, and what conflicts.

The store keeps one ``model_sources`` row per (model id, source); the ``models`` view prefers the
local row, so a pulled shard can describe the models its own run used but never rewrites what a
local run recorded. A models shard that lists a model its run does not use is refused.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from .schema import LOCAL_SOURCE


def hub_source(repo: str, revision: str) -> str:
    """The label of a pulled repo revision in ``model_sources.source``."""
    return f"hub:{repo}@{revision}"


def unused_models(runs: pa.Table, models: pa.Table) -> list[str]:
    """Model ids a run's models shard lists although the run uses neither as model nor as grader."""
    used = {runs["model_id"][0].as_py(), runs["grader_model"][0].as_py()}
    return sorted({m for m in models["model_id"].to_pylist() if m not in used})


def conflict_count(con: duckdb.DuckDBPyConnection) -> int:
    """How many model ids have different metadata in different sources."""
    rows = con.execute("SELECT count(DISTINCT model_id) FROM model_conflicts").fetchall()
    return int(rows[0][0]) if rows else 0


CONFLICT_NOTE = (
    "Note: {n} model(s) are described differently by different sources; {local} rows win over pulled ones. "
    'See them with: emergebench sql "SELECT * FROM model_conflicts"'
)


def conflict_note(con: duckdb.DuckDBPyConnection) -> str | None:
    n = conflict_count(con)
    return CONFLICT_NOTE.format(n=n, local=LOCAL_SOURCE) if n else None
