"""The dataset card (README.md) regenerated on each push.

Its YAML ``configs`` section maps one config per table to the table's shards, so the Hub's dataset
viewer and ``datasets.load_dataset(repo, "scores")`` read the Parquet files directly.
"""

from __future__ import annotations

import hashlib
from collections import Counter

from .shards import SHARD_TABLES, parse_shard_path

DEFAULT_CONFIG = "runs"
TABLE_HELP = {
    "runs": "one row per run: task and version, model, status, counts, provenance",
    "models": "models that answered: provider, family, parameter count",
    "samples": "one row per (run, sample, epoch): input, target, answer, error",
    "scores": "one row per (run, sample, epoch, score name): the per-sample scores",
    "model_calls": "every model call: messages, output, usage, latency, cache hit",
    "metrics": "the task's aggregate metrics per run, with stderr, n and confidence interval",
}


def dataset_card(repo: str, files: list[str]) -> str:
    """The full README.md text for a repo holding ``files`` (repo-relative paths)."""
    runs_per_task: Counter[str] = Counter()
    for path in files:
        parsed = parse_shard_path(path)
        if parsed and parsed[0] == "runs":
            runs_per_task[parsed[1]] += 1
    lines = ["---", "configs:"]
    for table in SHARD_TABLES:
        lines += [
            f"- config_name: {table}",
            "  data_files:",
            "  - split: train",
            f"    path: data/{table}/**/*.parquet",
        ]
        if table == DEFAULT_CONFIG:
            lines.append("  default: true")
    lines += ["tags:", "- emergebench", "- evaluation", "- emergent-abilities", "---", ""]
    lines += [
        f"# {repo}: pooled emergebench results",
        "",
        "Results of emergebench runs (an open framework for evaluating emergent abilities), one immutable",
        "set of Parquet shards per run (`data/<table>/<task>/<run_id>.parquet`). Pull them into a local",
        "registry and query with SQL:",
        "",
        "```",
        f"emergebench sync pull --repo {repo}",
        'emergebench sql "SELECT * FROM leaderboard"',
        "```",
        "",
        "## Tables",
        "",
    ]
    lines += [f"- `{t}`: {TABLE_HELP[t]}" for t in SHARD_TABLES]
    lines += ["", f"## Contents ({sum(runs_per_task.values())} runs)", "", "| task | runs |", "|---|---|"]
    lines += [f"| {task} | {n} |" for task, n in sorted(runs_per_task.items())]
    return "\n".join(lines) + "\n"


def card_blob_id(card: str) -> str:
    """The git blob id the Hub reports for a README holding ``card``: compared, never downloaded."""
    return blob_id(card.encode())


def blob_id(data: bytes) -> str:
    """The git blob id of a file holding ``data`` (what the Hub reports for a file not in LFS)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
