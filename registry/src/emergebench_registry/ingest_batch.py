"""Ingesting many run folders together: one journal read and one set of statements per batch.

Each DuckDB statement has a fixed cost of a few milliseconds, and one folder took about thirty of them,
so a rebuild of a thousand small runs spent most of its CPU there. A batch reads all its journals in one
``read_json`` over the list of files (``filename=true`` says which line came from which folder) and
stores every run with one statement per table. The checks stay per folder: a folder whose spec or
result is bad is skipped and named before the batch is formed; one the batch cannot take as is (a
(sample, epoch) written twice, a journal line too long for the shared read, a run id seen twice) goes
through the one-folder path, as does every folder of a batch DuckDB refuses as a whole, so one bad
folder is still reported on its own and never blocks the rest.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
from emergebench.journal import JOURNAL_FILE, journal_keys

from .ingest import (
    JOURNAL_COLUMNS,
    JOURNAL_SOURCES,
    N_CALLS,
    IngestReport,
    JournalCounts,
    _Folder,
    _prepare,
    count_lines,
    ingest_run_dir,
    metric_rows,
    model_rows,
    replace_runs,
    runs_row,
    scores_source,
    skip_reason,
    stored_status,
    to_arrow,
    unordered,
)
from .store import RegistryDamaged

# Up to this many folders, or this many journal bytes, are stored together (one big journal goes alone).
BATCH_RUNS = 200
BATCH_BYTES = 64 * 1024**2


def batches(run_dirs: list[Path]) -> list[list[Path]]:
    """Consecutive groups of at most BATCH_RUNS folders and about BATCH_BYTES of journal."""
    groups: list[list[Path]] = []
    size = 0
    for run_dir in run_dirs:
        journal = run_dir / JOURNAL_FILE
        nbytes = journal.stat().st_size if journal.is_file() else 0
        if not groups or len(groups[-1]) >= BATCH_RUNS or (groups[-1] and size + nbytes > BATCH_BYTES):
            groups.append([])
            size = 0
        groups[-1].append(run_dir)
        size += nbytes
    return groups


def _one(con: duckdb.DuckDBPyConnection, run_dir: Path) -> IngestReport:
    """The one-folder path: any problem of the folder becomes a 'skipped' report naming it."""
    try:
        return ingest_run_dir(con, run_dir)
    except RegistryDamaged:
        raise
    except Exception as exc:  # noqa: BLE001 - hostile folder contents: report, skip, go on
        return IngestReport(run_dir.name, f"skipped: {skip_reason(run_dir, exc)}", 0)


def _read_journals(con: duckdb.DuckDBPyConnection, folders: list[_Folder]) -> None:
    """All the folders' journals into ``_journal`` in one read; a line counts only for its folder's run."""
    if not folders:
        columns = ", ".join(f"NULL::{t} AS {c}" for c, t in JOURNAL_COLUMNS.items())
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _journal AS SELECT {columns}, NULL::BIGINT AS n_calls, "
            "NULL::VARCHAR AS filename WHERE false"
        )
        return
    con.register(
        "_expected",
        pa.table({"filename": [str(f.journal) for f in folders], "expected": [f.run_id for f in folders]}),
    )
    columns = "{" + ", ".join(f"'{c}': '{t}'" for c, t in JOURNAL_COLUMNS.items()) + "}"
    selected = ", ".join("coalesce(epoch, 0) AS epoch" if c == "epoch" else c for c in JOURNAL_COLUMNS)
    try:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _journal AS SELECT {selected}, {N_CALLS}, j.filename
                FROM read_json(?, format='newline_delimited', ignore_errors=true, columns={columns}, filename=true) j
                JOIN _expected e ON j.filename = e.filename AND j.run_id = e.expected
                WHERE sample_id IS NOT NULL""",
            [[str(f.journal) for f in folders]],
        )
    finally:
        con.unregister("_expected")


def _counts(con: duckdb.DuckDBPyConnection, folders: list[_Folder]) -> tuple[dict[Path, JournalCounts], list[_Folder]]:
    """Each folder's counts from the shared table, and the folders with a (sample, epoch) seen twice
    (their rows are removed here; the one-folder path keeps the right copy, in line order)."""
    rows = con.execute(
        """SELECT filename, count(*), count(DISTINCT hash(sample_id, epoch)), count(error)
           FROM _journal GROUP BY filename"""
    ).fetchall()
    by_file = {str(name): (int(n), int(distinct), int(errors)) for name, n, distinct, errors in rows}
    counts: dict[Path, JournalCounts] = {}
    twice: list[_Folder] = []
    for folder in folders:
        n, distinct, errors = by_file.get(str(folder.journal), (0, 0, 0))
        if distinct < n:
            twice.append(folder)
            continue
        exists = folder.journal.is_file() and folder.journal.stat().st_size > 0
        intact = folder.recorded is not None and n == folder.recorded
        damaged = (
            []
            if not exists or intact or count_lines(folder.journal) <= n
            else journal_keys(folder.journal, folder.run_id)[1]
        )
        counts[folder.run_dir] = JournalCounts(n, errors, damaged)
    if twice:
        con.execute(
            "DELETE FROM _journal WHERE filename IN (SELECT unnest(?::VARCHAR[]))", [[str(f.journal) for f in twice]]
        )
    return counts, twice


