"""Opening the DuckDB store safely from many processes on one machine.

DuckDB lets one process write a database file, and a read-only connection cannot open while another
process writes it. So every writer first takes an inter-process file lock (``<store>.lock``) and
keeps its connection open only for the write; readers and writers both retry, with jittered backoff,
the brief moments when DuckDB's own file lock is held elsewhere. Users never see a lock error unless
the store stays locked for longer than ``LOCK_TIMEOUT_S``.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from emergebench import paths
from emergebench.errors import UsageError
from filelock import FileLock, Timeout

from .schema import SCHEMA_VERSION, current_version, migrate

ENV_VAR = "EMERGEBENCH_REGISTRY"
LOCK_TIMEOUT_S = float(os.environ.get("EMERGEBENCH_REGISTRY_LOCK_TIMEOUT", "120"))
CONFIG = {"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"}


def default_path() -> Path:
    return paths.home() / "registry.duckdb"


def resolve_path(option: str | os.PathLike[str] | None = None) -> Path:
    """``--registry PATH`` beats ``EMERGEBENCH_REGISTRY`` beats the user data directory."""
    raw = option if option else os.environ.get(ENV_VAR)
    path = Path(raw).expanduser() if raw else default_path()
    if path.exists() and path.is_dir():
        raise UsageError(f"registry path {str(path)!r} is a directory: pass a file path such as {path}/registry.duckdb")
    return path


def _is_lock_conflict(exc: BaseException) -> bool:
    text = str(exc)
    return "lock" in text.lower() and ("Conflicting" in text or "Could not set lock" in text)


def _connect_retrying(path: Path, read_only: bool, deadline: float) -> duckdb.DuckDBPyConnection:
    delay = 0.01
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=CONFIG)
        except duckdb.IOException as exc:
            if not _is_lock_conflict(exc) or time.monotonic() > deadline:
                if _is_lock_conflict(exc):
                    raise UsageError(
                        f"the registry {path} stayed locked by another process for {LOCK_TIMEOUT_S:.0f} s; "
                        "wait for it to finish or raise EMERGEBENCH_REGISTRY_LOCK_TIMEOUT"
                    ) from None
                raise
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.5)


class Store:
    """A registry file: ``writer()`` and ``reader()`` give short-lived connections."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = resolve_path(path)
        self.lock = FileLock(str(self.path) + ".lock")
        self._checked = False  # schema known to be current (checked once per Store object)

    @contextmanager
    def writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """An exclusive, migrated connection held under the inter-process lock."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.lock.acquire(timeout=LOCK_TIMEOUT_S)
        except Timeout:
            raise UsageError(
                f"another emergebench process held the registry lock {self.lock.lock_file} for "
                f"{LOCK_TIMEOUT_S:.0f} s; wait for it or raise EMERGEBENCH_REGISTRY_LOCK_TIMEOUT"
            ) from None
        try:
            con = _connect_retrying(self.path, False, time.monotonic() + LOCK_TIMEOUT_S)
            try:
                migrate(con)
                self._checked = True
                yield con
            finally:
                con.close()
        finally:
            self.lock.release()

    @contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection; creates (and migrates) the store first if it is missing or old."""
        if not self._checked and (not self.path.exists() or self._needs_migration()):
            with self.writer():
                pass
        self._checked = True
        con = _connect_retrying(self.path, True, time.monotonic() + LOCK_TIMEOUT_S)
        try:
            yield con
        finally:
            con.close()

    def _needs_migration(self) -> bool:
        con = _connect_retrying(self.path, True, time.monotonic() + LOCK_TIMEOUT_S)
        try:
            return current_version(con) < SCHEMA_VERSION
        finally:
            con.close()
