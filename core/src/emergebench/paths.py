"""Where emergebench keeps its files: ``EMERGEBENCH_HOME`` or the user data directory."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def home() -> Path:
    raw = os.environ.get("EMERGEBENCH_HOME")
    path = Path(raw).expanduser() if raw else Path(platformdirs.user_data_dir("emergebench"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def runs_dir() -> Path:
    return home() / "runs"


def cache_path() -> Path:
    return home() / "cache.sqlite"