def _rows(
    con: duckdb.DuckDBPyConnection, folders: list[_Folder], counts: dict[Path, JournalCounts]
) -> tuple[list[_Folder], list[Path], list[IngestReport], dict[str, list[pa.Table]]]:
    """Each folder's runs/metrics/models rows; a folder whose rows cannot be formed (a value out of
    range) leaves the batch, its journal rows removed, for the one-folder path to report."""
    kept, refused, reports = [], [], []
    tables: dict[str, list[pa.Table]] = {"runs": [], "metrics": [], "models": []}
    for folder in folders:
        spec, result, run_id, count = folder.spec, folder.result, folder.run_id, counts[folder.run_dir]
        try:
            status = stored_status(result, folder.run_dir, count)
            rows = {
                "runs": to_arrow("runs", [runs_row(spec, result, run_id, count, status)]),
                "metrics": to_arrow("metrics", metric_rows(run_id, result)),
                "models": to_arrow("models", model_rows(spec, result)),
            }
        except Exception:  # noqa: BLE001 - reported by the one-folder path
            refused.append(folder.run_dir)
            continue
        for table, rows_of in rows.items():
            tables[table].append(rows_of)
        kept.append(folder)
        reports.append(IngestReport(run_id, status, count.samples, count.damaged))
    if refused:
        con.execute(
            "DELETE FROM _journal WHERE filename IN (SELECT unnest(?::VARCHAR[]))",
            [[str(d / JOURNAL_FILE) for d in refused]],
        )
    return kept, refused, reports, tables


def _store(con: duckdb.DuckDBPyConnection, folders: list[_Folder], tables: dict[str, list[pa.Table]]) -> None:
    """Store the batch's runs in one transaction (rolled back whole if DuckDB refuses any of it)."""
    costs = [(f.run_id, f.result.cost_usd) for f in folders if f.result is not None and f.result.cost_usd is not None]
    log = pa.table(
        {
            "run_dir": [str(f.run_dir.resolve()) for f in folders],
            "run_id": [f.run_id for f in folders],
            "journal_size": [f.stat[0] for f in folders],
            "journal_mtime_ns": [f.stat[1] for f in folders],
            "result_mtime_ns": [f.stat[2] for f in folders],
        }
    )
    con.register("_runs_in", pa.concat_tables(tables["runs"]))
    con.register("_metrics_in", pa.concat_tables(tables["metrics"]))
    con.register("_log_in", log)
    con.register(
        "_costs_in", pa.table({"run_id": [c[0] for c in costs], "cost": pa.array([c[1] for c in costs], pa.float64())})
    )
    try:
        sources = {**JOURNAL_SOURCES, "scores": scores_source(con)}
        con.execute("BEGIN TRANSACTION")
        try:
            with unordered(con):
                replace_runs(
                    con,
                    [f.run_id for f in folders],
                    {"runs": "_runs_in", **sources, "metrics": "_metrics_in"},
                    pa.concat_tables(tables["models"]),
                    "local",
                    store_only={"model_calls": ["cost_usd"]},
                )
                if costs:
                    con.execute("UPDATE runs SET cost_usd = c.cost FROM _costs_in c WHERE runs.run_id = c.run_id")
            con.execute("INSERT OR REPLACE INTO ingest_log SELECT *, now() FROM _log_in")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        for name in ("_runs_in", "_metrics_in", "_log_in", "_costs_in"):
            con.unregister(name)


def ingest_batch(con: duckdb.DuckDBPyConnection, run_dirs: list[Path]) -> list[IngestReport]:
    """Ingest ``run_dirs`` together, reports in their order; see the module docstring for the fallbacks."""
    reports: dict[Path, IngestReport] = {}
    folders: list[_Folder] = []
    alone: list[Path] = []
    seen: set[str] = set()
    for run_dir in run_dirs:
        try:
            folder = _prepare(run_dir)
        except Exception as exc:  # noqa: BLE001 - hostile folder contents: report, skip, go on
            reports[run_dir] = IngestReport(run_dir.name, f"skipped: {skip_reason(run_dir, exc)}", 0)
            continue
        if folder.run_id in seen:
            alone.append(run_dir)  # stored after the batch, replacing the earlier copy as before
        else:
            seen.add(folder.run_id)
            folders.append(folder)
    try:
        if folders:
            with unordered(con):
                _read_journals(con, [f for f in folders if f.journal.is_file() and f.journal.stat().st_size > 0])
            counts, twice = _counts(con, folders)
            alone = [f.run_dir for f in twice] + alone
            batch, refused, batch_reports, tables = _rows(con, [f for f in folders if f.run_dir in counts], counts)
            alone = refused + alone
            if batch:
                _store(con, batch, tables)
            reports.update({f.run_dir: r for f, r in zip(batch, batch_reports, strict=True)})
    except RegistryDamaged:
        raise
    except Exception:  # noqa: BLE001 - something in the batch was refused: each folder on its own
        alone = [f.run_dir for f in folders if f.run_dir not in reports] + alone
    finally:
        con.execute("DROP TABLE IF EXISTS _journal")
    for run_dir in alone:
        reports[run_dir] = _one(con, run_dir)
    return [reports[run_dir] for run_dir in dict.fromkeys(run_dirs) if run_dir in reports]
