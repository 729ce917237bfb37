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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import duckdb
from emergebench import paths
from emergebench.errors import UsageError
from filelock import FileLock, Timeout

from .schema import SCHEMA_VERSION, current_version, migrate

ENV_VAR = "EMERGEBENCH_REGISTRY"
LOCK_TIMEOUT_S = float(os.environ.get("EMERGEBENCH_REGISTRY_LOCK_TIMEOUT", "120"))
CONFIG: dict[str, Any] = {"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"}
# The store's name on a connection it is attached to (see ``Store.attached``).
ATTACHED = "registry"
# How a writer stores big inserts. DuckDB compresses and writes a table one row group at a time, and
# flushes a bulk insert every few row groups: at half its default row group of 122,880 rows, flushed
# one at a time (default 5), the data being compressed stays in the CPU's caches and fewer fresh pages
# are faulted in; a 1M-line ingest takes ~7% less CPU for a store of the same size (docs/benchmarks.md).
# The row group size is an ATTACH option, not kept in the file, so writers attach the store (user SQL
# with ``--write`` keeps DuckDB's defaults).
ROW_GROUP_SIZE = 61_440
WRITE_BUFFER_ROW_GROUPS = 1
T = TypeVar("T")


def default_path() -> Path:
    return paths.home() / "registry.duckdb"


def resolve_path(option: str | os.PathLike[str] | None = None) -> Path:
    """``--registry PATH`` beats ``EMERGEBENCH_REGISTRY`` beats the user data directory."""
    raw = option if option else os.environ.get(ENV_VAR)
    path = Path(raw).expanduser() if raw else default_path()
    if path.exists() and path.is_dir():
        raise UsageError(f"registry path {str(path)!r} is a directory: pass a file path such as {path}/registry.duckdb")
    return path


# What DuckDB says when the file itself is broken (truncated, overwritten, a torn write on disk).
DAMAGE_MARKERS = (
    "not a valid duckdb database file",
    "could not read enough bytes",
    "checksum",
    "corrupt",
    "serialization error",
    "failed to read",
    "invalid database",
    "internal error",
)


class RegistryDamaged(UsageError):
    """The store file cannot be read: say so, keep the runs (they are on disk), point to the rebuild."""


def is_damage(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, duckdb.Error) and not _is_lock_conflict(exc) and any(m in text for m in DAMAGE_MARKERS)


def damaged(path: Path, exc: BaseException) -> RegistryDamaged:
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return RegistryDamaged(
        f"the registry {path} is damaged and cannot be read (DuckDB: {detail}). Your runs are safe in their "
        "folders: run `emergebench registry rebuild` to recreate it from them and from the pulled shards "
        "kept on disk (the damaged file is kept aside)"
    )


def _is_lock_conflict(exc: BaseException) -> bool:
    text = str(exc)
    return "lock" in text.lower() and ("Conflicting" in text or "Could not set lock" in text)


def _connect_retrying(
    path: Path, read_only: bool, deadline: float, config: dict[str, Any] | None = None
) -> duckdb.DuckDBPyConnection:
    return _retrying(path, deadline, lambda: duckdb.connect(str(path), read_only=read_only, config=config or CONFIG))


def _attach_retrying(con: duckdb.DuckDBPyConnection, path: Path, deadline: float) -> None:
    """Attach the store to ``con`` for writing, as its default database (see ``ROW_GROUP_SIZE``)."""
    attach = "ATTACH '" + str(path).replace("'", "''") + f"' AS {ATTACHED} (ROW_GROUP_SIZE {ROW_GROUP_SIZE})"
    _retrying(path, deadline, lambda: con.execute(attach))
    con.execute(f"USE {ATTACHED}")
    con.execute(f"SET write_buffer_row_group_count = {WRITE_BUFFER_ROW_GROUPS}")


def _open_writer(path: Path, deadline: float) -> duckdb.DuckDBPyConnection:
    """A new in-memory DuckDB with the store attached for writing; closing it checkpoints the store."""
    con = duckdb.connect(config=CONFIG)
    try:
        _attach_retrying(con, path, deadline)
    except BaseException:
        con.close()
        raise
    return con


