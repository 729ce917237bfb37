"""Shards pulled or imported into a store, kept on disk beside it so the store can be rebuilt.

Run folders are the truth for local runs; for runs that came from elsewhere the validated shards
are. Each source gets a folder ``<registry>.shards/<source-slug>/`` holding the shard layout
(``data/<table>/<task>/<run_id>.parquet``) and ``source.json`` naming the labels its runs and
models were stored under.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from .shards import RunBundle, shard_path

SOURCE_FILE = "source.json"


@dataclass(frozen=True)
class KeptSource:
    folder: Path
    runs_source: str
    models_source: str


def kept_root(store_path: Path) -> Path:
    return store_path.with_name(store_path.name + ".shards")


def _slug(label: str) -> str:
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("._")[:80]
    return f"{readable}-{hashlib.sha256(label.encode()).hexdigest()[:10]}"


def keep(store_path: Path, runs: list[RunBundle], runs_source: str, models_source: str | None = None) -> None:
    """Copy the shards of ``runs`` (just stored) into their source's folder; existing copies stay."""
    if not runs:
        return
    models_source = models_source or runs_source
    folder = kept_root(store_path) / _slug(models_source)
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / SOURCE_FILE
    if not marker.exists():
        marker.write_text(json.dumps({"runs_source": runs_source, "models_source": models_source}) + "\n")
    for run in runs:
        task = str(run.runs_row["task"])
        for table, shard in run.shards.items():
            dest = folder / shard_path(table, task, run.run_id)
            if dest.exists():
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(dest.name + ".tmp")
            shutil.copyfile(shard.path, tmp)
            os.replace(tmp, dest)


def kept_sources(store_path: Path) -> list[KeptSource]:
    """Every source folder with a readable ``source.json``, in a stable order."""
    root = kept_root(store_path)
    if not root.is_dir():
        return []
    found = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        try:
            meta = json.loads((folder / SOURCE_FILE).read_text())
            found.append(KeptSource(folder, str(meta["runs_source"]), str(meta["models_source"])))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return found
