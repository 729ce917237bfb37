"""Persistent, content-addressed cache of model calls (SQLite in WAL mode: safe across processes)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from .records import ModelOutput


class CallCache:
    """Maps a call's content key to its ModelOutput. Several processes may share one file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=60, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS calls (key TEXT PRIMARY KEY, output TEXT NOT NULL, created REAL)")

    def get(self, key: str) -> ModelOutput | None:
        with self._lock:
            row = self._db.execute("SELECT output FROM calls WHERE key = ?", (key,)).fetchone()
        return ModelOutput.model_validate_json(row[0]) if row else None

    def put(self, key: str, output: ModelOutput) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO calls (key, output, created) VALUES (?, ?, ?)",
                (key, output.model_dump_json(exclude_none=True), time.time()),
            )

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM calls").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
