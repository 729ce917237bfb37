"""The registry's tables, views and schema migrations (documented column by column in docs/registry.md).

The six data tables are also the shard format: each exported Parquet shard holds one run's rows of
one table, with exactly the columns and types of ``SHARD_SCHEMAS``, so a shard read back from the Hub
can be checked column by column before it touches the store.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import duckdb

if TYPE_CHECKING:
    import pyarrow as pa

    SHARD_SCHEMAS: dict[str, pa.Schema]
    TS: pa.DataType

SCHEMA_VERSION = 7

# One run's rows of each table, as (column, type); the order is the shard's column order. Plain data, so
# that storing a run (the ingest process, an in-process ingest) never imports pyarrow (~57 MB of RSS);
# ``SHARD_SCHEMAS`` gives the same as pyarrow schemas, built on first use.
COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "runs": (
        ("run_id", "string"),
        ("spec_id", "string"),
        ("status", "string"),
        ("task", "string"),
        ("task_version", "string"),
        ("task_args", "string"),
        ("main_metric", "string"),
        ("model_id", "string"),
        ("model_args", "string"),
        ("generate", "string"),
        ("grader", "string"),
        ("grader_model", "string"),
        ("seed", "int64"),
        ("sample_limit", "int64"),
        ("epochs", "int64"),
        ("n_samples", "int64"),
        ("n_expected", "int64"),
        ("n_errors", "int64"),
        ("errors", "string"),
        ("model_calls", "int64"),
        ("cached_calls", "int64"),
        ("input_tokens", "int64"),
        ("output_tokens", "int64"),
        ("started_at", "timestamp"),
        ("finished_at", "timestamp"),
        ("emergebench_version", "string"),
        ("plugin_versions", "string"),
        ("task_provenance", "string"),
        ("contributor", "string"),
        ("python", "string"),
        ("platform", "string"),
        ("source_run_id", "string"),
        ("lower_is_better", "string"),
    ),
    "models": (
        ("model_id", "string"),
        ("provider", "string"),
        ("name", "string"),
        ("family", "string"),
        ("parameters", "int64"),
        ("quantization", "string"),
    ),
    "samples": (
        ("run_id", "string"),
        ("sample_id", "string"),
        ("epoch", "int64"),
        ("input", "string"),
        ("target", "string"),
        ("answer", "string"),
        ("error", "string"),
        ("error_type", "string"),
        ("metadata", "string"),
        ("n_calls", "int64"),
        ("started_at", "timestamp"),
        ("finished_at", "timestamp"),
        ("stored_output", "string"),
    ),
    "scores": (
        ("run_id", "string"),
        ("sample_id", "string"),
        ("epoch", "int64"),
        ("name", "string"),
        ("value", "float64"),
    ),
    "model_calls": (
        ("run_id", "string"),
        ("sample_id", "string"),
        ("epoch", "int64"),
        ("call_index", "int64"),
        ("model", "string"),
        ("role", "string"),
        ("messages", "string"),
        ("config", "string"),
        ("output", "string"),
        ("input_tokens", "int64"),
        ("output_tokens", "int64"),
        ("finish_reason", "string"),
        ("latency_s", "float64"),
        ("cached", "bool"),
        ("attempts", "int64"),
        ("error", "string"),
        ("cache_key", "string"),
        ("started_at", "timestamp"),
        ("logprobs", "string"),
    ),
    "metrics": (
        ("run_id", "string"),
        ("name", "string"),
        ("breakdown", "string"),
        ("value", "float64"),
        ("stderr", "float64"),
        ("n", "int64"),
        ("ci_low", "float64"),
        ("ci_high", "float64"),
    ),
}

# Columns added after the first shard format, by table: a shard written before them (by an older
# emergebench) is read with these columns as nulls, so pooled results from older writers still import.
ADDED_COLUMNS: dict[str, tuple[str, ...]] = {
    "runs": (
        "source_run_id",  # v5: the run a re-scoring run scored (lineage)
        "lower_is_better",  # v7: the metric names the task ranks ascending (JSON list)
    ),
    "samples": ("stored_output",),  # v5: the sample's stored output (SampleResult.output), apart from its scores
}

# The key of each table: one row per key in the store and in a shard.
KEYS: dict[str, tuple[str, ...]] = {
    "runs": ("run_id",),
    "models": ("model_id",),
    "samples": ("run_id", "sample_id", "epoch"),
    "scores": ("run_id", "sample_id", "epoch", "name"),
    "model_calls": ("run_id", "sample_id", "epoch", "call_index"),
    "metrics": ("run_id", "name", "breakdown"),
}
# Tables whose rows belong to one run (deleted and re-inserted together when a run is re-ingested).
RUN_TABLES = ("runs", "samples", "scores", "model_calls", "metrics")

DUCK_TYPES = {
    "string": "VARCHAR",
    "int64": "BIGINT",
    "float64": "DOUBLE",
    "bool": "BOOLEAN",
    "timestamp": "TIMESTAMPTZ",
}


def column_names(table: str) -> list[str]:
    return [name for name, _ in COLUMNS[table]]


def __getattr__(name: str) -> Any:
    """``SHARD_SCHEMAS`` (table -> pyarrow schema) and ``TS`` (the timestamp type), made on first use."""
    if name not in ("SHARD_SCHEMAS", "TS"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import pyarrow as pa

    ts = pa.timestamp("us", tz="UTC")
    types = {"string": pa.string(), "int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_(), "timestamp": ts}
    schemas = {table: pa.schema([(col, types[kind]) for col, kind in cols]) for table, cols in COLUMNS.items()}
    globals().update(SHARD_SCHEMAS=schemas, TS=ts)
    return globals()[name]


_JSON_COLUMNS = {
    "task_args",
    "model_args",
    "generate",
    "errors",
    "plugin_versions",
    "task_provenance",
    "input",
    "target",
    "metadata",
    "stored_output",
    "messages",
    "config",
    "logprobs",
    "lower_is_better",
}


def column_defs(table: str) -> list[str]:
    """``name TYPE [NOT NULL]`` for each shard column of ``table``."""
    cols = []
    for name, type_ in COLUMNS[table]:
        kind = "JSON" if name in _JSON_COLUMNS else DUCK_TYPES[type_]
        null = " NOT NULL" if name in KEYS[table] else ""
        cols.append(f"{name} {kind}{null}")
    return cols


def table_ddl(table: str) -> str:
    cols = column_defs(table)
    if table == "runs":
        cols += ["source VARCHAR NOT NULL DEFAULT 'local'", "ingested_at TIMESTAMPTZ NOT NULL DEFAULT now()"]
    if table in ("runs", "models"):
        # Big tables carry no PRIMARY KEY: index upkeep made bulk ingest 5x slower. Their keys are unique
        # by construction instead: a run is only ever replaced whole, in one transaction, under the
        # writer lock, from a de-duplicated journal or validated shards (tested).
        cols.append(f"PRIMARY KEY ({', '.join(KEYS[table])})")
    return f"CREATE TABLE IF NOT EXISTS {table} (\n  " + ",\n  ".join(cols) + "\n)"


def _v1(con: duckdb.DuckDBPyConnection) -> None:
    for table in COLUMNS:
        con.execute(table_ddl(table))
    con.execute(
        """CREATE TABLE IF NOT EXISTS ingest_log (
          run_dir VARCHAR PRIMARY KEY, run_id VARCHAR, journal_size BIGINT, journal_mtime_ns BIGINT,
          result_mtime_ns BIGINT, ingested_at TIMESTAMPTZ DEFAULT now())"""
    )
    con.execute(
        """CREATE TABLE IF NOT EXISTS sync_files (
          repo VARCHAR NOT NULL, path VARCHAR NOT NULL, oid VARCHAR NOT NULL, run_id VARCHAR,
          outcome VARCHAR NOT NULL, detail VARCHAR, seen_at TIMESTAMPTZ DEFAULT now(),
          PRIMARY KEY (repo, path))"""
    )
    con.execute(
        """CREATE TABLE IF NOT EXISTS sync_heads (
          repo VARCHAR PRIMARY KEY, revision VARCHAR, head VARCHAR, pulled_at TIMESTAMPTZ DEFAULT now())"""
    )


VIEWS = {
    # The newest finished run per (model, task, task version); complete runs beat partial ones.
    "latest_runs": """
        SELECT * EXCLUDE (rk) FROM (
          SELECT r.*, row_number() OVER (
            PARTITION BY model_id, task, task_version
            ORDER BY (status = 'complete') DESC, coalesce(finished_at, started_at) DESC, run_id DESC) AS rk
          FROM runs r WHERE status <> 'running') WHERE rk = 1""",
    # One row per (run, sample, epoch, score name) with what you need to slice it.
    "sample_scores": """
        SELECT s.run_id, s.sample_id, s.epoch, s.name AS score, s.value,
               r.task, r.task_version, r.model_id, m.family AS model_family, m.parameters AS model_parameters,
               r.status, r.seed, r.contributor, r.finished_at
        FROM scores s JOIN runs r USING (run_id) LEFT JOIN models m USING (model_id)""",
    # The task's main metric for the latest run of each model and task: the overall value where the run
    # has one, else one row per group (breakdown), never pooled across groups.
    "leaderboard": """
        WITH named AS (
          SELECT l.run_id, mt.name, mt.breakdown, mt.value, mt.stderr, mt.ci_low, mt.ci_high, mt.n,
                 bool_or(mt.breakdown = '') OVER (PARTITION BY l.run_id, mt.name) AS has_overall
          FROM latest_runs l JOIN metrics mt ON mt.run_id = l.run_id AND mt.name = coalesce(l.main_metric, mt.name))
        SELECT l.task, l.task_version, l.model_id, m.family AS model_family, m.parameters AS model_parameters,
               n.name AS metric, n.breakdown, n.value, n.stderr, n.ci_low, n.ci_high, n.n,
               l.run_id, l.status, l.finished_at
        FROM latest_runs l JOIN named n USING (run_id) LEFT JOIN models m USING (model_id)
        WHERE n.breakdown = '' OR NOT n.has_overall""",
}


def _views(con: duckdb.DuckDBPyConnection) -> None:
    for name, sql in VIEWS.items():
        con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")


# Columns the store keeps that shards do not carry (yet): what calls and runs cost, in US dollars,
# from the price table when the run was made (docs/sweeps.md#cost). Pulled runs leave them NULL.
STORE_ONLY_COLUMNS: dict[str, dict[str, str]] = {"runs": {"cost_usd": "DOUBLE"}, "model_calls": {"cost_usd": "DOUBLE"}}


def _cost_columns(con: duckdb.DuckDBPyConnection) -> None:
    for table, columns in STORE_ONLY_COLUMNS.items():
        for name, kind in columns.items():
            con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {name} {kind}")


def _v5_outputs_and_lineage(con: duckdb.DuckDBPyConnection) -> None:
    """Records of schema 2 keep a sample's output apart from its scores, and a re-scoring run names
    its source run; stores made before get the two columns (null for their old rows)."""
    con.execute("ALTER TABLE runs ADD COLUMN IF NOT EXISTS source_run_id VARCHAR")
    con.execute("ALTER TABLE samples ADD COLUMN IF NOT EXISTS stored_output JSON")


# v2 added the views; v3 redefined ``leaderboard`` to show grouped-only metrics per group (with a
# ``breakdown`` column) instead of dropping them. Both (re)create the current views. v4 added cost.
# v5 added runs.source_run_id and samples.stored_output.
LOCAL_SOURCE = "local"

# Model metadata is kept per source; ``models`` shows one row per model id, the local row where there
# is one (a pulled shard never changes what local runs say), else the first other source by name.
MODEL_VIEWS = {
    "models": """
        SELECT model_id, provider, name, family, parameters, quantization FROM (
          SELECT *, row_number() OVER (
            PARTITION BY model_id ORDER BY (source = 'local') DESC, source) AS rk
          FROM model_sources) WHERE rk = 1""",
    # Model ids whose sources disagree, one row per source, with the source ``models`` shows.
    "model_conflicts": """
        SELECT s.model_id, s.source, s.provider, s.name, s.family, s.parameters, s.quantization,
               first(s.source ORDER BY (s.source = 'local') DESC, s.source) OVER (PARTITION BY s.model_id) AS shown
        FROM model_sources s
        WHERE s.model_id IN (
          SELECT model_id FROM model_sources GROUP BY model_id
          HAVING count(DISTINCT row(provider, name, family, parameters, quantization)) > 1)""",
}


def _model_sources(con: duckdb.DuckDBPyConnection) -> None:
    """v6: ``models`` becomes a view over ``model_sources`` (one row per model id and source).

    An existing row is attributed to ``local`` when a local run uses the model, else to the source
    of the first run that does; a row no run uses (added by a pulled shard) is dropped.
    """
    cols = ", ".join(column_names("models"))
    defs = ", ".join(column_defs("models"))
    con.execute(
        f"CREATE TABLE IF NOT EXISTS model_sources ({defs}, source VARCHAR NOT NULL, PRIMARY KEY (model_id, source))"
    )
    is_table = first_row(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND table_name = 'models' "
            "AND table_type = 'BASE TABLE'"
        )
    )
    if is_table and is_table[0]:
        _move_models(con, cols)
    for name, sql in MODEL_VIEWS.items():
        con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")
    _views(con)


def _move_models(con: duckdb.DuckDBPyConnection, cols: str) -> None:
    con.execute(
        f"""INSERT INTO model_sources ({cols}, source)
            SELECT {", ".join("m." + c for c in cols.split(", "))}, u.source FROM models m JOIN (
              SELECT model, CASE WHEN bool_or(source = 'local') THEN 'local' ELSE min(source) END AS source
              FROM (SELECT model_id AS model, source FROM runs
                    UNION ALL SELECT grader_model, source FROM runs WHERE grader_model IS NOT NULL)
              GROUP BY model) u ON u.model = m.model_id"""
    )
    con.execute("DROP TABLE models")


def _v7_metric_direction(con: duckdb.DuckDBPyConnection) -> None:
    """v7: ``runs.lower_is_better``, the JSON list of metric names the run's task ranks ascending
    (null for runs stored before: they rank as higher-is-better, as they always did)."""
    con.execute("ALTER TABLE runs ADD COLUMN IF NOT EXISTS lower_is_better JSON")
    _views(con)  # ``latest_runs`` selects r.*: rebind it to the new column


# v2 added the views; v3 redefined ``leaderboard`` to show grouped-only metrics per group (with a
# ``breakdown`` column) instead of dropping them. Both (re)create the current views. v4 added cost,
# v5 stored outputs and run lineage; v6 keeps model metadata per source (``model_sources``) behind a ``models`` view;
# v7 records each run's lower-is-better metric names.
MIGRATIONS: list[Callable[[duckdb.DuckDBPyConnection], None]] = [
    _v1,
    _views,
    _views,
    _cost_columns,
    _v5_outputs_and_lineage,
    _model_sources,
    _v7_metric_direction,
]
assert len(MIGRATIONS) == SCHEMA_VERSION


def first_row(cursor: duckdb.DuckDBPyConnection) -> tuple | None:
    """The first row of a result, fetched to the end: DuckDB 2 refuses new work on a half-read result."""
    rows = cursor.fetchall()
    return rows[0] if rows else None


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = first_row(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_info' AND table_schema = 'main'"
        )
    )
    if not exists or not exists[0]:
        return 0
    row = first_row(con.execute("SELECT max(version) FROM schema_info"))
    return int(row[0]) if row and row[0] is not None else 0


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Bring a store up to ``SCHEMA_VERSION`` one migration at a time, each in its own transaction."""
    con.execute("CREATE TABLE IF NOT EXISTS schema_info (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ)")
    version = current_version(con)
    if version > SCHEMA_VERSION:
        raise RuntimeError(
            f"the registry store has schema version {version}, newer than this emergebench-registry "
            f"understands ({SCHEMA_VERSION}): upgrade emergebench-registry"
        )
    for number in range(version + 1, SCHEMA_VERSION + 1):
        con.execute("BEGIN TRANSACTION")
        MIGRATIONS[number - 1](con)
        con.execute("INSERT INTO schema_info VALUES (?, now())", [number])
        con.execute("COMMIT")
    return SCHEMA_VERSION
