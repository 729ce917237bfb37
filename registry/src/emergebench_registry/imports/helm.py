"""HELM (crfm-helm) run folders: ``benchmark_output/runs/<suite>/<run name>/`` as ``helm-run`` writes
them. ``run_spec.json`` says what ran (scenario, adapter, model), ``stats.json`` holds the aggregate
statistics, ``per_instance_stats.json`` the statistics of each (instance, train trial) and
``scenario_state.json`` each request with its prompt, references and completions. One run folder is one
run. Read with the standard library only; field meanings are HELM's (RunSpec, Stat, MetricName,
PerInstanceStats, ScenarioState); see docs/import-helm.md for the mapping."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from .common import (
    ExternalMetric,
    ExternalRun,
    ExternalSample,
    ImportFormatError,
    checked_size,
    clean_segment,
    namespaced,
    sha256_of,
    unix_time,
)

RUN_SPEC = "run_spec.json"
STATS = "stats.json"
PER_INSTANCE = "per_instance_stats.json"
SCENARIO_STATE = "scenario_state.json"
# Run-name arguments that say which model ran, not what was asked: they are left out of the task name.
MODEL_ARGS = {"model", "model_deployment"}
# HELM's run folders do not say which statistic is a run's headline (its schema files do, per run
# group); the first of these the run has is taken, else none (``leaderboard --metric`` picks one).
HEADLINE_PREFERENCE = (
    "exact_match",
    "quasi_exact_match",
    "prefix_exact_match",
    "quasi_prefix_exact_match",
    "f1_score",
    "rouge_l",
    "bleu_4",
    "math_equiv",
    "math_equiv_chain_of_thought",
)
# Adapter settings that change what a run computes; they join the task arguments (the comparison key).
ADAPTER_KEYS = (
    "method",
    "instructions",
    "max_train_instances",
    "max_eval_instances",
    "num_train_trials",
    "num_outputs",
    "temperature",
    "max_tokens",
    "stop_sequences",
)


def _load(folder: Path, name: str, kind: type, required: bool = True) -> Any:
    path = folder / name
    if not path.is_file():
        if required:
            raise ImportFormatError(f"{folder}: not a HELM run folder ({name} is missing)")
        return None
    checked_size(path)
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ImportFormatError(f"{path}: not HELM's {name} ({type(exc).__name__}: {exc})") from None
    if not isinstance(data, kind):
        raise ImportFormatError(f"{path}: not HELM's {name} (a JSON {kind.__name__} was expected)")
    return data


def _metric_name(name: Any) -> str:
    """A HELM statistic name made to fit the score-name grammar (other characters become '_')."""
    if not isinstance(name, str) or not name:
        raise ImportFormatError(f"a statistic without a name: {name!r}")
    return re.sub(r"[^A-Za-z0-9._:/+=-]", "_", name)[:128]


def _stat_value(stat: dict[str, Any]) -> float | None:
    """A Stat's mean (HELM drops NaN means from its files), else sum / count."""
    mean = stat.get("mean")
    if isinstance(mean, int | float) and not isinstance(mean, bool) and math.isfinite(mean):
        return float(mean)
    count, total = stat.get("count"), stat.get("sum")
    if isinstance(count, int) and count > 0 and isinstance(total, int | float) and math.isfinite(total):
        return float(total) / count
    return None


def _stderr(values: list[float]) -> float | None:
    """Standard error of the mean over the per-instance values (HELM's aggregate Stat is over train
    trials, ``count`` = trials, so its own variance says nothing about the spread over instances)."""
    if len(values) < 2:
        return None
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1) / len(values))


def _perturbation(value: Any) -> str | None:
    if not isinstance(value, dict) or not value.get("name"):
        return None
    computed_on = value.get("computed_on")
    label = clean_segment(value["name"])
    return f"{label}/{clean_segment(computed_on)}" if computed_on and computed_on != "perturbed" else label


