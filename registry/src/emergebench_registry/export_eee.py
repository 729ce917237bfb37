"""Registry runs as Every Eval Ever records, so they can be contributed to EEE's datastore.

One run gives one aggregate record (``eval.schema.json`` 0.3.0) and, when it has per-sample scores, an
instance-level JSONL file (``instance_level_eval.schema.json``), filed as EEE's datastore files them:
``data/<collection>/<developer>/<model>/<uuid>.json`` and ``<uuid>_samples.jsonl``. The uuid is
derived from the run id, and every timestamp from the run, so exporting a run again writes the same
bytes (a push of unchanged runs changes nothing). What maps where, and what is lost: docs/export-eee.md.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
from emergebench.errors import UsageError

from . import identifiers
from .direction import run_lower_is_better

SCHEMA_VERSION = "0.3.0"
# Providers whose model runs on the user's machine; a hosted API is externally managed.
SELF_DEPLOYED = {"llamacpp", "scripted", "builtin", "embedded", "fake"}
GENERATION_ARGS = ("temperature", "top_p", "top_k", "max_tokens")
_IMPORTED_SOURCE = re.compile(r"(?P<name>\S+) (?P<version>\S+) sha256:[0-9a-f]{64}")
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


@dataclass
class EeeOptions:
    organization: str = "emergebench"
    relationship: str = "third_party"
    model_ids: dict[str, str] = field(default_factory=dict)  # registry model id -> EEE ORG/NAME


@dataclass
class EeeFile:
    path: str  # repo-relative: data/<collection>/<developer>/<model>/<uuid>.json
    content: bytes


@dataclass
class EeeExportReport:
    runs: list[str] = field(default_factory=list)
    files: list[EeeFile] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # run id -> why it was not exported


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def _strings(mapping: dict[str, Any]) -> dict[str, str]:
    """EEE's ``additional_details``: every value a string; empty values are left out."""
    return {str(k): _text(v) for k, v in mapping.items() if v is not None and v != "" and v != {}}


def _epoch_seconds(moment: datetime | None) -> str | None:
    return None if moment is None else repr(moment.timestamp())


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _component(value: str, what: str, run_id: str) -> str:
    """One datastore path component, portable as EEE requires (':' becomes '_', as EEE's publisher does)."""
    part = value.replace(":", "_")
    if (
        not part
        or part in {".", "..", "data"}
        or part.endswith((".", " "))
        or part.split(".", 1)[0].upper() in _RESERVED
        or re.search(r'[<>:"\\|?*\x00-\x1f/]', part)
    ):
        raise UsageError(f"run {run_id}: its {what} {value!r} cannot name an EEE datastore folder")
    return part


def record_uuid(run_id: str) -> str:
    """A version-4-shaped uuid (EEE's file names require one) derived from the run id."""
    return str(uuid.UUID(bytes=hashlib.sha256(run_id.encode()).digest()[:16], version=4))


def _eee_model_id(model_id: str, options: EeeOptions) -> str:
    return options.model_ids.get(model_id, model_id)


def _eval_library(run: dict[str, Any]) -> dict[str, Any]:
    """emergebench for its own runs; for runs imported from another framework, that framework."""
    imported = _IMPORTED_SOURCE.fullmatch(run["source"] or "")
    plugins = json.loads(run["plugin_versions"] or "{}")
    original = json.loads(run["task_provenance"] or "{}").get("eval_library")
    if imported and imported["name"] == "eee" and isinstance(original, dict) and original.get("name"):
        # A record imported from EEE keeps the library its record named (inspect, lm_eval, ...).
        return {
            "name": str(original["name"]),
            "version": str(original.get("version") or "unknown"),
            "additional_details": _strings({"imported_by": "emergebench", "source": run["source"]}),
        }
    if imported:
        return {
            "name": imported["name"],
            "version": imported["version"],
            "additional_details": _strings({"imported_by": "emergebench", "source": run["source"]}),
        }
    return {
        "name": "emergebench",
        "version": run["emergebench_version"] or "unknown",
        "additional_details": _strings({f"plugin:{k}": v for k, v in plugins.items()}),
    }


