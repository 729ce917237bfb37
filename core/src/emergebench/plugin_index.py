"""What the installed plugins offer (tasks, model providers, graders, commands, hooks), kept on disk so
that `--help`, `tasks`, `models` and `graders` answer without importing any plugin, and `run` imports
only the plugins it needs (BoxingGym alone costs about a second of scipy).

The index is written after a full load and trusted only while its fingerprint matches: the core's
version, every entry point in the `emergebench` group (name, target, distribution and version), the
EMERGEBENCH_LOAD_PLUGINS allowlist, and for each plugin's package folder the newest modification time
and number of its Python files (so an editable install that is edited is re-read). This module
imports nothing heavy: it runs before the decision to load plugins is made.
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib.metadata import EntryPoint, entry_points
from importlib.util import find_spec
from pathlib import Path
from typing import Any

GROUP = "emergebench"
INDEX_FORMAT = 1
CORE_PACKAGE = Path(__file__).resolve().parent


def allowed_plugins() -> set[str] | None:
    """EMERGEBENCH_LOAD_PLUGINS as a set of entry-point names; None when unset (load all)."""
    raw = os.environ.get("EMERGEBENCH_LOAD_PLUGINS")
    if raw is None:
        return None
    return {name.strip() for name in raw.split(",") if name.strip()}


def plugin_entry_points() -> list[EntryPoint]:
    """The entry points that loading would use: first of each name, filtered by the allowlist."""
    allow = allowed_plugins()
    chosen: dict[str, EntryPoint] = {}
    for ep in entry_points(group=GROUP):
        if ep.name not in chosen and (allow is None or ep.name in allow):
            chosen[ep.name] = ep
    return list(chosen.values())


def _source_signature(folder: Path) -> tuple[int, int]:
    """(newest mtime in ns, number of .py files) under a package folder."""
    newest, count = 0, 0
    stack = [folder]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name != "__pycache__":
                    stack.append(Path(entry.path))
            elif entry.name.endswith(".py"):
                newest = max(newest, entry.stat().st_mtime_ns)
                count += 1
    return newest, count


def _package_folder(module: str) -> Path | None:
    """The folder of a top-level package, found without importing it."""
    try:
        spec = find_spec(module.split(".")[0])
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(spec.origin).parent if spec.origin else None


def fingerprint(core_version: str) -> str:
    parts: list[Any] = [INDEX_FORMAT, core_version, sorted(allowed_plugins() or []), allowed_plugins() is None]
    parts.append(_source_signature(CORE_PACKAGE))
    for ep in sorted(plugin_entry_points(), key=lambda e: e.name):
        dist = ep.dist
        folder = _package_folder(ep.module)
        parts.append(
            [
                ep.name,
                ep.value,
                dist.name if dist else None,
                dist.version if dist else None,
                _source_signature(folder) if folder else None,
            ]
        )
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


def index_path() -> Path:
    from .paths import home

    return home() / "plugin-index.json"


def read_fresh(core_version: str) -> dict[str, Any] | None:
    """The stored index when it describes exactly what is installed now, else None."""
    try:
        data = json.loads(index_path().read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("fingerprint") != fingerprint(core_version):
        return None
    return data


def write(core_version: str, content: dict[str, Any]) -> None:
    """Store the index atomically; a read-only home only costs speed, never correctness."""
    path = index_path()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps({"fingerprint": fingerprint(core_version), **content}, indent=1))
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)


def plugins_needed(index: dict[str, Any], tasks: list[str], models: list[str], graders: list[str]) -> set[str] | None:
    """Entry points a run of these tasks, models and graders needs, plus every plugin that listens
    for run events (the registry); None when the index cannot tell (then everything loads)."""
    needed: set[str] = set()
    for kind, names in (("tasks", tasks), ("graders", graders)):
        for name in names:
            entry = index.get(kind, {}).get(name)
            if entry is None or name in index.get("conflicts", []):
                return None
            needed.add(entry["plugin"])
    for model in models:
        entry = index.get("models", {}).get(model.partition("/")[0])
        if entry is None:
            return None
        needed.add(entry["plugin"])
    for plugin, info in index.get("plugins", {}).items():
        if set(info.get("hooks", [])) & RUN_HOOKS:
            needed.add(plugin)
    return needed


# Hooks a run calls on every plugin (the registry starts its ingest process as the run starts and hands
# it the finished run); the others only matter to other commands (listings, sweeps, reports), which
# load what they need themselves.
RUN_HOOKS = {"on_run_started", "on_run_finished"}
