"""Ingesting run folders (spec.json, journal.jsonl, run.json) into the store, in bulk and idempotently.

The journal is parsed by DuckDB's ``read_json`` (multi-threaded C++, no per-row Python). Damaged lines
are skipped and reported by line number (found by the core's own reader when the line count and the
rows read disagree); for each (sample_id, epoch) the first copy wins unless a later one succeeded
where it failed, as in the core's ``read_journal``. The journal is the truth: a run's ``n_samples``
and ``n_errors`` are counted from its valid lines, and a run.json that says complete over a journal
missing samples is stored as partial. A run is always replaced as a whole inside one transaction, so
ingesting the same journal twice, or a longer version of it later, leaves exactly one copy of each
(run_id, sample_id, epoch).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
from emergebench import paths
from emergebench.journal import JOURNAL_FILE, RESULT_FILE, SPEC_FILE, journal_keys, read_result, read_spec
from emergebench.liveness import run_is_alive
from emergebench.records import ModelInfo, RunResult, RunSpec
from emergebench.run_ids import start_order

from .schema import COLUMNS, DUCK_TYPES, RUN_TABLES, column_names, first_row
from .store import Store

if TYPE_CHECKING:
    import pyarrow as pa

# The journal fields the tables need, with explicit types (no auto-detection); ``schema_version`` is not
# read. ``calls`` is typed all the way down so the one parse of a line yields the model-call rows too;
# ``scores`` stays JSON text (a MAP there costs more than converting the short text afterwards).
CALL_TYPE = (
    "STRUCT(model VARCHAR, role VARCHAR, messages JSON, config JSON, output VARCHAR, "
    "usage STRUCT(input_tokens BIGINT, output_tokens BIGINT), logprobs JSON, finish_reason VARCHAR, "
    "latency_s DOUBLE, cached BOOLEAN, attempts BIGINT, error VARCHAR, cache_key VARCHAR, started_at TIMESTAMPTZ, "
    "cost_usd DOUBLE)[]"
)
JOURNAL_COLUMNS = {
    "run_id": "VARCHAR",
    "sample_id": "VARCHAR",
    "epoch": "BIGINT",
    "input": "JSON",
    "target": "JSON",
    "answer": "VARCHAR",
    "scores": "JSON",
    "error": "VARCHAR",
    "error_type": "VARCHAR",
    "calls": CALL_TYPE,
    "metadata": "JSON",
    "output": "JSON",
    "started_at": "TIMESTAMPTZ",
    "finished_at": "TIMESTAMPTZ",
}
# DuckDB's default object size limit (16 MiB) keeps the file in many buffers read in parallel; a journal
# with a longer line (huge prompts) is read again with this limit instead.
LARGE_OBJECT_BYTES = 256 * 1024**2

# Score names beyond this many (or clashing in case) are converted through a MAP, which is 4x slower.
MAX_STRUCT_SCORES = 64

# Counted while the journal is read, so inserting ``samples`` never scans the nested ``calls`` column (a
# list length there still reads every call's strings: 0.1 CPU-s per million one-call lines, more with
# longer calls), and lines without calls are filtered out before their ``calls`` are read for ``model_calls``.
N_CALLS = "coalesce(len(calls), 0)::BIGINT AS n_calls"

# The run tables as SELECTs over the parsed journal (``_journal``), in shard column order; ``scores``
# depends on the journal's score names (see ``scores_source``).
JOURNAL_SOURCES = {
    "samples": """(SELECT run_id, sample_id, epoch, input, target, answer, error, error_type, metadata,
        n_calls, started_at, finished_at, output AS stored_output FROM _journal)""",
    "model_calls": """(SELECT run_id, sample_id, epoch, call_index, c.model, coalesce(c.role, 'subject') AS role,
        c.messages, c.config, c.output, coalesce(c.usage.input_tokens, 0) AS input_tokens,
        coalesce(c.usage.output_tokens, 0) AS output_tokens, c.finish_reason, c.latency_s,
        coalesce(c.cached, false) AS cached, coalesce(c.attempts, 1) AS attempts, c.error, c.cache_key,
        c.started_at, c.logprobs, c.cost_usd
      FROM (SELECT run_id, sample_id, epoch, unnest(range(n_calls))::BIGINT AS call_index, unnest(calls) AS c
            FROM _journal WHERE n_calls > 0))""",
}


SCORES_BY_MAP = """(SELECT run_id, sample_id, epoch, unnest(map_keys(m)) AS name, unnest(map_values(m)) AS value
    FROM (SELECT run_id, sample_id, epoch, from_json(scores, '"MAP(VARCHAR, DOUBLE)"') AS m
          FROM _journal WHERE scores IS NOT NULL))"""


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def scores_source(con: duckdb.DuckDBPyConnection) -> str:
    """The SELECT that turns ``_journal.scores`` (JSON objects) into one row per (sample, epoch, name).

    Tasks use a handful of fixed score names, so the names are listed first (cheap: keys only) and
    each object is converted to a STRUCT of them; a name missing from some objects is filtered out
    per row, so the rows are exactly the keys present, as with a MAP. Many or case-clashing names
    (DuckDB struct fields ignore case) fall back to the MAP conversion.
    """
    counts = con.execute(
        "SELECT k, count(*) FROM (SELECT unnest(json_keys(scores)) AS k FROM _journal WHERE scores IS NOT NULL) "
        "GROUP BY k ORDER BY k"
    ).fetchall()
    names = [str(k) for k, _ in counts]
    if not names:
        return (
            "(SELECT run_id, sample_id, epoch, NULL::VARCHAR AS name, NULL::DOUBLE AS value FROM _journal WHERE false)"
        )
    if len(names) > MAX_STRUCT_SCORES or "" in names or len({n.lower() for n in names}) != len(names):
        return SCORES_BY_MAP
    row = first_row(con.execute("SELECT count(*) FROM _journal WHERE scores IS NOT NULL"))
    everywhere = all(c == (row[0] if row else 0) for _, c in counts)
    structure = _literal(json.dumps({n: "DOUBLE" for n in names}))
    name_list = "[" + ", ".join(_literal(n) for n in names) + "]"
    value_list = "[" + ", ".join(f"struct_extract(m, {_literal(n)})" for n in names) + "]"
    keys = "" if everywhere else ", json_keys(scores) AS present"
    unpivot = f"""SELECT run_id, sample_id, epoch, unnest({name_list}) AS name, unnest({value_list}) AS value{keys}
        FROM (SELECT run_id, sample_id, epoch, scores, from_json(scores, {structure}) AS m
              FROM _journal WHERE scores IS NOT NULL)"""
    if everywhere:
        return f"({unpivot})"
    return f"(SELECT run_id, sample_id, epoch, name, value FROM ({unpivot}) WHERE list_contains(present, name))"


@dataclass
class IngestReport:
    run_id: str
    status: str
    samples: int
    damaged_lines: list[int] = field(default_factory=list)

    @property
    def warning(self) -> str | None:
        """What a user must hear about this run: skipped, or lines of its journal that were unreadable."""
        if self.status.startswith("skipped"):
            return f"run {self.run_id} {self.status}"
        if self.damaged_lines:
            shown = ", ".join(str(n) for n in self.damaged_lines[:10]) + (
                ", ..." if len(self.damaged_lines) > 10 else ""
            )
            return (
                f"run {self.run_id}: {len(self.damaged_lines)} damaged journal line(s) skipped (line {shown}); "
                f"{self.samples} valid sample(s) stored; re-run its spec to recompute the rest"
            )
        return None


@dataclass
class JournalCounts:
    """What the valid lines of a journal hold (one row per (sample, epoch))."""

    samples: int = 0
    errors: int = 0
    damaged: list[int] = field(default_factory=list)


def _dump(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


def stored_status(result: RunResult | None, run_dir: Path | None = None, counts: JournalCounts | None = None) -> str:
    """The status the store records: ``killed`` for a run.json that says running but has no live writer.

    A run killed with SIGKILL (or by a crash) never rewrites its run.json; its writer's claim on the
    folder (an flock the kernel drops when the process dies) tells, see ``run_is_alive``. A run written
    on another machine is assumed alive. Without a run.json at all the run cannot be judged and stays
    ``running``. A run.json that says ``complete`` over a journal that no longer holds a good result
    for every expected sample (damaged since) is stored as ``partial``.
    """
    if result is None:
        return "running"
    if result.status == "running" and not run_is_alive(result, run_dir):
        return "killed"
    if result.status == "complete" and counts is not None and counts.samples - counts.errors < result.n_expected:
        return "partial"
    return result.status


def runs_row(
    spec: RunSpec, result: RunResult | None, run_id: str, counts: JournalCounts, status: str
) -> dict[str, Any]:
    """One ``runs`` row from a run's spec and (if it got that far) its result."""
    prov = result.provenance if result else None
    versions = dict(prov.plugin_versions) if prov else {}
    task_prov = {k[len("task:") :]: v for k, v in versions.items() if k.startswith("task:")}
    plugin_versions = {k: v for k, v in versions.items() if not k.startswith("task:")}
    return {
        "run_id": run_id,
        "spec_id": result.spec_id if result else spec.spec_id,
        "status": status,
        "task": spec.task,
        "task_version": spec.task_version,
        "task_args": _dump(spec.task_args),
        "main_metric": result.task.main_metric if result else None,
        "model_id": spec.model,
        "model_args": _dump(spec.model_args),
        "generate": _dump(spec.generate.model_dump(exclude_none=True)),
        "grader": spec.grader,
        "grader_model": spec.grader_model,
        "seed": spec.seed,
        "sample_limit": spec.limit,
        "epochs": spec.epochs,
        "n_samples": counts.samples,
        "n_expected": result.n_expected if result else None,
        "n_errors": counts.errors if result else None,
        "errors": _dump(result.errors) if result else None,
        "model_calls": result.model_calls if result else None,
        "cached_calls": result.cached_calls if result else None,
        "input_tokens": result.input_tokens if result else None,
        "output_tokens": result.output_tokens if result else None,
        "started_at": result.started_at if result else None,
        "finished_at": result.finished_at if result else None,
        "emergebench_version": prov.emergebench_version if prov else None,
        "plugin_versions": _dump(plugin_versions),
        "task_provenance": _dump(task_prov),
        "contributor": prov.contributor if prov else None,
        "python": prov.python if prov else None,
        "platform": prov.platform if prov else None,
        "source_run_id": spec.source_run,
        "lower_is_better": _dump(result.task.lower_is_better) if result else None,
    }