def _model_info(run: dict[str, Any], model: dict[str, Any], options: EeeOptions) -> dict[str, Any]:
    eee_id = _eee_model_id(run["model_id"], options)
    provider = model.get("provider") or run["model_id"].split("/")[0]
    details = {
        "deployment_type": "self_deployed" if provider in SELF_DEPLOYED else "externally_managed",
        "model_availability": "unknown",
        **_strings(
            {
                "emergebench_model_id": run["model_id"],
                "family": model.get("family"),
                "num_parameters": model.get("parameters"),
                "quantization": model.get("quantization"),
                "model_args": json.loads(run["model_args"] or "{}"),
            }
        ),
    }
    info: dict[str, Any] = {"name": eee_id.split("/")[-1], "id": eee_id, "inference_platform": provider}
    if eee_id != run["model_id"]:
        info["developer"] = eee_id.split("/")[0]
    info["additional_details"] = details
    return info


def _generation_config(run: dict[str, Any]) -> dict[str, Any]:
    generate = json.loads(run["generate"] or "{}")
    args = {k: generate[k] for k in GENERATION_ARGS if k in generate}
    if not (isinstance(args.get("max_tokens"), int) and args["max_tokens"] >= 1):
        args.pop("max_tokens", None)
    extra = {k: v for k, v in generate.items() if k not in args}
    extra.update({"seed": run["seed"], "epochs": run["epochs"], "sample_limit": run["sample_limit"]})
    extra.update({"grader": run["grader"], "grader_model": run["grader_model"]})
    return {"generation_args": args, "additional_details": _strings(extra)}


def _result(run: dict[str, Any], metric: dict[str, Any]) -> dict[str, Any] | None:
    if not _finite(metric["value"]):
        return None
    result_id = metric["name"] + (f"@{metric['breakdown']}" if metric["breakdown"] else "")
    uncertainty: dict[str, Any] = {}
    if _finite(metric["stderr"]):
        uncertainty["standard_error"] = {"value": metric["stderr"]}
    if _finite(metric["ci_low"]) and _finite(metric["ci_high"]):
        uncertainty["confidence_interval"] = {"lower": metric["ci_low"], "upper": metric["ci_high"]}
    if isinstance(metric["n"], int):
        uncertainty["num_samples"] = metric["n"]
    provenance = json.loads(run["task_provenance"] or "{}")
    score: dict[str, Any] = {"score": metric["value"]}
    if metric["breakdown"]:
        score["details"] = {"breakdown": metric["breakdown"]}
    if uncertainty:
        score["uncertainty"] = uncertainty
    result: dict[str, Any] = {
        "evaluation_result_id": result_id,
        "evaluation_name": run["task"],
        "source_data": {
            "dataset_name": run["task"],
            "source_type": "other",
            "additional_details": _strings(
                {
                    "task_version": run["task_version"],
                    "task_args": json.loads(run["task_args"] or "{}"),
                    **{f"provenance:{k}": v for k, v in provenance.items()},
                }
            ),
        },
        "metric_config": {
            "metric_id": metric["name"],
            "metric_name": metric["name"],
            "lower_is_better": run_lower_is_better(run["lower_is_better"], metric["name"]),
        },
        "score_details": score,
        "generation_config": _generation_config(run),
    }
    if run["started_at"] is not None:
        result["evaluation_timestamp"] = _epoch_seconds(run["started_at"])
    return result


def _stored_json(cell: str | None) -> Any:
    """A samples.input/target cell (a JSON column), decoded."""
    return json.loads(cell) if cell else None


def _references(target: Any) -> list[str]:
    """EEE's ``reference``: the acceptable answers as strings."""
    if target is None:
        return []
    return [_text(t) for t in target] if isinstance(target, list) else [_text(target)]