def task_of(run_name: str, task_map: dict[str, str]) -> tuple[str, dict[str, str]]:
    """``helm/<scenario>[/<run arguments>]`` from a run name such as ``mmlu:subject=anatomy,model=x``
    (the model arguments left out), and the run-name arguments."""
    scenario, _, rest = run_name.partition(":")
    args: dict[str, str] = {}
    for part in filter(None, rest.split(",")):
        key, _, value = part.partition("=")
        args[key] = value
    kept = ",".join(f"{k}={v}" for k, v in args.items() if k not in MODEL_ARGS)
    own = namespaced("helm", scenario, {})
    if kept:
        own += "/" + clean_segment(kept)
    return task_map.get(own, own), args


def _eval_split(stats: list[dict[str, Any]]) -> str | None:
    splits = [(s.get("name") or {}).get("split") for s in stats]
    for preferred in ("test", "valid"):
        if preferred in splits:
            return preferred
    return splits[0] if splits else None


def _metrics(stats: list[dict[str, Any]], per_instance: dict[str, list[float]]) -> list[ExternalMetric]:
    """stats.json's entries; ``n`` and ``stderr`` of the overall ones from the per-instance values."""
    for stat in stats:
        if not isinstance(stat, dict) or not isinstance(stat.get("name"), dict):
            raise ImportFormatError("stats.json holds an entry that is not a HELM Stat")
    main_split = _eval_split(stats)
    instances: dict[str | None, int] = {}
    for stat in stats:
        name = stat["name"]
        if name.get("name") == "num_instances" and not name.get("perturbation"):
            value = _stat_value(stat)
            instances[name.get("split")] = int(value) if value is not None else 0
    metrics = []
    for stat in stats:
        name = stat["name"]
        parts = []
        if name.get("split") != main_split:
            parts.append(f"split={name.get('split')}")
        if name.get("sub_split"):
            parts.append(f"sub_split={name['sub_split']}")
        perturbation = _perturbation(name.get("perturbation"))
        if perturbation:
            parts.append(f"perturbation={perturbation}")
        metric = _metric_name(name.get("name"))
        values = per_instance.get(metric, []) if not parts else []
        n = len(values) or instances.get(name.get("split"), 0)
        metrics.append(ExternalMetric(metric, _stat_value(stat), _stderr(values), n, ",".join(parts)))
    return metrics


def _requests(state: dict[str, Any] | None) -> dict[tuple[str, int], dict[str, Any]]:
    """The unperturbed request of each (instance id, train trial) (a multiple-choice method that sends
    one request per reference keeps the first)."""
    found: dict[tuple[str, int], dict[str, Any]] = {}
    for request_state in (state or {}).get("request_states") or []:
        instance = request_state.get("instance") or {}
        if instance.get("perturbation") or not instance.get("id"):
            continue
        found.setdefault((str(instance["id"]), int(request_state.get("train_trial_index") or 0)), request_state)
    return found


def _sample(entry: dict[str, Any], request_state: dict[str, Any] | None) -> ExternalSample:
    instance_id, trial = str(entry["instance_id"]), int(entry.get("train_trial_index") or 0)
    scores = {}
    for stat in entry.get("stats") or []:
        if not isinstance(stat, dict) or not isinstance(stat.get("name"), dict):
            raise ImportFormatError(f"instance {instance_id} has a statistic that is not a HELM Stat")
        value = _stat_value(stat)
        if value is not None:
            scores[_metric_name(stat["name"].get("name"))] = value
    text = target = answer = error = None
    if request_state is not None:
        instance = request_state.get("instance") or {}
        text = (instance.get("input") or {}).get("text")
        correct = [
            (ref.get("output") or {}).get("text")
            for ref in instance.get("references") or []
            if "correct" in (ref.get("tags") or [])
        ]
        target = correct[0] if len(correct) == 1 else correct
        result = request_state.get("result")
        if not isinstance(result, dict):
            error = "HELM recorded no result for this request"
        elif not result.get("success", True):
            error = str(result.get("error") or "the request failed")
        else:
            completions = result.get("completions") or []
            answer = completions[0].get("text") if completions and isinstance(completions[0], dict) else None
    return ExternalSample(instance_id, trial + 1, text, target, answer, scores, error)