def model_rows(spec: RunSpec, result: RunResult | None) -> list[dict[str, Any]]:
    infos: list[ModelInfo] = []
    if result is not None:
        infos.append(result.model)
        if result.grader_model is not None:
            infos.append(result.grader_model)
    else:
        provider, _, name = spec.model.partition("/")
        infos.append(ModelInfo(id=spec.model, provider=provider, name=name))
    return [
        {
            "model_id": i.id,
            "provider": i.provider,
            "name": i.name,
            "family": i.family,
            "parameters": i.parameters,
            "quantization": i.quantization,
        }
        for i in infos
    ]


def metric_rows(run_id: str, result: RunResult | None) -> list[dict[str, Any]]:
    if result is None:
        return []
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for m in result.metrics:
        seen[(m.name, m.group or "")] = {
            "run_id": run_id,
            "name": m.name,
            "breakdown": m.group or "",
            "value": m.value,
            "stderr": m.stderr,
            "n": m.n,
            "ci_low": m.ci_low,
            "ci_high": m.ci_high,
        }
    return list(seen.values())


INT64_RANGE = (-(2**63), 2**63 - 1)


def to_arrow(table: str, rows: list[dict[str, Any]]) -> pa.Table:
    """Rows as an Arrow table of the shard schema; a value the column cannot hold is named in a ValueError."""
    import pyarrow as pa

    from .schema import SHARD_SCHEMAS

    schema = SHARD_SCHEMAS[table]
    try:
        return pa.Table.from_pylist(rows, schema=schema)
    except (OverflowError, pa.ArrowException) as exc:
        _check_int64(table, rows)
        raise ValueError(f"its {table} row cannot be stored: {exc}") from None


