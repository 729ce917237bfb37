"""inspect_ai logs (``.json``, and ``.eval``: a zip of header.json plus one JSON file per sample), read
with the standard library only: importing needs no inspect_ai. Field meanings are inspect_ai's
(EvalLog: eval, results, stats, samples); see docs/import-inspect.md for the mapping."""

from __future__ import annotations

import json
import struct
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from .common import (
    ExternalMetric,
    ExternalRun,
    ExternalSample,
    ImportFormatError,
    checked_size,
    namespaced,
    score_value,
    sha256_of,
)

MAX_MEMBER_BYTES = 64 * 1024 * 1024  # one member of a .eval zip, decompressed
MAX_MEMBERS = 200_000


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


ZIP_STORED, ZIP_DEFLATED, ZIP_ZSTD = 0, 8, 93  # inspect_ai writes zstd members, which zipfile cannot read


def _raw_member(path: Path, info: zipfile.ZipInfo) -> bytes:
    """A member's compressed bytes, found through its local header (for methods zipfile lacks)."""
    with open(path, "rb") as handle:
        handle.seek(info.header_offset)
        header = handle.read(30)
        if len(header) != 30 or header[:4] != b"PK\x03\x04":
            raise ImportFormatError(f"{path}: member {info.filename} has a damaged local header")
        skip = struct.unpack("<HH", header[26:30])
        handle.seek(info.header_offset + 30 + skip[0] + skip[1])
        data = handle.read(info.compress_size)
    if len(data) != info.compress_size:
        raise ImportFormatError(f"{path}: member {info.filename} is truncated")
    return data