def _dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _conversations(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[tuple[str, int], list[dict[str, Any]]]:
    """For each multi-turn (sample, epoch): its last subject model call's messages, then that call's
    output as the assistant's last turn (EEE's ``messages``)."""
    cursor = con.execute(
        """SELECT c.sample_id, c.epoch, c.messages, c.output FROM model_calls c
           JOIN samples s USING (run_id, sample_id, epoch)
           WHERE c.run_id = ? AND c.role = 'subject' AND s.n_calls > 1
           QUALIFY row_number() OVER (PARTITION BY c.sample_id, c.epoch ORDER BY c.call_index DESC) = 1""",
        [run_id],
    )
    found = {}
    for sample_id, epoch, messages, output in cursor.fetchall():
        turns = [m for m in (_stored_json(messages) or []) if isinstance(m, dict)]
        if output is not None:
            turns.append({"role": "assistant", "content": output})
        found[(sample_id, epoch)] = [
            {"turn_idx": i, "role": str(m.get("role") or "user"), "content": _content(m.get("content"))}
            for i, m in enumerate(turns)
        ]
    return found


def _content(value: Any) -> str | None:
    return None if value is None else _text(value)


def _instance_rows(
    con: duckdb.DuckDBPyConnection, run: dict[str, Any], eee_id: str, evaluation_id: str, metric_ids: dict[str, str]
) -> Iterator[dict[str, Any]]:
    """One row per (sample, epoch, score): EEE's instance row carries one score; the epoch goes to
    ``metadata.epoch`` as inspect's converter puts it. A sample that made several model calls is a
    ``multi_turn`` row with the conversation as ``messages`` (EEE allows no ``output`` then); without
    stored calls its input and answer are the two turns."""
    conversations = _conversations(con, run["run_id"])
    cursor = con.execute(
        """SELECT s.sample_id, s.epoch, s.input, s.target, s.answer, s.error, s.n_calls, sc.name, sc.value
           FROM samples s JOIN scores sc USING (run_id, sample_id, epoch)
           WHERE s.run_id = ? ORDER BY s.sample_id, s.epoch, sc.name""",
        [run["run_id"]],
    )
    while batch := cursor.fetchmany(10_000):
        for sample_id, epoch, raw_input, target, answer, error, n_calls, name, value in batch:
            if not _finite(value):
                continue
            given = _stored_json(raw_input)
            raw = "" if given is None else _text(given)
            row: dict[str, Any] = {
                "schema_version": SCHEMA_VERSION,
                "evaluation_id": evaluation_id,
                "model_id": eee_id,
                "evaluation_name": run["task"],
                "sample_id": str(sample_id),
                "interaction_type": "single_turn",
                "input": {"raw": raw, "reference": _references(_stored_json(target))},
                "output": {"raw": [] if answer is None else [answer]},
                "answer_attribution": [],
                "evaluation": {"score": value, "is_correct": value == 1.0},
                "error": error,
                "metadata": {"epoch": str(epoch), "score_name": name},
            }
            if n_calls:
                row["evaluation"]["num_turns"] = n_calls
            if (n_calls or 0) > 1:
                fallback = [{"turn_idx": 0, "role": "user", "content": raw}]
                if answer is not None:
                    fallback.append({"turn_idx": 1, "role": "assistant", "content": answer})
                row["interaction_type"] = "multi_turn"
                row["messages"] = conversations.get((sample_id, epoch)) or fallback
                del row["output"]
            if name in metric_ids:
                row["evaluation_result_id"] = metric_ids[name]
            yield row


def run_record(con: duckdb.DuckDBPyConnection, run_id: str, options: EeeOptions) -> list[EeeFile]:
    """The aggregate (and instance file, when the run has scores) of one run."""
    (run,) = _dicts(con.execute("SELECT * FROM runs WHERE run_id = ?", [run_id]))
    models = _dicts(con.execute("SELECT * FROM models WHERE model_id = ?", [run["model_id"]]))
    eee_id = _eee_model_id(run["model_id"], options)
    parts = eee_id.split("/")
    collection = _component(run["task"].replace("/", "_"), "task", run_id)
    developer = _component(parts[0], "model developer", run_id)
    model_dir = "_".join(_component(p, "model name", run_id) for p in parts[1:])
    folder = f"data/{collection}/{developer}/{model_dir}"
    name = record_uuid(run_id)
    evaluation_id = f"{run['task']}/{eee_id}/{run_id}"
    metrics = _dicts(con.execute("SELECT * FROM metrics WHERE run_id = ? ORDER BY breakdown, name", [run_id]))
    pairs = [(m, r) for m in metrics if (r := _result(run, m)) is not None]
    if not pairs:
        raise UsageError(f"run {run_id}: it has no finite metric value, and an EEE record needs one")
    results = [r for _, r in pairs]
    metric_ids = {m["name"]: r["evaluation_result_id"] for m, r in pairs if not m["breakdown"]}
    stamp = run["finished_at"] or run["started_at"] or run["ingested_at"]
    record: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "evaluation_id": evaluation_id,
        "retrieved_timestamp": _epoch_seconds(stamp) or "0",
        "source_metadata": {
            "source_name": "emergebench",
            "source_type": "evaluation_run",
            "source_organization_name": options.organization,
            "evaluator_relationship": options.relationship,
            "additional_details": _strings(
                {key: run[key] for key in ("run_id", "spec_id", "status", "contributor", "source")}
            ),
        },
        "eval_library": _eval_library(run),
        "model_info": _model_info(run, models[0] if models else {}, options),
        "evaluation_results": results,
    }
    if run["started_at"] is not None:
        record["evaluation_timestamp"] = _epoch_seconds(run["started_at"])
    lines = [json.dumps(row, sort_keys=True) for row in _instance_rows(con, run, eee_id, evaluation_id, metric_ids)]
    files = []
    if lines:
        samples = ("\n".join(lines) + "\n").encode()
        record["detailed_evaluation_results"] = {
            "format": "jsonl",
            "file_path": f"{folder}/{name}_samples.jsonl",
            "hash_algorithm": "sha256",
            "checksum": hashlib.sha256(samples).hexdigest(),
            "total_rows": len(lines),
        }
        files.append(EeeFile(f"{folder}/{name}_samples.jsonl", samples))
    files.insert(0, EeeFile(f"{folder}/{name}.json", (json.dumps(record, indent=2) + "\n").encode()))
    return files