def _check_int64(table: str, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        for name, kind in COLUMNS[table]:
            value = row.get(name)
            if kind == "int64" and isinstance(value, int) and not INT64_RANGE[0] <= value <= INT64_RANGE[1]:
                raise ValueError(f"{name} = {value} is outside the 64-bit integer range the registry stores")


def rows_table(con: duckdb.DuckDBPyConnection, name: str, table: str, rows: list[dict[str, Any]]) -> None:
    """Rows as the temporary table ``name`` with the shard columns of ``table``, as ``to_arrow`` makes
    them but without pyarrow, which the ingest process never imports (~57 MB of its memory); a value the
    column cannot hold is named in a ValueError."""
    _check_int64(table, rows)
    defs = ", ".join(f"{col} {DUCK_TYPES[kind]}" for col, kind in COLUMNS[table])
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({defs})")
    if not rows:
        return
    marks = ", ".join("?" for _ in COLUMNS[table])
    values = [[row.get(col) for col, _ in COLUMNS[table]] for row in rows]
    try:
        con.executemany(f"INSERT INTO {name} VALUES ({marks})", values)
    except duckdb.Error as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"its {table} row cannot be stored: {detail}") from None


def _read_json_sql(max_object_bytes: int | None) -> str:
    columns = "{" + ", ".join(f"'{c}': '{t}'" for c, t in JOURNAL_COLUMNS.items()) + "}"
    size = f", maximum_object_size={max_object_bytes}" if max_object_bytes else ""
    selected = ", ".join("coalesce(epoch, 0) AS epoch" if c == "epoch" else c for c in JOURNAL_COLUMNS)
    selected += ", " + N_CALLS
    return f"""CREATE OR REPLACE TEMP TABLE _journal AS SELECT {selected}
        FROM read_json(?, format='newline_delimited', ignore_errors=true, columns={columns}{size})
        WHERE sample_id IS NOT NULL AND run_id = ?"""


