"""lm-evaluation-harness results: the ``results_<date>.json`` a run writes with ``--output_path``, plus
the ``samples_<task>_<date>.jsonl`` files ``--log_samples`` writes beside it (per-sample scores). Each
task in a results file is one run. Read with the standard library only; see docs/import-lm-eval.md."""

from __future__ import annotations

import json
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
    unix_time,
)


def _samples_file(results: Path, task: str) -> Path | None:
    """The --log_samples file of ``task`` written by the same run (same date suffix), if present."""
    suffix = results.name.removeprefix("results_")
    exact = results.with_name(f"samples_{task}_{suffix.removesuffix('.json')}.jsonl")
    if exact.exists():
        return exact
    found = sorted(results.parent.glob(f"samples_{task}_*.jsonl"))
    return found[-1] if len(found) == 1 else None


def _read_samples(path: Path, metric_names: set[str]) -> list[ExternalSample]:
    checked_size(path)
    samples = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise ImportFormatError(f"{path}: line {number} is not JSON ({exc})") from None
            if not isinstance(row, dict) or "doc_id" not in row:
                raise ImportFormatError(f"{path}: line {number} has no doc_id")
            scores = {
                name: value for name in metric_names if name in row and (value := score_value(row[name])) is not None
            }
            resps = row.get("filtered_resps") or row.get("resps") or []
            answer = resps[0] if resps and isinstance(resps[0], str) else json.dumps(resps) if resps else None
            samples.append(
                ExternalSample(
                    sample_id=str(row["doc_id"]),
                    epoch=1,
                    input=row.get("doc"),
                    target=row.get("target"),
                    answer=answer,
                    scores=scores,
                )
            )
    return samples


def read(path: Path, task_map: dict[str, str]) -> list[ExternalRun]:
    checked_size(path)
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ImportFormatError(f"{path}: not an lm-eval results file ({type(exc).__name__}: {exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict) or not data["results"]:
        raise ImportFormatError(f"{path}: not an lm-eval results file (no 'results' section)")
    config = data.get("config") or {}
    model_kind = str(config.get("model") or "lm-eval")
    model_name = str(data.get("model_name") or (config.get("model_args") or {}).get("model") or "unknown")
    when = data.get("date")
    started = finished = None
    if isinstance(when, int | float) and not isinstance(when, bool):
        started = unix_time(when)
        took = data.get("total_evaluation_time_seconds")
        if started is not None and isinstance(took, str | int | float):
            try:
                finished = unix_time(when + float(took))
            except ValueError:  # a text that is not a number
                finished = None
    digest = sha256_of(path)
    runs = []
    for task, values in sorted(data["results"].items()):
        if not isinstance(values, dict):
            raise ImportFormatError(f"{path}: results for {task!r} are not an object")
        metrics: list[ExternalMetric] = []
        n = int(((data.get("n-samples") or {}).get(task) or {}).get("effective") or values.get("sample_len") or 0)
        for key, value in values.items():
            if "," not in key or key.split(",")[0].endswith("_stderr"):
                continue
            name, filt = key.split(",", 1)
            stderr = score_value(values.get(f"{name}_stderr,{filt}"))
            metrics.append(ExternalMetric(name if filt == "none" else f"{name}/{filt}", score_value(value), stderr, n))
        metric_names = {m.name.split("/")[0] for m in metrics}
        samples_path = _samples_file(path, task)
        samples = _read_samples(samples_path, metric_names) if samples_path else []
        version = (data.get("versions") or {}).get(task)
        directions = (data.get("higher_is_better") or {}).get(task)
        directions = directions if isinstance(directions, dict) else {}
        # lm-eval says per metric whether higher is better (False for perplexity, bits_per_byte)
        lower = sorted(m.name for m in metrics if directions.get(m.name.split("/")[0]) is False)
        runs.append(
            ExternalRun(
                framework="lm-eval",
                framework_version=data.get("lm_eval_version"),
                file_sha256=digest,
                task=namespaced("lm-eval", task, task_map),
                task_version=str(version if version is not None else "unknown"),
                task_args={"num_fewshot": (data.get("n-shot") or {}).get(task), "limit": config.get("limit")},
                model_id=f"{model_kind}/{model_name}",
                main_metric=metrics[0].name if metrics else None,
                started_at=started,
                finished_at=finished,
                status="complete",
                samples=samples,
                metrics=metrics,
                provenance=_provenance(path, samples_path, data),
                lower_is_better=lower,
            )
        )
    return runs


def _provenance(path: Path, samples_path: Path | None, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "file": path.name,
        "samples_file": samples_path.name if samples_path else None,
        "samples_sha256": sha256_of(samples_path) if samples_path else None,
        "task_hashes": data.get("task_hashes"),
        "git_hash": data.get("git_hash"),
    }
