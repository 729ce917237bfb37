"""Results of other evaluation frameworks imported into the registry, next to native runs: one reader
per format, each yielding :class:`~.common.ExternalRun`; every file is read, validated and stored on its
own, so one malformed file is reported by name while the rest of a batch lands."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from emergebench.errors import UsageError

from ..shards import RunBundle
from ..store import Store
from . import eee, helm, inspect_log, lm_eval
from .common import ExternalRun, ImportFormatError, to_bundle
from .model_names import ModelRule, family_and_size, load_rules, rule_for

Reader = Callable[[Path, dict[str, str]], list[ExternalRun]]
READERS: dict[str, tuple[Reader, tuple[str, ...]]] = {
    "inspect": (inspect_log.read, (".eval", ".json")),
    "lm-eval": (lm_eval.read, ("results_*.json",)),
    "eee": (eee.read, (".json",)),
    "helm": (helm.read, (helm.RUN_SPEC,)),
}
# Formats whose unit is a folder: a folder holding this file is one run (HELM's run folders).
FOLDER_UNITS = {"helm": helm.RUN_SPEC}


@dataclass
class ImportResultsReport:
    imported: list[str] = field(default_factory=list)  # run ids
    unchanged: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)  # file -> reason


def expand(fmt: str, paths: list[Path]) -> list[Path]:
    """What to read: the files given, and inside folders those the format writes. For a format whose
    unit is a folder (HELM), each folder holding its marker file; a folder given that holds none is
    kept as it is, so the reader refuses it by name instead of it being skipped in silence."""
    patterns = READERS[fmt][1]
    marker = FOLDER_UNITS.get(fmt)
    files: list[Path] = []
    for path in paths:
        if path.is_dir() and marker:
            found = sorted(p.parent for p in path.rglob(marker) if p.is_file())
            files.extend(found or [path])
        elif path.is_dir():
            for pattern in patterns:
                glob = pattern if "*" in pattern else f"*{pattern}"
                files.extend(sorted(p for p in path.rglob(glob) if p.is_file()))
        elif path.exists():
            files.append(path.parent if path.name == marker else path)
        else:
            raise UsageError(f"no such file or folder: {path}")
    return list(dict.fromkeys(files))


def _describe_model(run: ExternalRun, rules: list[ModelRule]) -> None:
    """Family and size: the user's table first, then what the source states (EEE records may give a
    parameter count), then the size in the model's name."""
    if rule_for(run.model_id, rules) is not None or (run.family is None and run.parameters is None):
        run.family, run.parameters = family_and_size(run.model_id, rules)
        return
    family, parameters = family_and_size(run.model_id, [])
    run.family = run.family or family
    run.parameters = run.parameters or parameters


# A batch is applied under one writer connection at a time, released at least this often so that a run
# finishing meanwhile can ingest (opening and migrating the store per file cost ~0.2 s a file). Within
# it, files are read and checked one by one and stored together, one statement per table for up to
# FLUSH_FILES files or FLUSH_ROWS rows (a dozen statements per run made the runs' storage ~80% of an
# import's time); a batch that fails is stored again file by file, so one bad file never blocks others.
HOLD_WRITER_S = 5.0
FLUSH_FILES = 200
FLUSH_ROWS = 200_000


@dataclass
class _Parsed:
    label: str
    bundles: list[RunBundle]
    source: str
    models_source: str

    @property
    def rows(self) -> int:
        return sum(shard.data.num_rows for b in self.bundles for shard in b.shards.values())


