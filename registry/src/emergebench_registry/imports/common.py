"""One evaluation run read from another framework's files, and how it becomes registry rows.

Every importer produces :class:`ExternalRun` objects; :func:`to_bundle` turns one into the same
validated per-table rows a pulled shard gives (so imported runs land through the shard import path,
with its identifier, schema and duplicate checks), under a run id derived from the file's content so
that importing the same file again is a no-op.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from emergebench.errors import UsageError

from ..identifiers import problem
from ..ingest import to_arrow
from ..schema import KEYS
from ..shards import SHARD_TABLES, RunBundle, Shard, _check_identifiers

MAX_FILE_BYTES = 512 * 1024 * 1024  # one log file; larger ones are refused before reading
MAX_TEXT = 64 * 1024  # per stored input/target/answer cell: logs can hold whole transcripts


class ImportFormatError(UsageError):
    """A file that is not a valid log of the format it was given as; the message names file and reason."""


@dataclass
class ExternalSample:
    sample_id: str
    epoch: int
    input: Any
    target: Any
    answer: str | None
    scores: dict[str, float]
    error: str | None = None


@dataclass
class ExternalMetric:
    name: str
    value: float | None
    stderr: float | None
    n: int
    breakdown: str = ""  # "" for the overall value; a group ("k=2"), HELM's "split=valid", "perturbation=..."


@dataclass
class ExternalRun:
    framework: str  # "inspect", "lm-eval", "helm"
    framework_version: str | None
    file_sha256: str
    task: str  # already namespaced: "inspect/addition"
    task_version: str
    task_args: dict[str, Any]
    model_id: str
    main_metric: str | None
    started_at: datetime | None
    finished_at: datetime | None
    status: str
    samples: list[ExternalSample] = field(default_factory=list)
    metrics: list[ExternalMetric] = field(default_factory=list)
    input_tokens: int | None = None
    output_tokens: int | None = None
    family: str | None = None
    parameters: int | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    # The source's own id of this evaluation (inspect's eval_id), so the .json and .eval logs of one
    # evaluation are one run; else the file's hash.
    run_key: str | None = None
    # Metric names the source says are lower-is-better (EEE's lower_is_better, lm-eval's higher_is_better)
    lower_is_better: list[str] = field(default_factory=list)

    @property
    def source(self) -> str:
        """What the registry's ``runs.source`` says: framework, its version and the file's hash."""
        return f"{self.framework} {self.framework_version or 'unknown'} sha256:{self.file_sha256}"

    @property
    def spec_id(self) -> str:
        spec = [self.framework, self.task, self.task_version, self.task_args, self.model_id]
        return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:16]

    @property
    def run_id(self) -> str:
        stamp = (self.started_at or self.finished_at or datetime(1970, 1, 1)).strftime("%Y%m%dT%H%M%S")
        key = hashlib.sha256(self.run_key.encode()).hexdigest() if self.run_key else self.file_sha256
        return f"{self.spec_id}-{stamp}-{key[:8]}"


def unix_time(seconds: float) -> datetime | None:
    """A Unix time as a UTC datetime; None for one no datetime holds (NaN, infinite, out of range),
    which a log may hold: the run then lands with that time unknown."""
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (ValueError, OverflowError, OSError):
        return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checked_size(path: Path) -> int:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ImportFormatError(f"{path}: cannot be read ({exc.strerror})") from None
    if size > MAX_FILE_BYTES:
        raise ImportFormatError(f"{path}: {size} bytes is more than the {MAX_FILE_BYTES}-byte limit for one log")
    return size


def namespaced(framework: str, name: str, task_map: dict[str, str]) -> str:
    """The registry task name: ``<framework>/<name>`` unless the user mapped it (``--task-map``), so an
    inspect ``mmlu`` and an lm-eval ``mmlu`` are never pooled by accident."""
    if ".." in str(name) or str(name).startswith(("/", "\\")):
        raise ImportFormatError(f"task name {name!r} looks like a path, not a task: refused")
    own = f"{framework}/{clean_segment(name)}"
    return task_map.get(own, own)


def clean_segment(name: str) -> str:
    """A source's name made to fit the identifier grammar (other characters become '-')."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", str(name)).strip("-._") or "unnamed"
    return cleaned[:64]


