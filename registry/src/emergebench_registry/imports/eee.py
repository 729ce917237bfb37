"""Every Eval Ever records: an aggregate ``<uuid>.json`` (schema ``eval.schema.json``) and, beside it,
the instance-level ``<uuid>_samples.jsonl`` its ``detailed_evaluation_results`` names. Read with the
standard library (every-eval-ever itself needs Python >= 3.12); every field used is checked here and a
record that breaks the schema's rules for it is refused by name. See docs/import-eee.md.

One aggregate file may hold results of several evaluations (``evaluation_name``); each becomes one run.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..identifiers import PathEscapeError, contained
from .common import (
    ExternalMetric,
    ExternalRun,
    ExternalSample,
    ImportFormatError,
    checked_size,
    clean_segment,
    namespaced,
    score_value,
    sha256_of,
    unix_time,
)

SAMPLES_SUFFIX = "_samples.jsonl"


def aggregate_of(path: Path) -> Path:
    """The aggregate a path stands for: itself, or for an instance file the ``<uuid>.json`` beside it."""
    if path.name.endswith(SAMPLES_SUFFIX):
        return path.with_name(path.name.removesuffix(SAMPLES_SUFFIX) + ".json")
    return path


def _field(obj: Any, key: str, kind: type | tuple[type, ...], where: str, required: bool = True) -> Any:
    value = obj.get(key) if isinstance(obj, dict) else None
    if value is None:
        if required:
            raise ImportFormatError(f"{where}.{key} is required")
        return None
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise ImportFormatError(f"{where}.{key} must be {names}, got {type(value).__name__}")
    return value


def _time(value: Any) -> datetime | None:
    """EEE timestamps: Unix epoch seconds as text (what its converters write), or ISO 8601."""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return None
    try:
        moment_from_unix = unix_time(float(value))
    except ValueError:  # text that is not a number: ISO 8601 below
        moment_from_unix = None
    if moment_from_unix is not None:
        return moment_from_unix
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _metric_name(result: dict[str, Any], where: str) -> tuple[str, bool]:
    """The metric's name and whether the record says lower is better (a required field of EEE)."""
    config = _field(result, "metric_config", dict, where)
    lower = _field(config, "lower_is_better", bool, f"{where}.metric_config")
    name = config.get("metric_id") or config.get("metric_name") or "score"
    if not isinstance(name, str):
        raise ImportFormatError(f"{where}.metric_config.metric_id must be text")
    return name, lower


def _breakdown(
    result: dict[str, Any], details: dict[str, Any], earlier: list[ExternalMetric], metric: str, index: int
) -> str:
    """The group a result is for: ``score_details.details.breakdown`` (emergebench's own export writes
    it), else '' for the first result of a metric and the ``evaluation_result_id`` (or position) for a
    later one, so two values of one metric in one evaluation are never merged or refused as duplicates."""
    extra = _dict(details.get("details"))
    if isinstance(extra.get("breakdown"), str):
        return extra["breakdown"][:128]
    if not any(m.name == metric and m.breakdown == "" for m in earlier):
        return ""
    own = result.get("evaluation_result_id")
    return own[:128] if isinstance(own, str) and own else f"result {index}"


def _parameters(model_info: dict[str, Any]) -> int | None:
    """The parameter count the record states (lm-eval's converter writes ``num_parameters``)."""
    details = model_info.get("additional_details") or {}
    for key in ("num_parameters", "parameters", "params"):
        value = details.get(key) if isinstance(details, dict) else None
        try:
            number = int(str(value))
        except (TypeError, ValueError):
            continue
        if number > 0:
            return number
    return None


def _samples_path(path: Path, record: dict[str, Any]) -> Path | None:
    """The instance file the aggregate declares, which EEE requires to be its sibling
    ``<uuid>_samples.jsonl``; any other declared path is refused (never followed)."""
    detail = record.get("detailed_evaluation_results")
    if detail is None:
        return None
    declared = _field(detail, "file_path", str, "detailed_evaluation_results")
    if _field(detail, "format", str, "detailed_evaluation_results") != "jsonl":
        raise ImportFormatError("detailed_evaluation_results.format must be 'jsonl'")
    expected = path.stem + SAMPLES_SUFFIX
    if declared.rsplit("/", 1)[-1] != expected or ".." in declared.split("/"):
        raise ImportFormatError(
            f"detailed_evaluation_results.file_path {declared[:200]!r} is not the sibling {expected} EEE requires"
        )
    try:
        found = contained(path.parent, expected)
    except PathEscapeError as exc:
        raise ImportFormatError(str(exc)) from None
    if not found.is_file():
        raise ImportFormatError(
            f"its instance file {expected} is not beside it: copy it next to {path.name}, or drop "
            "detailed_evaluation_results to import the aggregate alone"
        )
    return found


