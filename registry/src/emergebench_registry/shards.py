"""Immutable per-run Parquet shards: export, validation and import.

Layout: ``data/<table>/<task>/<run_id>.parquet`` (zstd), one shard per table per run, every run with
all six tables (possibly empty) so a run arrives complete or not at all. Import treats every file as
hostile: size, Parquet framing, exact column names and types, row counts, keys, run ids, JSON
validity and key collisions are all checked on every shard before the store is opened for writing,
and a batch is applied in one transaction, so a rejected import leaves the store exactly as it was.
"""

from __future__ import annotations

import json
import os
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from emergebench.errors import UsageError
from emergebench.run_ids import start_order

from . import identifiers
from .ingest import replace_runs
from .model_sources import unused_models
from .parquet_guard import Limits, ParquetLimitError, decode, open_checked
from .schema import _JSON_COLUMNS, ADDED_COLUMNS, KEYS, LOCAL_SOURCE, SHARD_SCHEMAS, first_row
from .store import Store

SHARD_TABLES = tuple(SHARD_SCHEMAS)  # runs, models, samples, scores, model_calls, metrics
STATUSES = {"running", "complete", "partial", "interrupted", "failed", "killed"}
# Columns holding identifiers, with the grammar each must fit (identifiers.GRAMMAR); None allowed
# where the column is nullable in practice (a run without a grader, a call without a model name).
ID_COLUMNS: dict[str, dict[str, tuple[str, bool]]] = {
    "runs": {
        "run_id": ("run_id", False),
        "task": ("task", False),
        "model_id": ("model_id", False),
        "grader_model": ("model_id", True),
        "source_run_id": ("run_id", True),
        "main_metric": ("score_name", True),
    },
    "models": {"model_id": ("model_id", False)},
    "scores": {"name": ("score_name", False)},
    "metrics": {"name": ("score_name", False)},
    "model_calls": {"model": ("model_id", True)},
}
# Timestamps a Python client can read back (datetime stops at year 9999); runs are never older than 1970.
TS_MIN_US = 0
TS_MAX_US = 253_402_300_799_999_999
# Sample ids are never used in paths; they may be any text without control characters.
TEXT_ID_MAX = 512


def direction_problem(text: str | None) -> str | None:
    """Why a ``lower_is_better`` value (a JSON list of score names, or null) cannot be stored."""
    if text is None:
        return None
    try:
        names = json.loads(text)
    except ValueError:
        return "is not valid JSON"
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return "must be a JSON list of metric names"
    for name in names:
        problem = identifiers.problem("score_name", name)
        if problem:
            return f"names {name!r}: {problem}"
    return None


class ShardError(UsageError):
    """A shard that failed validation: the message names the file and the problem."""


def shard_path(table: str, task: str, run_id: str) -> str:
    """The repo-relative path of a shard; the task name may contain '/' (namespaced tasks).

    Raises :class:`identifiers.IdentifierError` when the task or run id does not fit the grammar.
    """
    identifiers.check("table", table)
    identifiers.check("task", task)
    identifiers.check("run_id", run_id)
    return f"data/{table}/{task}/{run_id}.parquet"


def shard_name_problem(path: str) -> str | None:
    """Why ``path`` (repo-relative, or a local path ending in data/...) is not a valid shard name."""
    rel = _from_data(path)
    return identifiers.shard_file_problem(rel if rel is not None else path, SHARD_TABLES)


def _from_data(path: str) -> str | None:
    """The ``data/<table>/...`` tail of a path (the rightmost one whose table is a shard table)."""
    parts = path.replace(os.sep, "/").split("/")
    for index in range(len(parts) - 4, -1, -1):
        if parts[index] == "data" and parts[index + 1] in SHARD_SCHEMAS:
            return "/".join(parts[index:])
    return None


def parse_shard_path(path: str) -> tuple[str, str, str] | None:
    """(table, task, run_id) for a valid path of the shard layout, else None."""
    rel = _from_data(path)
    if rel is None or identifiers.shard_file_problem(rel, SHARD_TABLES) is not None:
        return None
    return identifiers.check_shard_path(rel, SHARD_TABLES)