def _retrying(path: Path, deadline: float, open_: Callable[[], T]) -> T:
    """``open_()`` retried with jittered backoff while DuckDB's own file lock is held elsewhere."""
    delay = 0.01
    while True:
        try:
            return open_()
        except duckdb.Error as exc:
            if not _is_lock_conflict(exc):
                raise unusable(path, exc) from None
            if time.monotonic() > deadline:
                raise UsageError(
                    f"the registry {path} stayed locked by another process for {LOCK_TIMEOUT_S:.0f} s; "
                    "wait for it to finish or raise EMERGEBENCH_REGISTRY_LOCK_TIMEOUT"
                ) from None
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.5)


def unusable(path: Path, exc: BaseException) -> UsageError:
    """A one-line error for a store DuckDB cannot open: damaged (rebuild it) or otherwise (say why)."""
    if is_damage(exc):
        return damaged(path, exc)
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return UsageError(f"cannot open the registry {path} (DuckDB: {detail}); check the path and its permissions")


class Store:
    """A registry file: ``writer()`` and ``reader()`` give short-lived connections."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = resolve_path(path)
        self.lock = FileLock(str(self.path) + ".lock")
        self._checked = False  # schema known to be current (checked once per Store object)

    @contextmanager
    def writer(self, config: dict[str, Any] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """An exclusive, migrated connection held under the inter-process lock.

        ``config`` (DuckDB settings, e.g. a sandbox for user SQL) applies to the connection handed out;
        the store is migrated first on a connection of its own, since a sandbox may lock settings.
        """
        with self._locked():
            con = _open_writer(self.path, time.monotonic() + LOCK_TIMEOUT_S)
            try:
                with self._damage_is_explained():
                    migrate(con)
                self._checked = True
                if config is not None:
                    con.close()
                    con = _connect_retrying(self.path, False, time.monotonic() + LOCK_TIMEOUT_S, config)
                with self._damage_is_explained():
                    yield con
            finally:
                con.close()

    @contextmanager
    def attached(self, con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
        """``writer()`` on a connection already open (in memory): the store is attached to it as its
        default database under the inter-process lock, migrated, and detached (checkpointed) at the end.

        For a process that opens DuckDB before it knows when it will write (the ingest process that
        waits for a run): starting DuckDB costs ~20 ms, attaching the file ~1 ms. Its temporary
        tables stay on ``con``; the store is locked only between attach and detach.
        """
        with self._locked():
            _attach_retrying(con, self.path, time.monotonic() + LOCK_TIMEOUT_S)
            try:
                with self._damage_is_explained():
                    migrate(con)
                    self._checked = True
                    yield con
            finally:
                con.execute("USE memory")
                con.execute(f"DETACH {ATTACHED}")

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """The inter-process writer lock (``<store>.lock``), waited for up to ``LOCK_TIMEOUT_S``."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.lock.acquire(timeout=LOCK_TIMEOUT_S)
        except Timeout:
            raise UsageError(
                f"another emergebench process held the registry lock {self.lock.lock_file} for "
                f"{LOCK_TIMEOUT_S:.0f} s; wait for it or raise EMERGEBENCH_REGISTRY_LOCK_TIMEOUT"
            ) from None
        try:
            yield
        finally:
            self.lock.release()

    @contextmanager
    def reader(self, config: dict[str, Any] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection; creates (and migrates) the store first if it is missing or old."""
        if not self._checked and (not self.path.exists() or self._needs_migration()):
            with self.writer():
                pass
        self._checked = True
        con = _connect_retrying(self.path, True, time.monotonic() + LOCK_TIMEOUT_S, config)
        try:
            with self._damage_is_explained():
                yield con
        finally:
            con.close()

    @contextmanager
    def _damage_is_explained(self) -> Iterator[None]:
        """A damaged block met mid-query becomes the same one-line RegistryDamaged as at open time."""
        try:
            yield
        except duckdb.Error as exc:
            if is_damage(exc):
                raise damaged(self.path, exc) from None
            raise

    def _needs_migration(self) -> bool:
        con = _connect_retrying(self.path, True, time.monotonic() + LOCK_TIMEOUT_S)
        try:
            with self._damage_is_explained():
                return current_version(con) < SCHEMA_VERSION
        finally:
            con.close()
