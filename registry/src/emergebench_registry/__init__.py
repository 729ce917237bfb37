"""emergebench-registry: the DuckDB results registry, shards and Hub sync (plugin entry point)."""

from __future__ import annotations

__version__ = "0.1.0"