def _run_tables(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, pa.Table]:
    out: dict[str, pa.Table] = {}
    for table, schema in SHARD_SCHEMAS.items():
        cols = ", ".join(f"{f.name}::VARCHAR AS {f.name}" if f.name in _JSON_COLUMNS else f.name for f in schema)
        if table == "models":
            sql = (
                f"SELECT {cols} FROM models WHERE model_id IN "
                "(SELECT model_id FROM runs WHERE run_id = $r UNION SELECT grader_model FROM runs WHERE run_id = $r)"
                " ORDER BY model_id"
            )
        else:
            sql = f"SELECT {cols} FROM {table} WHERE run_id = $r ORDER BY {', '.join(KEYS[table])}"
        arrow = con.sql(sql, params={"r": run_id}).to_arrow_table()
        out[table] = arrow.cast(schema)
    return out


def write_shard(table: pa.Table, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    pq.write_table(table, tmp, compression="zstd", write_statistics=True)
    os.replace(tmp, dest)


@dataclass
class ExportReport:
    written: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)


def selected_runs(
    con: duckdb.DuckDBPyConnection, run_ids: list[str] | None, include_running: bool
) -> list[tuple[str, str]]:
    """(run_id, task) of the runs an export writes: the ids given (each must exist), else every run,
    leaving out those still running unless asked."""
    where = "" if include_running else "WHERE status <> 'running'"
    rows = con.execute(f"SELECT run_id, task FROM runs {where} ORDER BY run_id").fetchall()
    if run_ids is None:
        return rows
    wanted = set(run_ids)
    unknown = wanted - {r[0] for r in rows}
    if unknown:
        raise UsageError(
            f"no exportable run(s) {', '.join(sorted(unknown))} in the registry "
            "(unknown ids, or runs still running: see `emergebench runs`)"
        )
    return [r for r in rows if r[0] in wanted]


def export_runs(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    run_ids: list[str] | None = None,
    include_running: bool = False,
    contributor: str | None = None,
) -> ExportReport:
    """Write each selected run's shards under ``out_dir``; existing shards are immutable and kept."""
    report = ExportReport()
    for run_id, task in selected_runs(con, run_ids, include_running):
        try:
            targets = {t: identifiers.contained(out_dir, shard_path(t, task, run_id)) for t in SHARD_TABLES}
        except UsageError as exc:
            raise ShardError(f"cannot export run {run_id!r}: {exc}") from None
        if all(p.exists() for p in targets.values()):
            report.skipped.extend(targets.values())
            continue
        tables = _run_tables(con, run_id)
        if contributor:
            runs = tables["runs"]
            filled = pc.coalesce(runs["contributor"], pa.scalar(contributor))
            tables["runs"] = runs.set_column(runs.schema.get_field_index("contributor"), "contributor", filled)
        for table, dest in targets.items():
            if dest.exists():
                report.skipped.append(dest)
            else:
                write_shard(tables[table], dest)
                report.written.append(dest)
        report.runs.append(run_id)
    return report


# -- validation ---------------------------------------------------------------------------------
@dataclass
class Shard:
    path: Path
    label: str
    table: str
    run_id: str
    data: pa.Table


def _fail(label: str, problem: str) -> ShardError:
    return ShardError(f"rejected shard {label}: {problem}")