def score_value(value: Any) -> float | None:
    """A per-sample score as a float: numbers and booleans as they are, inspect's letter grades as its
    own value_to_float does (C=1, P=0.5, I=0, N=0); anything else is not a score."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value) if value == value and abs(value) != float("inf") else None
    if isinstance(value, str):
        letters = {"C": 1.0, "P": 0.5, "I": 0.0, "N": 0.0}
        if value in letters:
            return letters[value]
        try:
            number = float(value)
        except ValueError:
            return None
        return number if number == number and abs(number) != float("inf") else None
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:MAX_TEXT]


def to_bundle(run: ExternalRun, label: str) -> RunBundle:
    """Registry rows for one external run, checked like a pulled shard (identifiers, keys, JSON)."""
    checked = [("task", run.task), ("model_id", run.model_id)] + [("score_name", n) for n in run.lower_is_better]
    for kind, value in checked:
        why = problem(kind, value)
        if why:
            raise ImportFormatError(f"{label}: {why}")
    run_id = run.run_id
    n_errors = sum(1 for s in run.samples if s.error)
    rows: dict[str, list[dict[str, Any]]] = {
        "runs": [
            {
                "run_id": run_id,
                "spec_id": run.spec_id,
                "status": run.status,
                "task": run.task,
                "task_version": run.task_version,
                "task_args": json.dumps(run.task_args, sort_keys=True, default=str),
                "main_metric": run.main_metric,
                "lower_is_better": json.dumps(sorted(set(run.lower_is_better))),
                "model_id": run.model_id,
                "model_args": "{}",
                "generate": "{}",
                "seed": None,
                "sample_limit": None,
                "epochs": max((s.epoch for s in run.samples), default=1),
                "n_samples": len(run.samples),
                "n_expected": len(run.samples),
                "n_errors": n_errors,
                "errors": json.dumps({"sample error": n_errors} if n_errors else {}),
                "input_tokens": run.input_tokens,
                "output_tokens": run.output_tokens,
                "started_at": run.started_at,
                "finished_at": run.finished_at,
                "plugin_versions": json.dumps({run.framework: run.framework_version}),
                "task_provenance": json.dumps(
                    {"imported_from": run.framework, "sha256": run.file_sha256, **run.provenance}, default=str
                ),
            }
        ],
        "models": [
            {
                "model_id": run.model_id,
                "provider": run.model_id.split("/")[0],
                "name": run.model_id.split("/")[-1],
                "family": run.family,
                "parameters": run.parameters,
            }
        ],
        "samples": [
            {
                "run_id": run_id,
                "sample_id": s.sample_id,
                "epoch": s.epoch,
                "input": json.dumps(_text(s.input)),
                "target": json.dumps(_text(s.target)),
                "answer": _text(s.answer),
                "error": _text(s.error),
                "error_type": "imported error" if s.error else None,
                "metadata": "{}",
                "n_calls": None,
            }
            for s in run.samples
        ],
        "scores": [
            {"run_id": run_id, "sample_id": s.sample_id, "epoch": s.epoch, "name": name, "value": value}
            for s in run.samples
            for name, value in s.scores.items()
        ],
        "model_calls": [],
        "metrics": [
            {"run_id": run_id, "name": m.name, "breakdown": m.breakdown, "value": m.value, "stderr": m.stderr, "n": m.n}
            for m in run.metrics
        ],
    }
    shards = {}
    for table in SHARD_TABLES:
        data = to_arrow(table, rows[table])
        where = f"{label} ({table})"
        _check_identifiers(where, table, data)
        _check_keys(where, table, rows[table])
        shards[table] = Shard(Path(label), where, table, run_id, data)
    return RunBundle(run_id, shards)


def _check_keys(where: str, table: str, rows: list[dict[str, Any]]) -> None:
    """The checks of a pulled shard that rows built here can still fail: a key given twice (a log that
    lists a sample twice) and a negative epoch. (Run id, status, timestamps and JSON cells are made here,
    valid by construction; the shard path's DuckDB checks cost ~90 ms a run, most of an import.)"""
    seen: set[tuple[Any, ...]] = set()
    for row in rows:
        key = tuple(row[k] for k in KEYS[table])
        if key in seen:
            raise ImportFormatError(f"{where}: the key {key} appears twice")
        seen.add(key)
        if isinstance(row.get("epoch"), int) and row["epoch"] < 0:
            raise ImportFormatError(f"{where}: epoch {row['epoch']} is negative")