def _zip_json(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> Any:
    if info.file_size > MAX_MEMBER_BYTES:
        raise ImportFormatError(f"{path}: member {info.filename} would expand to {info.file_size} bytes")
    if info.compress_type == ZIP_ZSTD:
        import pyarrow as pa

        try:
            data = pa.Codec("zstd").decompress(_raw_member(path, info), decompressed_size=info.file_size)
        except (pa.ArrowException, OSError) as exc:
            raise ImportFormatError(f"{path}: member {info.filename} does not decompress ({exc})") from None
        return json.loads(data.to_pybytes())
    if info.compress_type not in (ZIP_STORED, ZIP_DEFLATED):
        raise ImportFormatError(f"{path}: member {info.filename} uses compression {info.compress_type}")
    with archive.open(info) as handle:
        raw = handle.read(MAX_MEMBER_BYTES + 1)
    if len(raw) > MAX_MEMBER_BYTES:
        raise ImportFormatError(f"{path}: member {info.filename} expands past {MAX_MEMBER_BYTES} bytes")
    return json.loads(raw)


def _read_eval_zip(path: Path) -> dict[str, Any]:
    """The .eval archive as the same dict a .json log holds (header fields plus ``samples``)."""
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise ImportFormatError(f"{path}: {len(members)} members is more than {MAX_MEMBERS}")
        by_name = {m.filename: m for m in members}
        if "header.json" not in by_name:
            raise ImportFormatError(f"{path}: no header.json in the archive (an unfinished inspect run?)")
        log = _zip_json(archive, by_name["header.json"], path)
        log["samples"] = [
            _zip_json(archive, m, path)
            for m in members
            if m.filename.startswith("samples/") and m.filename.endswith(".json")
        ]
    return log


def _answer(sample: dict[str, Any]) -> str | None:
    output = sample.get("output") or {}
    if isinstance(output.get("completion"), str):
        return output["completion"]
    choices = output.get("choices") or []
    if choices and isinstance(choices[0], dict):
        content = (choices[0].get("message") or {}).get("content")
        return content if isinstance(content, str) else json.dumps(content)
    return None


def _samples(log: dict[str, Any]) -> Iterator[ExternalSample]:
    for sample in log.get("samples") or []:
        if not isinstance(sample, dict) or "id" not in sample:
            raise ImportFormatError("a sample without an id")
        scores = {}
        for scorer, score in (sample.get("scores") or {}).items():
            value = score.get("value") if isinstance(score, dict) else None
            if isinstance(value, dict):  # a scorer with several named values
                for key, item in value.items():
                    number = score_value(item)
                    if number is not None:
                        scores[f"{scorer}/{key}"] = number
            else:
                number = score_value(value)
                if number is not None:
                    scores[scorer] = number
        error = sample.get("error")
        yield ExternalSample(
            sample_id=str(sample["id"]),
            epoch=int(sample.get("epoch") or 1),
            input=sample.get("input"),
            target=sample.get("target"),
            answer=_answer(sample),
            scores=scores,
            error=(error.get("message") if isinstance(error, dict) else str(error)) if error else None,
        )


def _metrics(log: dict[str, Any], n: int) -> tuple[list[ExternalMetric], str | None]:
    """inspect's aggregate metrics (scorer/metric names) with the stderr its scorer reported."""
    results = log.get("results") or {}
    metrics: list[ExternalMetric] = []
    for score in results.get("scores") or []:
        named = score.get("metrics") or {}
        stderr = score_value((named.get("stderr") or {}).get("value"))
        for name, metric in named.items():
            if name == "stderr":
                continue
            metrics.append(
                ExternalMetric(
                    f"{score.get('name')}/{name}",
                    score_value(metric.get("value")),
                    stderr,
                    int(score.get("scored_samples") or n),
                )
            )
    headline = results.get("headline") or {}
    main = f"{headline['score']}/{headline['metric']}" if headline.get("score") and headline.get("metric") else None
    if main is None and metrics:
        main = metrics[0].name
    return metrics, main


def read(path: Path, task_map: dict[str, str]) -> list[ExternalRun]:
    checked_size(path)
    try:
        if zipfile.is_zipfile(path):
            log = _read_eval_zip(path)
        else:
            log = json.loads(path.read_bytes())
    except (OSError, ValueError, zipfile.BadZipFile, UnicodeDecodeError, RecursionError) as exc:
        raise ImportFormatError(f"{path}: not an inspect log ({type(exc).__name__}: {exc})") from None
    if not isinstance(log, dict) or not isinstance(log.get("eval"), dict):
        raise ImportFormatError(f"{path}: not an inspect log (no 'eval' section)")
    spec = log["eval"]
    if not spec.get("task") or not spec.get("model"):
        raise ImportFormatError(f"{path}: the inspect log names no task or no model")
    try:
        samples = list(_samples(log))
    except (ImportFormatError, TypeError, ValueError) as exc:
        raise ImportFormatError(f"{path}: {exc}") from None
    metrics, main = _metrics(log, len(samples))
    stats = log.get("stats") or {}
    usage = (stats.get("model_usage") or {}).get(spec["model"]) or {}
    status = {"success": "complete", "error": "failed", "cancelled": "interrupted"}.get(
        str(log.get("status")), "partial"
    )
    if status == "complete" and any(s.error for s in samples):
        status = "partial"
    packages = spec.get("packages") or {}
    return [
        ExternalRun(
            framework="inspect",
            framework_version=packages.get("inspect_ai"),
            file_sha256=sha256_of(path),
            task=namespaced("inspect", spec["task"], task_map),
            task_version=str(spec.get("task_version", 0)),
            task_args=spec.get("task_args") or {},
            model_id=str(spec["model"]),
            main_metric=main,
            started_at=_time(stats.get("started_at")) or _time(spec.get("created")),
            finished_at=_time(stats.get("completed_at")),
            status=status,
            samples=samples,
            metrics=metrics,
            input_tokens=usage.get("input_tokens"),
            output_tokens=usage.get("output_tokens"),
            provenance={"file": path.name, "inspect_run_id": spec.get("run_id"), "eval_id": spec.get("eval_id")},
            run_key=str(spec["eval_id"]) if spec.get("eval_id") else None,
        )
    ]