def read_shard(path: Path, label: str | None = None, limits: Limits | None = None) -> Shard:
    """Read and fully validate one shard file; raises ShardError naming the file and the problem.

    Memory stays bounded whatever the file holds: sizes are checked in the footer and in every page
    header before anything is decompressed, then row groups are decoded one at a time (parquet_guard).
    """
    label = label or str(path)
    name = label if _from_data(label) is not None else str(path)
    why = shard_name_problem(name)
    parsed = parse_shard_path(name)
    if why is not None or parsed is None:
        raise _fail(label, why or "its name is not a shard name")
    table, task, run_id = parsed
    limits = limits or Limits.from_env()
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise _fail(label, f"cannot be read ({exc.strerror})") from None
    with open(path, "rb") as handle:
        head = handle.read(4)
        handle.seek(max(0, size - 4))
        tail = handle.read(4)
    if size < 12 or head != b"PAR1" or tail != b"PAR1":
        raise _fail(label, "is not a complete Parquet file (missing PAR1 magic: truncated or not Parquet)")
    try:
        parquet = open_checked(str(path), limits)
    except ParquetLimitError as exc:
        raise _fail(label, str(exc)) from None
    except (pa.ArrowException, OSError) as exc:
        raise _fail(label, f"has an unreadable Parquet footer ({_short(exc)})") from None
    meta = parquet.metadata
    expected = SHARD_SCHEMAS[table]
    try:
        actual = meta.schema.to_arrow_schema()
    except (pa.ArrowException, OSError) as exc:
        raise _fail(label, f"has an unreadable schema ({_short(exc)})") from None
    added = [n for n in ADDED_COLUMNS.get(table, ()) if n not in actual.names]
    if added:  # written before these columns existed: read what it has, the rest is null
        expected = pa.schema([f for f in expected if f.name not in added])
    if actual.names != expected.names:
        missing = [n for n in expected.names if n not in actual.names]
        extra = [n for n in actual.names if n not in expected.names]
        detail = "; ".join(
            x
            for x in (
                f"missing columns {missing}" if missing else "",
                f"unexpected columns {[n[:40] for n in extra][:5]}" if extra else "",
                "columns out of order or repeated" if not missing and not extra else "",
            )
            if x
        )
        raise _fail(label, f"does not match the {table!r} shard schema: {detail}")
    for fld in expected:
        got = actual.field(fld.name).type
        if got != fld.type:
            raise _fail(label, f"column {fld.name!r} has type {got}, expected {fld.type}")
    try:
        data = decode(parquet, expected, limits)
    except ParquetLimitError as exc:
        raise _fail(label, str(exc)) from None
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise _fail(label, f"is corrupt ({_short(exc)})") from None
    if data.num_rows != meta.num_rows:
        raise _fail(label, f"holds {data.num_rows} rows but its footer says {meta.num_rows}")
    if added:
        data = upgrade_shard(table, data)
    _check_content(label, table, run_id, data)
    if table == "runs" and data["task"][0].as_py() != task:
        raise _fail(label, f"its file name says task {task!r} but its row says {data['task'][0].as_py()!r}")
    return Shard(path, label, table, run_id, data)


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]


def _check_identifiers(label: str, table: str, data: pa.Table) -> None:
    for column, (kind, nullable) in ID_COLUMNS.get(table, {}).items():
        values = pc.unique(data[column])
        for value in values.to_pylist():
            if value is None and nullable:
                continue
            why = identifiers.problem(kind, value)
            if why is not None:
                raise _fail(label, f"column {column!r}: {why}")
    if "sample_id" in data.column_names and data.num_rows:
        for value in pc.unique(data["sample_id"]).to_pylist():
            if value is None or not value or len(value) > TEXT_ID_MAX or not value.isprintable():
                raise _fail(
                    label,
                    f"column 'sample_id': {str(value)[:60]!r} is not a valid sample id "
                    f"(1-{TEXT_ID_MAX} printable characters)",
                )


def upgrade_shard(table: str, data: pa.Table) -> pa.Table:
    """An older shard in today's column layout: columns added since are null."""
    full = SHARD_SCHEMAS[table]
    columns = [data[f.name] if f.name in data.column_names else pa.nulls(data.num_rows, type=f.type) for f in full]
    return pa.Table.from_arrays(columns, schema=full)