def _read_journal(con: duckdb.DuckDBPyConnection, journal: Path, run_id: str) -> None:
    for limit in (None, LARGE_OBJECT_BYTES):
        try:
            con.execute(_read_json_sql(limit), [str(journal), run_id])
            return
        except duckdb.InvalidInputException as exc:
            if "maximum_object_size" not in str(exc):
                raise
    raise ValueError(
        f"{journal} has a line longer than {LARGE_OBJECT_BYTES // 1024**2} MiB, more than the registry reads; "
        "the run stays on disk but cannot be ingested"
    )


def _count_keys(con: duckdb.DuckDBPyConnection) -> tuple[int, bool]:
    """(rows, whether some (sample_id, epoch) may occur twice), in one scan.

    Distinct key hashes fewer than rows means a duplicate or a hash collision; either way the careful
    path runs, so a collision costs time, never correctness.
    """
    row = first_row(con.execute("SELECT count(*), count(DISTINCT hash(sample_id, epoch)) FROM _journal"))
    rows, distinct = (int(row[0]), int(row[1])) if row else (0, 0)
    return rows, distinct < rows


@contextmanager
def unordered(con: duckdb.DuckDBPyConnection, enabled: bool = True) -> Iterator[None]:
    """Let DuckDB read and insert in parallel without keeping row order (about 10% less CPU)."""
    if not enabled:
        yield
        return
    row = first_row(con.execute("SELECT current_setting('preserve_insertion_order')"))
    con.execute("SET preserve_insertion_order = false")
    try:
        yield
    finally:
        con.execute(f"SET preserve_insertion_order = {'true' if row is None or row[0] else 'false'}")


