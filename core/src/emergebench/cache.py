"""Persistent, content-addressed cache of model calls (SQLite in WAL mode: safe across processes).

The cache is an optimisation, never a cause of failure: any SQLite error is reported once and the
cache is set aside while the run goes on with the model's answers kept in the journal. A damaged file
(not a database, malformed pages) is moved to ``<name>.damaged-<time>`` and a fresh file started; any
other error (disk full, I/O error, a file that cannot be opened) turns the cache off for the rest of
the run.

Writes from async code are gathered and committed together (at most ``FLUSH_AFTER_S`` later, or every
``FLUSH_ROWS`` answers, and at ``close``): one SQLite transaction per answer was a tenth of a run's CPU
at zero latency (docs/benchmarks.md, issue #18). An answer not yet committed is still served by ``get``;
a process killed outright loses at most that last half second of answers, which its journal keeps.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from .records import ModelOutput, utcnow

FLUSH_AFTER_S = 0.5  # the longest an answer waits in memory before it is committed
FLUSH_ROWS = 512  # or as soon as this many wait

DAMAGE_MARKERS = ("malformed", "not a database", "corrupt", "file is encrypted")


def is_damage(exc: sqlite3.Error) -> bool:
    """Whether an SQLite error means the file's content is broken (as opposed to the disk or a lock)."""
    return isinstance(exc, sqlite3.DatabaseError) and any(m in str(exc).lower() for m in DAMAGE_MARKERS)


class CallCache:
    """Maps a call's content key to its ModelOutput. Several processes may share one file."""

    def __init__(self, path: Path, report: Callable[[str], None] | None = None) -> None:
        self.path = path
        self.report = report or (lambda message: None)
        self.problems: list[str] = []
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._set_aside_once = False
        self._pending: dict[str, tuple[str, float]] = {}  # written, not yet committed
        self._flush_timer: asyncio.TimerHandle | None = None
        self._timer_loop: asyncio.AbstractEventLoop | None = None
        with self._lock:
            self._guard(self._connect)

    @property
    def enabled(self) -> bool:
        return self._db is not None

    def _connect(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=60, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS calls (key TEXT PRIMARY KEY, output TEXT NOT NULL, created REAL)")
        except BaseException:
            db.close()
            raise
        self._db = db

    def _guard(self, action: Callable[[], object]) -> object:
        """Run one cache action; on an SQLite (or file) error set the cache aside and return None."""
        try:
            return action()
        except (sqlite3.Error, OSError) as exc:
            self._close_quietly()
            if isinstance(exc, sqlite3.Error) and is_damage(exc) and not self._set_aside_once:
                self._set_aside_once = True
                moved = self._move_damaged()
                try:
                    self._connect()
                    self._say(
                        f"cache file {self.path} is damaged ({exc}); moved it to {moved} and started a fresh "
                        "cache; the run goes on"
                    )
                    return None
                except (sqlite3.Error, OSError) as again:
                    self._close_quietly()
                    exc = again
            self._say(
                f"cache {self.path} failed ({type(exc).__name__}: {exc}); caching is off for the rest of this run "
                "and every answer is still kept in the run's journal"
            )
            return None

    def _say(self, message: str) -> None:
        self.problems.append(message)
        self.report(message)

    def _move_damaged(self) -> Path:
        stamp = utcnow().strftime("%Y%m%dT%H%M%S")
        target = self.path.with_name(f"{self.path.name}.damaged-{stamp}-{os.getpid()}")
        for suffix in ("", "-wal", "-shm"):
            source = Path(str(self.path) + suffix)
            if source.exists():
                os.replace(source, Path(str(target) + suffix))
        return target

    def _close_quietly(self) -> None:
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
            self._db = None

    def get(self, key: str) -> ModelOutput | None:
        with self._lock:
            if self._db is None:
                return None
            waiting = self._pending.get(key)
            if waiting is not None:
                row: object = (waiting[0],)
            else:
                db = self._db
                row = self._guard(lambda: db.execute("SELECT output FROM calls WHERE key = ?", (key,)).fetchone())
        if not row:
            return None
        try:
            return ModelOutput.model_validate_json(row[0])  # type: ignore[index]
        except (ValidationError, ValueError):
            return None  # an unreadable entry is a miss; the fresh answer replaces it

    def put(self, key: str, output: ModelOutput) -> None:
        """Store an answer. Called from a running event loop, the write joins the next batch;
        otherwise (threads, scripts) it is committed at once."""
        text = output.model_dump_json(exclude_none=True)
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        with self._lock:
            if self._db is None:
                return
            self._pending[key] = (text, time.time())
            if (
                loop is None
                or len(self._pending) >= FLUSH_ROWS
                or (
                    self._flush_timer is not None and self._timer_loop is not loop  # that loop may be gone
                )
            ):
                self._flush_locked()
            elif self._flush_timer is None:
                self._flush_timer, self._timer_loop = loop.call_later(FLUSH_AFTER_S, self.flush), loop

    def flush(self) -> None:
        """Commit every answer waiting in memory, in one transaction."""
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = self._timer_loop = None
        if not self._pending or self._db is None:
            self._pending.clear()
            return
        rows = [(key, text, created) for key, (text, created) in self._pending.items()]
        self._pending.clear()
        db = self._db

        def write() -> None:
            db.execute("BEGIN")  # the connection autocommits; one transaction, rolled back as a whole on error
            with db:
                db.executemany("INSERT OR REPLACE INTO calls (key, output, created) VALUES (?, ?, ?)", rows)

        self._guard(write)

    def __len__(self) -> int:
        with self._lock:
            self._flush_locked()
            if self._db is None:
                return 0
            db = self._db
            row = self._guard(lambda: db.execute("SELECT count(*) FROM calls").fetchone())
        return int(row[0]) if row else 0  # type: ignore[index]

    def close(self) -> None:
        with self._lock:
            self._flush_locked()
            self._close_quietly()