def _check_content(label: str, table: str, run_id: str, data: pa.Table) -> None:
    for key in KEYS[table]:
        nulls = data[key].null_count
        if nulls:
            raise _fail(label, f"key column {key!r} has {nulls} null value(s)")
    _check_identifiers(label, table, data)
    if "run_id" in data.column_names and data.num_rows:
        others = pc.unique(pc.filter(data["run_id"], pc.not_equal(data["run_id"], run_id)))
        if len(others):
            raise _fail(label, f"holds rows of run(s) {others.to_pylist()[:3]}, but its file name says {run_id!r}")
    if table == "runs":
        if data.num_rows != 1:
            raise _fail(label, f"a runs shard holds exactly one row, this one has {data.num_rows}")
        status = data["status"][0].as_py()
        if status not in STATUSES:
            raise _fail(label, f"status {status!r} is not one of {sorted(STATUSES)}")
        if "lower_is_better" in data.column_names:
            problem = direction_problem(data["lower_is_better"][0].as_py())
            if problem:
                raise _fail(label, f"column 'lower_is_better' {problem}")
    for fld in SHARD_SCHEMAS[table]:
        if pa.types.is_timestamp(fld.type) and data.num_rows and data[fld.name].null_count < data.num_rows:
            low, high = pc.min_max(data[fld.name].cast(pa.int64())).values()
            if low.as_py() < TS_MIN_US or high.as_py() > TS_MAX_US:
                raise _fail(label, f"column {fld.name!r} holds a timestamp outside 1970-01-01..9999-12-31")
    for name in ("epoch", "call_index"):
        if name in data.column_names and data.num_rows and pc.min(data[name]).as_py() < 0:
            raise _fail(label, f"column {name!r} has a negative value")
    # Each DuckDB statement costs ~3 ms of CPU even on a 20-row shard, so the common case is one Arrow
    # group-by (keys unique) and one scan for all JSON columns; DuckDB is asked for details only on failure.
    json_columns = [c for c in data.column_names if c in _JSON_COLUMNS]
    keys_unique = data.group_by(KEYS[table]).aggregate([([], "count_all")]).num_rows == data.num_rows
    if keys_unique and not (json_columns and data.num_rows):
        return
    con = _checker()
    try:
        con.register("shard", data)
        if not keys_unique:
            keys = ", ".join(KEYS[table])
            dup = first_row(
                con.execute(
                    f"SELECT {keys}, count(*) AS copies, count(DISTINCT shard) AS versions FROM shard "
                    f"GROUP BY {keys} HAVING count(*) > 1 ORDER BY versions DESC LIMIT 1"
                )
            )
            if dup is not None and dup[-1] > 1:
                raise _fail(label, f"has duplicate key {dup[:-2]} with different contents")
            if dup is not None:
                raise _fail(label, f"has duplicate key {dup[:-2]} ({dup[-2]} copies)")
        invalid = ", ".join(f"count_if({c} IS NOT NULL AND NOT json_valid({c}))" for c in json_columns)
        counts = first_row(con.execute(f"SELECT {invalid} FROM shard")) if json_columns else None
        for col, bad_count in zip(json_columns, counts or (), strict=False):
            if bad_count:
                bad = first_row(
                    con.execute(f"SELECT {col} FROM shard WHERE {col} IS NOT NULL AND NOT json_valid({col}) LIMIT 1")
                )
                raise _fail(label, f"column {col!r} holds invalid JSON: {str(bad[0] if bad else '')[:60]!r}")
    finally:
        con.unregister("shard")


_local = threading.local()


def _checker() -> duckdb.DuckDBPyConnection:
    """This thread's in-memory DuckDB for shard checks: opened once (opening one per shard cost 0.1 s+)."""
    con = getattr(_local, "con", None)
    if con is None:
        con = duckdb.connect(config={"autoinstall_known_extensions": "false", "enable_external_access": "false"})
        _local.con = con
    return con


# -- import -------------------------------------------------------------------------------------
@dataclass
class RunBundle:
    run_id: str
    shards: dict[str, Shard]

    @property
    def runs_row(self) -> dict[str, object]:
        return self.shards["runs"].data.to_pylist()[0]


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)  # label -> problem


def bundle(shards: list[Shard]) -> tuple[list[RunBundle], dict[str, str]]:
    """Group validated shards by run; a run missing any table, or given twice, is a problem."""
    by_run: dict[str, dict[str, Shard]] = defaultdict(dict)
    problems: dict[str, str] = {}
    for shard in shards:
        existing = by_run[shard.run_id].get(shard.table)
        if existing is not None and not existing.data.equals(shard.data):
            problems[shard.label] = (
                f"rejected shard {shard.label}: run {shard.run_id!r} table {shard.table!r} is also in "
                f"{existing.label} with different contents"
            )
            continue
        by_run[shard.run_id][shard.table] = shard
    bundles = []
    for run_id, tables in sorted(by_run.items(), key=lambda item: start_order(item[0])):
        missing = [t for t in SHARD_TABLES if t not in tables]
        if missing:
            some = next(iter(tables.values())).label
            problems[some] = (
                f"run {run_id!r} is incomplete: no shard for table(s) {', '.join(missing)} (next to {some})"
            )
            continue
        models = tables["models"].data
        run_model = tables["runs"].data["model_id"][0].as_py()
        if run_model not in models["model_id"].to_pylist():
            problems[tables["models"].label] = (
                f"rejected shard {tables['models'].label}: it lacks the run's model {run_model!r}"
            )
            continue
        if extra := unused_models(tables["runs"].data, models):
            problems[tables["models"].label] = (
                f"rejected shard {tables['models'].label}: it describes model(s) {extra[:3]} that run "
                f"{run_id!r} does not use"
            )
            continue
        bundles.append(RunBundle(run_id, tables))
    return bundles, problems