def count_lines(path: Path) -> int:
    """Non-empty-looking lines: newlines, plus an unterminated last line (bytes counted at disk speed)."""
    lines, last = 0, b"\n"
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 22):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (last != b"\n")


def load_journal(
    con: duckdb.DuckDBPyConnection, journal: Path, run_id: str, recorded: int | None = None
) -> JournalCounts:
    """Parse the journal once into the temp table ``_journal``: one row per (sample_id, epoch).

    Damaged lines are skipped and listed by number: when the rows read fall short of the file's line
    count, the core's reader (the resume's own) finds which lines they are. ``recorded`` is the
    sample count a finished run's run.json gives: when the journal yields exactly that many, nothing
    was lost and the line count (a full read of the file, a quarter of the ingest time) is skipped. Call it outside a
    transaction: a line longer than DuckDB's default object limit makes the read fail, and it is then
    retried with a larger limit. The journal is read without keeping line order; only if a (sample,
    epoch) occurs twice (a resume that recomputed a failed sample) is it read again in order, and the
    first copy without error kept (else the first copy).
    """
    if not journal.exists() or journal.stat().st_size == 0:
        columns = ", ".join(f"NULL::{t} AS {c}" for c, t in JOURNAL_COLUMNS.items()) + ", NULL::BIGINT AS n_calls"
        con.execute(f"CREATE OR REPLACE TEMP TABLE _journal AS SELECT {columns} WHERE false")
        return JournalCounts()
    with unordered(con):
        _read_journal(con, journal, run_id)
    rows, maybe_duplicates = _count_keys(con)
    if maybe_duplicates:
        _read_journal(con, journal, run_id)  # in line order: the table's rowid is the line's position
        con.execute(
            "DELETE FROM _journal WHERE rowid NOT IN "
            "(SELECT first(rowid ORDER BY error IS NOT NULL, rowid) FROM _journal GROUP BY sample_id, epoch)"
        )
    row = first_row(con.execute("SELECT count(*), count(error) FROM _journal"))
    samples, errors = (int(row[0]), int(row[1])) if row else (0, 0)
    intact = recorded is not None and samples == recorded
    damaged = [] if intact or count_lines(journal) <= rows else journal_keys(journal, run_id)[1]
    return JournalCounts(samples, errors, damaged)


def replace_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    sources: dict[str, str],
    models: pa.Table | str | None,
    source: str,
    store_only: dict[str, list[str]] | None = None,
    models_source: str | None = None,
) -> None:
    """Delete ``run_id``'s rows and insert the new ones from ``sources`` (table -> relation name).
    ``store_only`` names the relations' columns beyond the shard schema (e.g. a journal's costs).

    ``source`` labels the run (``runs.source``); its models are recorded under ``models_source``
    (default: the same), e.g. ``hub:<repo>@<revision>`` for a pull.

    The caller owns the transaction, so a failure leaves the store exactly as it was.
    """
    replace_runs(con, [run_id], sources, models, source, store_only, models_source)