def _score_name(row: dict[str, Any], metric_of: dict[str, str], evaluation: str) -> str:
    """The score an instance row holds: its result's metric, else the name emergebench's export keeps in
    ``metadata.score_name`` (a per-sample score no metric is named after), else the evaluation's metric."""
    linked = metric_of.get(str(row.get("evaluation_result_id")))
    if linked:
        return linked
    metadata = row.get("metadata")
    named = metadata.get("score_name") if isinstance(metadata, dict) else None
    if isinstance(named, str) and named:
        return named
    return metric_of.get(evaluation, "score")


def _answer(raw_out: list[Any], messages: Any) -> Any:
    """``output.raw`` (one string as itself, several as a list); a multi-turn row has no output, so its
    last assistant message."""
    if raw_out:
        return raw_out[0] if len(raw_out) == 1 and isinstance(raw_out[0], str) else raw_out
    said = [m.get("content") for m in messages or [] if isinstance(m, dict) and m.get("role") == "assistant"]
    return said[-1] if said and isinstance(said[-1], str) else None


def _target(reference: Any) -> Any:
    """EEE's ``reference`` is a list of acceptable answers; a single one is stored as itself."""
    return reference[0] if isinstance(reference, list) and len(reference) == 1 else reference


def _epoch(row: dict[str, Any]) -> int | None:
    """The epoch kept in ``metadata.epoch`` (as text) by inspect's converter (1-based, as inspect counts)
    and by emergebench's export (0-based, as the runner counts), when it is a small integer."""
    metadata = row.get("metadata")
    value = metadata.get("epoch") if isinstance(metadata, dict) else None
    if isinstance(value, int | str) and not isinstance(value, bool) and str(value).isdigit():
        epoch = int(str(value))
        return epoch if epoch <= 1_000_000 else None
    return None


def _instances(path: Path, record: dict[str, Any], metric_of: dict[str, str]) -> dict[str, list[ExternalSample]]:
    """Instance rows by evaluation_name. EEE has no epoch field: inspect's converter writes one row per
    epoch with ``metadata.epoch``; without it, rows repeating a (sample, metric) become epochs 1, 2, ...
    in file order."""
    checked_size(path)
    grouped: dict[str, dict[tuple[str, int], ExternalSample]] = defaultdict(dict)
    seen: dict[tuple[str, str, str], int] = defaultdict(int)
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{path.name} line {number}"
            try:
                row = json.loads(line)
            except (ValueError, RecursionError) as exc:
                raise ImportFormatError(f"{where} is not JSON ({exc})") from None
            if not isinstance(row, dict):
                raise ImportFormatError(f"{where} is not an object")
            if row.get("evaluation_id") != record["evaluation_id"]:
                raise ImportFormatError(f"{where}: evaluation_id does not match the aggregate's")
            if row.get("model_id") != record["model_info"]["id"]:
                raise ImportFormatError(f"{where}: model_id does not match the aggregate's model_info.id")
            name = _field(row, "evaluation_name", str, where)
            sample_id = _field(row, "sample_id", (str, int), where)
            evaluation = _field(row, "evaluation", dict, where)
            score = score_value(_field(evaluation, "score", (int, float), f"{where}.evaluation"))
            metric = _score_name(row, metric_of, name)
            key = (name, str(sample_id), metric)
            seen[key] += 1
            epoch = _epoch(row)
            if epoch is None:
                epoch = seen[key]
            inputs = _field(row, "input", dict, where)
            output = _dict(row.get("output"))
            raw_out = _list(output.get("raw"))
            sample = grouped[name].get((str(sample_id), epoch))
            if sample is None:
                sample = ExternalSample(
                    sample_id=str(sample_id),
                    epoch=epoch,
                    input=_field(inputs, "raw", str, f"{where}.input"),
                    target=_target(inputs.get("reference")),
                    answer=_answer(raw_out, row.get("messages")),
                    scores={},
                )
                grouped[name][(str(sample_id), epoch)] = sample
            if score is not None:
                sample.scores[metric] = score
    return {name: list(rows.values()) for name, rows in grouped.items()}


