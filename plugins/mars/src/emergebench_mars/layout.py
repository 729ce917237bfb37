"""Find a task's split file in a list of repository paths.

The file names of the MARS release on the Hub are not documented (spec section 3): the reference
code reads ``<task folder>/{train,dev,test}.csv`` and the Hub's parquet converter writes
``<config>/<split>/0000.parquet``. Rather than hard-code one guess, we match any path whose folder
or file name names the task and whose file or parent folder names the split, and say exactly what
was found when nothing (or more than one file) matches. ``-T path_template`` is the escape hatch.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from emergebench import UsageError

from .schema import SPLIT_ALIASES, TaskSchema

DATA_SUFFIXES = (".csv", ".parquet", ".jsonl")
VARIANT_MARKERS = {"equal_boundary": ("equalboundary", "fixedboundary")}


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _tokens(text: str) -> set[str]:
    return {t for t in re.split(r"[^a-z0-9]+", text.lower()) if t}


def _is_variant(path: str, variant: str) -> bool:
    parts = {_norm(p) for p in path.split("/")}
    markers = VARIANT_MARKERS.get(variant, ())
    return any(any(m in part for m in markers) for part in parts)


def _any_variant(path: str) -> bool:
    return any(_is_variant(path, v) for v in VARIANT_MARKERS)


def _names_task(path: str, schema: TaskSchema) -> bool:
    parts = path.split("/")
    aliases = set(schema.folder_aliases)
    for part in parts:
        stem = part.rsplit(".", 1)[0] if part is parts[-1] else part
        if _norm(stem) in aliases or _tokens(stem) & aliases:
            return True
    return False


def _names_split(path: str, split: str) -> bool:
    parts = path.split("/")
    aliases = set(SPLIT_ALIASES[split])
    stem = parts[-1].rsplit(".", 1)[0]
    if _tokens(stem) & aliases:
        return True
    # parquet conversion: <config>/<split>/0000.parquet or <config>/partial-<split>/0000.parquet
    return len(parts) >= 2 and bool(_tokens(parts[-2]) & aliases)


def find_split_file(
    paths: Iterable[str],
    schema: TaskSchema,
    split: str,
    *,
    variant: str = "standard",
    where: str,
) -> list[str]:
    """Return the path(s) holding ``split`` of ``schema``'s task; several only for sharded parquet."""
    all_paths = sorted(p for p in paths if p.lower().endswith(DATA_SUFFIXES))
    if variant == "standard":
        pool = [p for p in all_paths if not _any_variant(p)]
    else:
        pool = [p for p in all_paths if _is_variant(p, variant)]
    split_hits = [p for p in pool if _names_split(p, split)]
    hits = [p for p in split_hits if _names_task(p, schema)]
    if not hits:
        # the reference's own layout: a folder that holds one task's train/dev/test.csv directly
        hits = [p for p in split_hits if "/" not in p or _is_variant(p.rsplit("/", 1)[0], variant)]
        hits = hits if len({p.rsplit("/", 1)[0] if "/" in p else "" for p in hits}) == 1 else []
    if not hits:
        shown = ", ".join(all_paths[:40]) or "(no .csv/.parquet/.jsonl files)"
        raise UsageError(
            f"cannot find the {split} split of the MARS {schema.key} task ({variant} variant) in {where}. "
            f"Data files there: {shown}. Point at the file with -T path_template='FOLDER/{{split}}.csv' "
            "(relative to the repository or data_dir)."
        )
    # prefer CSV (the released format) over converted parquet when both are present
    csv_hits = [p for p in hits if p.lower().endswith(".csv")]
    hits = csv_hits or hits
    parquet_shards = all(p.lower().endswith(".parquet") for p in hits) and len({p.rsplit("/", 1)[0] for p in hits}) == 1
    if len(hits) > 1 and not parquet_shards:
        raise UsageError(
            f"several files in {where} look like the {split} split of the MARS {schema.key} task: "
            f"{', '.join(hits)}. Choose one with -T path_template='FOLDER/{{split}}.csv'."
        )
    return hits


def template_path(template: str, schema: TaskSchema, split: str) -> str:
    """Expand ``-T path_template``: ``{split}`` and ``{task}`` are replaced."""
    if "{split}" not in template:
        raise UsageError(
            f"-T path_template={template!r} must contain {{split}} (e.g. 'transition/{{split}}.csv') so that "
            "train, dev and test can be told apart"
        )
    try:
        return template.format(split=split, task=schema.key).lstrip("/")
    except (KeyError, IndexError) as exc:
        raise UsageError(f"-T path_template={template!r} may only use {{split}} and {{task}}: {exc}") from exc