def _times(state: dict[str, Any] | None) -> tuple[datetime | None, datetime | None]:
    stamps = [
        (request_state.get("result") or {}).get("request_datetime")
        for request_state in (state or {}).get("request_states") or []
        if isinstance(request_state, dict)
    ]
    seconds = [float(s) for s in stamps if isinstance(s, int | float) and not isinstance(s, bool) and math.isfinite(s)]
    if not seconds:
        return None, None
    return unix_time(min(seconds)), unix_time(max(seconds))


def _folder_digest(folder: Path, names: list[str]) -> str:
    """One hash for the run: the names and sha256 of the files read, so a changed file is a new run."""
    lines = "".join(f"{name} {sha256_of(folder / name)}\n" for name in names)
    return hashlib.sha256(lines.encode()).hexdigest()


def read(path: Path, task_map: dict[str, str]) -> list[ExternalRun]:
    folder = path.parent if path.is_file() else path
    spec = _load(folder, RUN_SPEC, dict)
    stats = _load(folder, STATS, list)
    per_instance = _load(folder, PER_INSTANCE, list, required=False)
    state = _load(folder, SCENARIO_STATE, dict, required=False)
    adapter = spec.get("adapter_spec")
    if not isinstance(spec.get("name"), str) or not isinstance(adapter, dict) or not adapter.get("model"):
        raise ImportFormatError(f"{folder / RUN_SPEC}: not a HELM run spec (no name, adapter_spec or model)")
    try:
        task, run_args = task_of(spec["name"], task_map)
        requests = _requests(state)
        samples = []
        for entry in per_instance or []:
            if not isinstance(entry, dict) or "instance_id" not in entry:
                raise ImportFormatError("an entry without an instance_id")
            if entry.get("perturbation"):  # kept only as aggregates (breakdown perturbation=...)
                continue
            key = (str(entry["instance_id"]), int(entry.get("train_trial_index") or 0))
            samples.append(_sample(entry, requests.get(key)))
        per_sample: dict[str, list[float]] = {}
        for sample in samples:
            for name, value in sample.scores.items():
                per_sample.setdefault(name, []).append(value)
        metrics = _metrics(stats, per_sample)
    except (ImportFormatError, TypeError, ValueError, AttributeError) as exc:
        raise ImportFormatError(f"{folder}: {exc}") from None
    keys = Counter((s.sample_id, s.epoch) for s in samples)
    doubled = [key for key, n in keys.items() if n > 1]
    if doubled:
        raise ImportFormatError(f"{folder / PER_INSTANCE}: instance {doubled[0][0]} appears twice in one trial")
    names = [n for n in (RUN_SPEC, STATS, PER_INSTANCE, SCENARIO_STATE) if (folder / n).is_file()]
    started, finished = _times(state)
    overall = {m.name for m in metrics if not m.breakdown}
    headline = next((n for n in HEADLINE_PREFERENCE if n in overall), None)
    scenario = spec.get("scenario_spec") or {}
    return [
        ExternalRun(
            framework="helm",
            framework_version=None,  # HELM's run folders do not record its version
            file_sha256=_folder_digest(folder, names),
            task=task,
            task_version="unknown",
            task_args={
                "scenario": scenario.get("args") or {},
                "run_args": {k: v for k, v in run_args.items() if k not in MODEL_ARGS},
                "adapter": {k: adapter.get(k) for k in ADAPTER_KEYS if k in adapter},
            },
            model_id=str(adapter["model"]),
            main_metric=headline,
            started_at=started,
            finished_at=finished,
            status="partial" if any(s.error for s in samples) else "complete",
            samples=samples,
            metrics=metrics,
            input_tokens=_token_sum(per_sample.get("num_prompt_tokens")),
            output_tokens=_token_sum(per_sample.get("num_output_tokens")),
            provenance={
                "folder": folder.name,
                "files": names,
                "run_name": spec["name"],
                "scenario_class": scenario.get("class_name"),
                "model_deployment": adapter.get("model_deployment"),
                "groups": spec.get("groups"),
            },
        )
    ]


def _token_sum(values: list[float] | None) -> int | None:
    return round(sum(values)) if values else None