def read(path: Path, task_map: dict[str, str]) -> list[ExternalRun]:
    path = aggregate_of(path)
    checked_size(path)
    try:
        record = json.loads(path.read_bytes())
    except (OSError, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ImportFormatError(f"{path}: not an Every Eval Ever record ({type(exc).__name__}: {exc})") from None
    try:
        return _runs(path, record, task_map)
    except ImportFormatError as exc:
        raise ImportFormatError(f"{path}: {exc}") from None


def _runs(path: Path, record: Any, task_map: dict[str, str]) -> list[ExternalRun]:
    if not isinstance(record, dict) or "evaluation_results" not in record:
        raise ImportFormatError("not an Every Eval Ever aggregate record (no evaluation_results)")
    version = _field(record, "schema_version", str, "record")
    evaluation_id = _field(record, "evaluation_id", str, "record")
    _field(record, "retrieved_timestamp", str, "record")
    source = _field(record, "source_metadata", dict, "record")
    _field(source, "source_organization_name", str, "source_metadata")
    model_info = _field(record, "model_info", dict, "record")
    model_id = _field(model_info, "id", str, "model_info")
    _field(model_info, "name", str, "model_info")
    library = _field(record, "eval_library", dict, "record")
    results = _field(record, "evaluation_results", list, "record")
    if not results:
        raise ImportFormatError("evaluation_results is empty")
    by_name: dict[str, list[ExternalMetric]] = defaultdict(list)
    metric_of: dict[str, str] = {}
    when: dict[str, datetime | None] = {}
    datasets: dict[str, Any] = {}
    generate: dict[str, Any] = {}
    tasks: dict[str, str] = {}
    lower_names: dict[str, set[str]] = defaultdict(set)
    for index, result in enumerate(results):
        where = f"evaluation_results[{index}]"
        if not isinstance(result, dict):
            raise ImportFormatError(f"{where} is not an object")
        name = _field(result, "evaluation_name", str, where)
        tasks[name] = namespaced("eee", name, task_map)  # refuses a name that looks like a path
        source_data = _field(result, "source_data", dict, where)
        _field(source_data, "dataset_name", str, f"{where}.source_data")
        details = _field(result, "score_details", dict, where)
        value = score_value(_field(details, "score", (int, float), f"{where}.score_details"))
        metric, lower = _metric_name(result, where)
        if lower:
            lower_names[name].add(metric)
        uncertainty = _dict(details.get("uncertainty"))
        stderr_block = _dict(uncertainty.get("standard_error"))
        count = uncertainty.get("num_samples")
        n = count if isinstance(count, int) and not isinstance(count, bool) else 0
        breakdown = _breakdown(result, details, by_name[name], metric, index)
        by_name[name].append(ExternalMetric(metric, value, score_value(stderr_block.get("value")), n, breakdown))
        if isinstance(result.get("evaluation_result_id"), str):
            # Per-sample scores of a repeated metric are named after their result, as its value is kept apart.
            own = result["evaluation_result_id"]
            metric_of[own] = metric if breakdown == "" else clean_segment(own)
        metric_of.setdefault(name, metric)
        when.setdefault(name, _time(result.get("evaluation_timestamp")))
        datasets.setdefault(name, source_data)
        config = result.get("generation_config")
        if isinstance(config, dict) and isinstance(config.get("generation_args"), dict):
            generate.setdefault(name, config["generation_args"])
    samples_path = _samples_path(path, record)
    instances = _instances(samples_path, record, metric_of) if samples_path else {}
    unknown = set(instances) - set(by_name)
    if unknown:
        raise ImportFormatError(f"instance rows name evaluations the aggregate lacks: {sorted(unknown)[:5]}")
    digest = sha256_of(path)
    started = _time(record.get("evaluation_timestamp"))
    runs = []
    for name, metrics in by_name.items():
        samples = instances.get(name, [])
        runs.append(
            ExternalRun(
                framework="eee",
                framework_version=version,
                file_sha256=digest,
                task=tasks[name],
                task_version="unknown",
                task_args={},
                model_id=model_id,
                main_metric=metrics[0].name,
                started_at=when[name] or started,
                finished_at=None,
                status="complete",
                samples=samples,
                metrics=metrics,
                parameters=_parameters(model_info),
                provenance={
                    "file": path.name,
                    "evaluation_id": evaluation_id,
                    "samples_file": samples_path.name if samples_path else None,
                    "samples_sha256": sha256_of(samples_path) if samples_path else None,
                    "eval_library": {"name": library.get("name"), "version": library.get("version")},
                    "source_metadata": source,
                    "model_info": model_info,
                    "source_data": datasets[name],
                    "generation_args": generate.get(name),
                },
                run_key=f"eee:{evaluation_id}:{name}",
                lower_is_better=sorted(lower_names[name]),
            )
        )
    return runs


def _dict(value: Any) -> dict[str, Any]:
    """``value`` when the file put an object there, else an empty one (a field of the wrong type)."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    """``value`` when the file put an array there, else an empty one."""
    return value if isinstance(value, list) else []