def _conflict(con: duckdb.DuckDBPyConnection, run: RunBundle) -> str | None | bool:
    """None: new run; True: identical to the stored one; a string: why it conflicts."""
    stored = first_row(
        con.execute(
            "SELECT status, spec_id, n_samples, finished_at, task, task_version, source FROM runs WHERE run_id = ?",
            [run.run_id],
        )
    )
    if stored is None:
        return None
    row = run.runs_row
    incoming = (row["status"], row["spec_id"], row["n_samples"], row["finished_at"], row["task"], row["task_version"])
    if stored[1] != incoming[1] or stored[4:6] != incoming[4:]:
        return f"run {run.run_id!r} already exists in the store with a different spec ({stored[1]} vs {incoming[1]})"
    if tuple(stored[:4]) == incoming[:4]:
        return True
    if stored[0] == "complete":
        return f"run {run.run_id!r} is complete in the store and the shard's copy differs (status {incoming[0]})"
    if stored[6] == LOCAL_SOURCE:
        return f"run {run.run_id!r} is a local run here (status {stored[0]}); a copy from elsewhere never replaces it"
    return False  # the stored copy is unfinished: the incoming one replaces it


def apply_bundles(
    con: duckdb.DuckDBPyConnection, runs: list[RunBundle], source: str, models_source: str | None = None
) -> ImportReport:
    """Insert validated runs in one transaction (the caller holds the writer)."""
    report = ImportReport()
    todo: list[RunBundle] = []
    for run in runs:
        verdict = _conflict(con, run)
        if verdict is True:
            report.unchanged.append(run.run_id)
        elif isinstance(verdict, str):
            report.rejected[run.shards["runs"].label] = verdict
        else:
            todo.append(run)
    if report.rejected:
        return report
    if not todo:
        return report
    # One statement per table for all runs (a run at a time cost a dozen statements each): the shards
    # of a table share its schema, so they are concatenated and registered once.
    by_table: dict[str, list[pa.Table]] = defaultdict(list)
    for run in todo:
        for table, shard in run.shards.items():
            by_table[table].append(shard.data)
    names = {table: f"_in_{table}" for table in by_table if table != "models"}
    con.execute("BEGIN TRANSACTION")
    try:
        for table, name in names.items():
            con.register(name, pa.concat_tables(by_table[table]))
        models = pa.concat_tables(by_table["models"]) if by_table.get("models") else None
        replace_runs(con, [run.run_id for run in todo], names, models, source, models_source=models_source)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        for name in names.values():
            con.unregister(name)
    report.imported += [run.run_id for run in todo]
    return report


def import_paths(store: Store, inputs: list[Path], source: str = "import") -> ImportReport:
    """Validate every shard under ``inputs`` first; any problem rejects the whole batch untouched."""
    files: list[Path] = []
    for item in inputs:
        if item.is_dir():
            files.extend(sorted(item.rglob("*.parquet")))
        elif item.exists():
            files.append(item)
        else:
            raise UsageError(f"no such file or folder: {item}")
    if not files:
        raise UsageError(f"no .parquet shards found under {', '.join(map(str, inputs))}")
    shards, problems = [], {}
    for path in files:
        try:
            shards.append(read_shard(path))
        except ShardError as exc:
            problems[str(path)] = str(exc)
    runs, bundle_problems = bundle(shards)
    problems.update(bundle_problems)
    if problems:
        raise ShardError(
            "import rejected, the registry was not changed:\n" + "\n".join(f"  - {p}" for p in problems.values())
        )
    with store.writer() as con:
        report = apply_bundles(con, runs, source)
    if not report.rejected:
        from .kept import keep  # kept.py builds on this module

        keep(store.path, [r for r in runs if r.run_id in set(report.imported)], source)
    if report.rejected:
        raise ShardError(
            "import rejected, the registry was not changed:\n"
            + "\n".join(f"  - {label}: {p}" for label, p in report.rejected.items())
        )
    return report