def replace_runs(
    con: duckdb.DuckDBPyConnection,
    run_ids: list[str],
    sources: dict[str, str],
    models: pa.Table | str | None,
    source: str | None,
    store_only: dict[str, list[str]] | None = None,
    models_source: str | None = None,
) -> None:
    """:func:`replace_run` for many runs in one statement per table (an import of a thousand logs ran
    a dozen statements per run). ``source`` None: the runs relation has a ``source`` column, one label
    per run; the models are then recorded under ``models_source``. ``models`` is an Arrow table or the
    name of a relation with the models' columns."""
    # A run's rows in every table are written and replaced together with its ``runs`` row, in one
    # transaction, so runs the ``runs`` table lacks have no rows anywhere: a new run (every run's
    # first ingest, at the end of ``emergebench run``) skips five scans of the big tables.
    ids = "(SELECT unnest(?::VARCHAR[]))"
    stored = first_row(con.execute(f"SELECT count(*) FROM runs WHERE run_id IN {ids}", [run_ids]))
    for table in RUN_TABLES if stored and stored[0] else ():
        con.execute(f"DELETE FROM {table} WHERE run_id IN {ids}", [run_ids])
    for table, relation in sources.items():
        cols = ", ".join([*column_names(table), *(store_only or {}).get(table, [])])
        if table == "runs" and source is None:
            con.execute(f"INSERT INTO runs ({cols}, source) SELECT {cols}, source FROM {relation}")
        elif table == "runs":
            con.execute(f"INSERT INTO runs ({cols}, source) SELECT {cols}, ? FROM {relation}", [source])
        else:
            con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {relation}")
    if models is None or (not isinstance(models, str) and not models.num_rows):
        return
    if isinstance(models, str):
        ordered = f"(SELECT *, rowid AS _pos FROM {models})"  # a temp table's rowid is its insertion order
    else:
        import pyarrow as pa  # already loaded: ``models`` is an Arrow table

        con.register("_models_in", models.append_column("_pos", pa.array(range(models.num_rows), pa.int64())))
        ordered = "_models_in"
    # Each source keeps its own row (see the ``models`` view); within one source, known facts
    # (family, size) are never erased by a later run that lacks them. Several runs of one model in a
    # batch give one row (an upsert cannot touch a row twice): field by field, the last known value in
    # run order (``arg_max`` skips nulls), as storing the runs one at a time would leave it.
    latest = ", ".join(f"arg_max({c}, _pos)" for c in column_names("models")[1:])
    con.execute(
        f"""INSERT INTO model_sources
               SELECT model_id, {latest}, ? FROM {ordered} GROUP BY model_id
               ON CONFLICT (model_id, source) DO UPDATE SET
                 provider = coalesce(excluded.provider, provider), name = coalesce(excluded.name, name),
                 family = coalesce(excluded.family, family), parameters = coalesce(excluded.parameters, parameters),
                 quantization = coalesce(excluded.quantization, quantization)""",
        [models_source or source],
    )
    if not isinstance(models, str):
        con.unregister("_models_in")


def _stat(run_dir: Path) -> tuple[int, int, int]:
    journal = run_dir / JOURNAL_FILE
    result = run_dir / RESULT_FILE
    js = journal.stat() if journal.exists() else None
    rs = result.stat() if result.exists() else None
    return (js.st_size if js else 0, js.st_mtime_ns if js else 0, rs.st_mtime_ns if rs else 0)


@dataclass
class _Folder:
    """A run folder whose spec and result were read and checked, ready to be stored."""

    run_dir: Path
    spec: RunSpec
    result: RunResult | None
    run_id: str
    stat: tuple[int, int, int]

    @property
    def journal(self) -> Path:
        return self.run_dir / JOURNAL_FILE

    @property
    def recorded(self) -> int | None:
        """The sample count a finished run's run.json gives (None while it runs)."""
        finished = self.result is not None and self.result.status != "running"
        return self.result.n_samples if finished and self.result is not None else None


def _prepare(run_dir: Path, result: RunResult | None = None) -> _Folder:
    """Read and check a folder's spec.json and run.json; a folder that is not a run raises ValueError."""
    spec = read_spec(run_dir)
    result = result or read_result(run_dir)
    if result is None and (run_dir / RESULT_FILE).exists():
        raise ValueError(f"{run_dir / RESULT_FILE} is not a valid run result (damaged or edited by hand)")
    if spec is None and result is not None:
        spec = result.spec
    if spec is None:
        raise ValueError(f"{run_dir} is not a run folder: {SPEC_FILE} is missing or invalid")
    return _Folder(run_dir, spec, result, result.run_id if result else run_dir.name, _stat(run_dir))


