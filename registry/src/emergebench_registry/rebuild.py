"""Recreating the store from the truth on disk: the run folders plus the shards kept per source.

The new store is built beside the old one and swapped in with one rename while the writer lock is
held, so a reader sees either the old file or the complete new one. The old file is kept aside
(never deleted): it may be damaged, but it is the user's to inspect or remove.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from emergebench.errors import UsageError
from filelock import Timeout

from .ingest import IngestReport, ingest_changed
from .kept import kept_sources
from .shards import ShardError, apply_bundles, bundle, read_shard
from .store import LOCK_TIMEOUT_S, Store


@dataclass
class RebuildReport:
    local: list[IngestReport] = field(default_factory=list)
    pulled: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)
    kept_aside: Path | None = None


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _remove(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def rebuild(store: Store, runs_dir: Path | None = None) -> RebuildReport:
    """Build a fresh store from ``runs_dir`` (default: the emergebench home's) and the kept shards."""
    path = store.path
    fresh_path = path.with_name(path.name + ".rebuilding")
    report = RebuildReport()
    try:
        store.lock.acquire(timeout=LOCK_TIMEOUT_S)
    except Timeout:
        raise UsageError(
            f"another emergebench process holds the registry lock {store.lock.lock_file}; try again"
        ) from None
    try:
        _remove(fresh_path, _wal(fresh_path))
        fresh = Store(fresh_path)
        report.local = ingest_changed(fresh, runs_dir)
        for source in kept_sources(path):
            _import_kept(fresh, source.folder, source.runs_source, source.models_source, report)
        with fresh.writer():
            pass  # an empty home still yields a valid, migrated store
        if path.exists():
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            report.kept_aside = path.with_name(f"{path.name}.replaced-{stamp}")
            os.replace(path, report.kept_aside)
            if _wal(path).exists():
                os.replace(_wal(path), _wal(report.kept_aside))
        os.replace(fresh_path, path)
        _remove(Path(str(fresh_path) + ".lock"))
    finally:
        store.lock.release()
    return report


def _import_kept(fresh: Store, folder: Path, runs_source: str, models_source: str, report: RebuildReport) -> None:
    """Validate the kept shards again (they are files on disk) and store their runs.

    All of a source's runs go in one transaction (a run at a time cost a dozen statements each); if
    that batch is refused (a run conflicts with one already stored) or fails, each run is stored on
    its own, so one bad run never keeps the others out and every refusal is named.
    """
    shards = []
    for file in sorted(folder.rglob("*.parquet")):
        label = str(file.relative_to(folder))
        try:
            shards.append(read_shard(file, label=label))
        except ShardError as exc:
            report.rejected[f"{folder.name}/{label}"] = str(exc)
    runs, problems = bundle(shards)
    for label, problem in problems.items():
        report.rejected[f"{folder.name}/{label}"] = problem
    with fresh.writer() as con:
        try:
            whole = apply_bundles(con, runs, runs_source, models_source)
        except Exception:  # noqa: BLE001 - rolled back; the runs are tried one by one below
            whole = None
        if whole is not None and not whole.rejected:
            report.pulled += whole.imported + whole.unchanged
            return
        for run in runs:
            single = apply_bundles(con, [run], runs_source, models_source)
            report.pulled += single.imported + single.unchanged
            for label, problem in single.rejected.items():
                report.rejected[f"{folder.name}/{label}"] = problem
