"""One strict grammar for every identifier that arrives from outside: shards, repo listings, cards.

Task names, run ids, model ids, score and metric names and shard file names are checked here before
anything is stored or any path is built from them. The grammar is ASCII only (no homoglyphs, bidi
overrides, NULs or newlines), has bounded lengths, and no segment can be empty, ``.`` or ``..``: a
name that passes can be used as a path component on any OS. :func:`contained` is the second line of
defence: every path built from data is resolved and must stay under its root.
"""

from __future__ import annotations

import re
from pathlib import Path

from emergebench.errors import UsageError

__all__ = [
    "IdentifierError",
    "PathEscapeError",
    "check",
    "check_shard_path",
    "contained",
    "problem",
    "shard_file_problem",
]

_SEGMENT = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,63})"
_MODEL_SEGMENT = r"[A-Za-z0-9](?:[A-Za-z0-9._:+@=-]{0,127})"

# kind -> (pattern, maximum length, what a valid value looks like)
GRAMMAR: dict[str, tuple[re.Pattern[str], int, str]] = {
    "task": (
        re.compile(rf"{_SEGMENT}(?:/{_SEGMENT}){{0,7}}"),
        200,
        "1-8 '/'-separated parts of letters, digits, '.', '_', '-', each starting with a letter or digit",
    ),
    "run_id": (
        re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}"),
        200,
        "letters, digits, '.', '_', '-', starting with a letter or digit",
    ),
    "model_id": (
        re.compile(rf"{_MODEL_SEGMENT}(?:/{_MODEL_SEGMENT}){{0,7}}"),
        256,
        "'/'-separated parts of letters, digits and . _ - : + @ =, each starting with a letter or digit",
    ),
    "score_name": (
        re.compile(r"[A-Za-z0-9_][A-Za-z0-9._:/+=-]{0,127}"),
        128,
        "letters, digits and _ . : / + = -, starting with a letter, digit or '_'",
    ),
    "table": (re.compile(r"[a-z][a-z_]{0,31}"), 32, "a lower-case table name"),
}


class IdentifierError(UsageError):
    """An identifier from outside that does not fit the grammar; the message names value and rule."""


class PathEscapeError(UsageError):
    """A path built from data that would land outside its root folder."""


def problem(kind: str, value: object) -> str | None:
    """Why ``value`` is not a valid ``kind`` identifier, or None when it is."""
    pattern, limit, rule = GRAMMAR[kind]
    if not isinstance(value, str):
        return f"{kind} must be text, got {type(value).__name__}"
    if len(value) > limit:
        return f"{kind} {value[:40]!r}... is {len(value)} characters long (at most {limit})"
    if not pattern.fullmatch(value) or (kind in ("task", "model_id", "score_name") and _has_dot_segment(value)):
        return f"{kind} {value[:80]!r} is not valid: use {rule}"
    return None


def _has_dot_segment(value: str) -> bool:
    return any(part in ("", ".", "..") for part in value.split("/"))


def check(kind: str, value: object) -> str:
    """``value`` itself when it is a valid ``kind`` identifier, else :class:`IdentifierError`."""
    why = problem(kind, value)
    if why is not None:
        raise IdentifierError(why)
    return value  # type: ignore[return-value]


SHARD_FILE_RE = re.compile(r"data/(?P<table>[^/]+)/(?P<task>.+)/(?P<run>[^/]+)\.parquet")


def shard_file_problem(path: object, tables: tuple[str, ...]) -> str | None:
    """Why a repo-relative path is not a valid ``data/<table>/<task>/<run_id>.parquet`` name, or None."""
    if not isinstance(path, str):
        return f"file name must be text, got {type(path).__name__}"
    if len(path) > 512:
        return f"file name is {len(path)} characters long (at most 512)"
    if _has_dot_segment(path):
        return "its name has an empty, '.' or '..' part (a path traversal)"
    match = SHARD_FILE_RE.fullmatch(path)
    if not match:
        return "its name does not follow data/<table>/<task>/<run_id>.parquet"
    if match.group("table") not in tables:
        return f"table {match.group('table')[:40]!r} is not one of {', '.join(tables)}"
    return problem("task", match.group("task")) or problem("run_id", match.group("run"))


def check_shard_path(path: str, tables: tuple[str, ...]) -> tuple[str, str, str]:
    """(table, task, run_id) of a valid shard file name, else :class:`IdentifierError` naming it."""
    why = shard_file_problem(path, tables)
    if why is not None:
        raise IdentifierError(f"file {path[:200]!r}: {why}")
    match = SHARD_FILE_RE.fullmatch(path)
    assert match is not None
    return match.group("table"), match.group("task"), match.group("run")


def contained(root: Path, relative: str) -> Path:
    """``root / relative`` resolved, refused unless it stays inside ``root`` (symlinks followed)."""
    base = Path(root).resolve()
    target = (base / relative).resolve()
    if target != base and not target.is_relative_to(base):
        raise PathEscapeError(f"refusing to write {relative[:200]!r}: it resolves outside {base}")
    return target