def ingest_run_dir(con: duckdb.DuckDBPyConnection, run_dir: Path, result: RunResult | None = None) -> IngestReport:
    """Ingest one run folder with a writer connection (one transaction)."""
    folder = _prepare(run_dir, result)
    spec, result, run_id, stat = folder.spec, folder.result, folder.run_id, folder.stat
    try:
        counts = load_journal(con, folder.journal, run_id, folder.recorded)
        status = stored_status(result, run_dir, counts)
        # a few rows each, inserted without pyarrow: the ingest process and a small run never import it
        rows_table(con, "_run_row", "runs", [runs_row(spec, result, run_id, counts, status)])
        rows_table(con, "_metric_rows", "metrics", metric_rows(run_id, result))
        rows_table(con, "_model_rows", "models", model_rows(spec, result))
        sources = {**JOURNAL_SOURCES, "scores": scores_source(con)}
        con.execute("BEGIN TRANSACTION")
        try:
            with unordered(con):
                replace_run(
                    con,
                    run_id,
                    {"runs": "_run_row", **sources, "metrics": "_metric_rows"},
                    "_model_rows",
                    "local",
                    store_only={"model_calls": ["cost_usd"]},
                )
                if result is not None and result.cost_usd is not None:
                    con.execute("UPDATE runs SET cost_usd = ? WHERE run_id = ?", [result.cost_usd, run_id])
            con.execute(
                "INSERT OR REPLACE INTO ingest_log VALUES (?, ?, ?, ?, ?, now())",
                [str(run_dir.resolve()), run_id, *stat],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        for name in ("_run_row", "_metric_rows", "_model_rows", "_journal"):
            con.execute(f"DROP TABLE IF EXISTS {name}")
    return IngestReport(run_id, status, counts.samples, counts.damaged)


def changed_run_dirs(store: Store, runs_dir: Path | None = None) -> list[Path]:
    """Run folders whose journal or result changed since they were last ingested.

    A run stored as ``running`` whose writer has died since is included too: a SIGKILL leaves its
    files unchanged, so only the liveness check can notice it.
    """
    root = runs_dir or paths.runs_dir()
    if not root.exists():
        return []
    candidates = [p for p in root.iterdir() if p.is_dir() and (p / SPEC_FILE).exists()]
    if not candidates:
        return []
    with store.reader() as con:
        rows = con.execute(
            """SELECT l.run_dir, l.journal_size, l.journal_mtime_ns, l.result_mtime_ns, r.status
               FROM ingest_log l LEFT JOIN runs r USING (run_id)"""
        ).fetchall()
    known = {row[0]: tuple(row[1:4]) for row in rows}
    running = {row[0] for row in rows if row[4] == "running"}
    changed = []
    for path in sorted(candidates, key=lambda p: start_order(p.name)):  # as they were stored when each ended
        key = str(path.resolve())
        if known.get(key) != _stat(path) or (key in running and _writer_died(path)):
            changed.append(path)
    return changed


def _writer_died(run_dir: Path) -> bool:
    result = read_result(run_dir)
    return result is not None and stored_status(result, run_dir) == "killed"


def ingest_changed(store: Store, runs_dir: Path | None = None) -> list[IngestReport]:
    """Ingest every new or changed run folder; a broken folder is skipped, never fatal."""
    changed = changed_run_dirs(store, runs_dir)
    if not changed:
        return []
    return ingest_paths(store, changed)


def ingest_paths(store: Store, run_dirs: list[Path]) -> list[IngestReport]:
    """Ingest each folder on its own: one that cannot be read or stored is reported as skipped.

    Whatever a folder holds (an out-of-range seed, a damaged run.json, a journal DuckDB refuses), it
    never stops the other folders or the command that asked; only a damaged store itself is fatal.
    """
    from .ingest_batch import batches, ingest_batch  # it builds on this module

    reports: list[IngestReport] = []
    with store.writer() as con:
        for batch in batches(run_dirs):
            reports += ingest_batch(con, batch)
    return reports


def skip_reason(run_dir: Path, exc: BaseException) -> str:
    """One line naming the folder, the problem and the next step."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    where = "" if str(run_dir) in text else f"{run_dir}: "
    return f"{where}{text} (the folder stays on disk; fix or move it, then `emergebench ingest` it)"