def import_results(
    store: Store,
    fmt: str,
    paths: list[Path],
    task_map: dict[str, str] | None = None,
    models_file: Path | None = None,
) -> ImportResultsReport:
    if fmt not in READERS:
        raise UsageError(f"unknown format {fmt!r}: choose one of {', '.join(sorted(READERS))}")
    rules = load_rules(models_file)
    report = ImportResultsReport()
    files = expand(fmt, paths)
    done = 0
    while done < len(files):
        with store.writer() as con:
            until = time.monotonic() + HOLD_WRITER_S
            pending: list[_Parsed] = []
            while done < len(files) and time.monotonic() < until:
                parsed = _parse(fmt, files[done], task_map or {}, rules, report)
                done += 1
                if parsed is None:
                    continue
                if {b.run_id for b in parsed.bundles} & {b.run_id for p in pending for b in p.bundles}:
                    _store(con, pending, report)  # two files of one run (inspect's .json and .eval)
                    pending = []
                pending.append(parsed)
                if len(pending) >= FLUSH_FILES or sum(p.rows for p in pending) >= FLUSH_ROWS:
                    _store(con, pending, report)
                    pending = []
            _store(con, pending, report)
    return report


def _parse(
    fmt: str, path: Path, task_map: dict[str, str], rules: list[ModelRule], report: ImportResultsReport
) -> _Parsed | None:
    """Read and validate one file; a failure is recorded against it."""
    try:
        runs = READERS[fmt][0](path, task_map)
        bundles = []
        for run in runs:
            _describe_model(run, rules)
            bundles.append(to_bundle(run, str(path)))
    except (ImportFormatError, UsageError) as exc:
        report.rejected[str(path)] = str(exc)
        return None
    except Exception as exc:  # a hostile file must never stop the batch or show a traceback
        report.rejected[str(path)] = f"{path}: unreadable ({type(exc).__name__}: {exc})"
        return None
    if not runs:
        return None
    # Model facts are kept per framework, not per file: a thousand logs of one model are one row.
    return _Parsed(str(path), bundles, runs[0].source, f"import:{runs[0].framework}")


def _store(con: duckdb.DuckDBPyConnection, pending: list[_Parsed], report: ImportResultsReport) -> None:
    """Store parsed files in one transaction; if that fails, file by file (each its own transaction)."""
    from ..shards import _conflict, apply_bundles

    todo: list[tuple[RunBundle, str]] = []
    for parsed in pending:
        verdicts = [(run, _conflict(con, run)) for run in parsed.bundles]
        refused = {run.shards["runs"].label: v for run, v in verdicts if isinstance(v, str)}
        if refused:  # as apply_bundles: a file with a conflicting run lands none of its runs
            report.rejected.update(refused)
            continue
        report.unchanged += [run.run_id for run, v in verdicts if v is True]
        todo += [(run, parsed.source) for run, v in verdicts if v is not True]
    if not todo:
        return
    try:
        _replace_together(con, todo, pending[0].models_source)
    except Exception:
        for parsed in pending:  # find the file DuckDB refused; the others land
            try:
                outcome = apply_bundles(con, parsed.bundles, parsed.source, models_source=parsed.models_source)
            except Exception as exc:
                report.rejected[parsed.label] = f"{parsed.label}: not stored ({type(exc).__name__}: {exc})"
                continue
            report.imported += [r for r in outcome.imported if r not in report.imported]
        return
    report.imported += [run.run_id for run, _ in todo]


def _replace_together(con: duckdb.DuckDBPyConnection, todo: list[tuple[RunBundle, str]], models_source: str) -> None:
    import pyarrow as pa

    from ..ingest import replace_runs
    from ..shards import SHARD_TABLES

    names = {}
    con.execute("BEGIN TRANSACTION")
    try:
        for table in SHARD_TABLES:
            if table == "models":
                continue
            data = pa.concat_tables([run.shards[table].data for run, _ in todo])
            if table == "runs":
                data = data.append_column("source", pa.array([source for _, source in todo], pa.string()))
            names[table] = f"_in_{table}"
            con.register(names[table], data)
        models = pa.concat_tables([run.shards["models"].data for run, _ in todo])
        replace_runs(con, [run.run_id for run, _ in todo], names, models, None, models_source=models_source)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        for name in names.values():
            con.unregister(name)