def eee_records(
    con: duckdb.DuckDBPyConnection, run_ids: list[str] | None, include_running: bool, options: EeeOptions
) -> EeeExportReport:
    """Records for the chosen runs (default: every finished run not itself imported from EEE)."""
    from .shards import selected_runs

    report = EeeExportReport()
    for run_id, _task in selected_runs(con, run_ids, include_running):
        (source,) = con.execute("SELECT source FROM runs WHERE run_id = ?", [run_id]).fetchone() or (None,)
        if run_ids is None and str(source).startswith("eee "):
            report.skipped[run_id] = "imported from Every Eval Ever (name it with --run to export it again)"
            continue
        try:
            report.files.extend(run_record(con, run_id, options))
        except UsageError as exc:
            report.skipped[run_id] = str(exc)
            continue
        report.runs.append(run_id)
    return report


def write_records(out_dir: Path, files: list[EeeFile]) -> list[Path]:
    """Write the records under ``out_dir``; every path is built from data, so each must stay inside it."""
    written = []
    for item in files:
        target = identifiers.contained(out_dir, item.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(item.content)
        written.append(target)
    return written


def parse_model_ids(pairs: tuple[str, ...]) -> dict[str, str]:
    """``--model-id LOCAL=ORG/NAME``: the EEE id (the model's Hub id) of a registry model id."""
    mapping = {}
    for pair in pairs:
        local, sep, eee = pair.partition("=")
        why = identifiers.problem("model_id", eee) if sep else "it is not LOCAL=ORG/NAME"
        if why or eee.count("/") < 1:
            raise UsageError(f"--model-id {pair!r}: {why or 'the EEE id must be ORG/NAME'}")
        mapping[local] = eee
    return mapping
