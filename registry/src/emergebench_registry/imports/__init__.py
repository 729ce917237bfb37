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
# finishing meanwhile can ingest (opening and migrating the store per file cost ~0.2 s a file).
HOLD_WRITER_S = 2.0


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
            while done < len(files) and time.monotonic() < until:
                _import_one(con, fmt, files[done], task_map or {}, rules, report)
                done += 1
    return report


def _import_one(
    con: duckdb.DuckDBPyConnection,
    fmt: str,
    path: Path,
    task_map: dict[str, str],
    rules: list[ModelRule],
    report: ImportResultsReport,
) -> None:
    """Read, validate and store one file (one transaction); any failure is recorded against it."""
    from ..shards import apply_bundles

    try:
        runs = READERS[fmt][0](path, task_map)
        bundles = []
        for run in runs:
            _describe_model(run, rules)
            bundles.append(to_bundle(run, str(path)))
        if not runs:
            return
        # Model facts are kept per framework, not per file: a thousand logs of one model are one row.
        outcome = apply_bundles(con, bundles, runs[0].source, models_source=f"import:{runs[0].framework}")
    except (ImportFormatError, UsageError) as exc:
        report.rejected[str(path)] = str(exc)
        return
    except Exception as exc:  # a hostile file must never stop the batch or show a traceback
        report.rejected[str(path)] = f"{path}: unreadable ({type(exc).__name__}: {exc})"
        return
    report.imported += outcome.imported
    report.unchanged += outcome.unchanged
    for label, why in outcome.rejected.items():
        report.rejected[label] = why
