"""Read one MARS split file (CSV or Parquet) into validated rows.

Validation happens here, once, so a malformed release fails before any model is called, with a
message that names the file, the missing column or bad value, and what was found instead.
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emergebench import UsageError

from .changed_event import BUILD_ROLES, describe, substitute
from .schema import TaskSchema

BUILT = "built"  # the value ``resolve_columns`` gives a role it will build instead of read

TRUE_WORDS = {"1", "true", "yes", "plausible", "reality"}
FALSE_WORDS = {"0", "false", "no", "metaphysical", "implausible"}


class DataFormatError(UsageError):
    """A data file does not have the layout a task needs."""


@dataclass(frozen=True)
class MarsRow:
    """One labelled item: ``fields`` maps a schema role (event, inference, ...) to its text."""

    id: str
    split: str
    fields: dict[str, str]
    label: int
    groups: dict[str, str] = field(default_factory=dict)


@dataclass
class SplitData:
    rows: list[MarsRow]
    files: dict[str, str]  # path -> sha256
    columns: dict[str, str]  # role -> column used ("built" for an event made from its components)
    skipped_blank: int = 0
    built_from: str | None = None  # how the changed event was built, when it was
    skipped_unbuildable: int = 0  # rows whose component does not occur in their original event


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def resolve_columns(schema: TaskSchema, header: list[str], overrides: Mapping[str, str], path: Path) -> dict[str, str]:
    """Map each schema role to a column of ``header``; explicit ``overrides`` win over aliases."""
    known_roles = {role.name for role in schema.roles}
    unknown = sorted(set(overrides) - known_roles)
    if unknown:
        raise DataFormatError(
            f"-T columns names unknown role(s) {unknown} for the MARS {schema.key} task; "
            f"its roles are {sorted(known_roles)}"
        )
    found = ", ".join(repr(c) for c in header) or "(none)"
    chosen: dict[str, str] = {}
    for role in schema.roles:
        if role.name in overrides:
            column = overrides[role.name]
            if column not in header:
                raise DataFormatError(
                    f"{path}: -T columns maps {role.name!r} to column {column!r}, which the file lacks. "
                    f"Columns found: {found}."
                )
            chosen[role.name] = column
            continue
        taken = set(chosen.values())
        candidate = next((c for c in role.candidates if c in header and c not in taken), None)
        if candidate is not None:
            chosen[role.name] = candidate
        elif role.required and not role.buildable:
            raise DataFormatError(
                f"{path}: the MARS {schema.key} task needs a {role.name!r} column "
                f"(looked for {', '.join(role.candidates)}) but the file has: {found}. "
                f'If this release names it differently, map it with -T columns=\'{{"{role.name}": "COLUMN"}}\'.'
            )
    for role in schema.roles:
        if role.buildable and role.name not in chosen:
            if all(name in chosen for name in BUILD_ROLES):
                chosen[role.name] = BUILT
                continue
            missing = [name for name in BUILD_ROLES if name not in chosen]
            raise DataFormatError(
                f"{path}: the MARS {schema.key} task needs the changed event, either in a column named "
                f"{' / '.join(role.candidates)} or built from the original event and its substituted component "
                f"(columns {', '.join(BUILD_ROLES)}; missing here: {', '.join(missing)}). The file has: {found}. "
                "A plain 'event' column holds the original, unchanged event and is never used in its place. "
                f'Map the changed event with -T columns=\'{{"{role.name}": "COLUMN"}}\', or the components with '
                f'-T columns=\'{{"component_original": "COLUMN", "component_substitution": "COLUMN"}}\'.'
            )
    return chosen


def parse_label(value: Any, path: Path, line: int, column: str) -> int:
    """1 = plausible (Reality), 0 = metaphysical; accepts 0/1, 0.0/1.0, true/false, yes/no."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float) and not (isinstance(value, float) and math.isnan(value)):
        if value in (0, 1):
            return int(value)
    text = str(value).strip().lower() if value is not None else ""
    if text.endswith(".0"):
        text = text[:-2]
    if text in TRUE_WORDS:
        return 1
    if text in FALSE_WORDS:
        return 0
    raise DataFormatError(
        f"{path}, row {line}: label column {column!r} holds {value!r}; MARS labels must be 1 (plausible) "
        "or 0 (metaphysical). Check that the file is a MARS split, or map the label with -T columns."
    )


def _records(path: Path) -> tuple[list[str], Iterable[dict[str, Any]]]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        handle = path.open(newline="", encoding="utf-8-sig")
        reader = csv.DictReader(handle)
        header = [h for h in (reader.fieldnames or [])]

        def rows() -> Iterable[dict[str, Any]]:
            with handle:
                for row in reader:
                    if None in row:
                        raise DataFormatError(
                            f"{path}, row {reader.line_num}: more fields than the header's {len(header)} "
                            "columns; the CSV is malformed (an unquoted comma?)"
                        )
                    yield row

        return header, rows()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        return list(table.column_names), iter(table.to_pylist())
    if suffix in (".jsonl", ".json"):
        import json

        with path.open(encoding="utf-8") as handle:
            records = [json.loads(line) for line in handle if line.strip()]
        header = list(records[0]) if records else []
        return header, iter(records)
    raise DataFormatError(f"{path}: unsupported file type {suffix!r}; MARS splits are .csv (or .parquet/.jsonl)")


def load_split(
    paths: Path | list[Path], schema: TaskSchema, split: str, overrides: Mapping[str, str] | None = None
) -> SplitData:
    """Read and validate one split (one file, or the shards of a converted parquet split).

    Rows with a blank required text field are skipped and counted rather than sent to a model.
    """
    files = [paths] if isinstance(paths, Path) else list(paths)
    data = SplitData(rows=[], files={}, columns={})
    for path in files:
        _load_file(path, schema, split, overrides or {}, data)
    if not data.rows:
        shown = ", ".join(str(p) for p in files)
        raise DataFormatError(f"{shown}: no usable rows; expected a MARS {schema.key} {split} split")
    return data


def _load_file(path: Path, schema: TaskSchema, split: str, overrides: Mapping[str, str], data: SplitData) -> None:
    if not path.is_file():
        raise DataFormatError(f"MARS {schema.key} {split} file {path} does not exist")
    try:
        header, records = _records(path)
    except DataFormatError:
        raise
    except (UnicodeDecodeError, csv.Error, OSError, ValueError) as exc:
        raise DataFormatError(f"{path}: cannot be read as a {path.suffix} table: {exc}") from exc
    if not header:
        raise DataFormatError(f"{path}: the file is empty (no header row); expected a MARS {schema.key} split")
    columns = resolve_columns(schema, header, overrides, path)
    if data.columns and columns != data.columns:
        raise DataFormatError(f"{path}: columns {columns} differ from the other shards' {data.columns}")
    data.columns = columns
    built = [role for role, col in columns.items() if col == BUILT]
    if built:
        data.built_from = describe(columns)
    label_column = columns["label"]
    text_roles = [(role, col) for role, col in columns.items() if role != "label" and col != BUILT]
    required = [r.name for r in schema.roles if r.required and r.name != "label"]
    group_columns = [c for c in schema.group_columns if c in header]
    try:
        for line, record in enumerate(records, start=2):  # 1-based line numbers, after the header
            texts = {role: _text(record.get(col)) for role, col in text_roles}
            if built and not _build(texts, built):
                data.skipped_unbuildable += 1
                continue
            if any(not texts[name] for name in required):
                data.skipped_blank += 1
                continue
            label = parse_label(record.get(label_column), path, line, label_column)
            groups = {c: _text(record.get(c)) for c in group_columns if _text(record.get(c))}
            data.rows.append(
                MarsRow(
                    id=f"{split}-{len(data.rows) + data.skipped_blank + data.skipped_unbuildable:06d}",
                    split=split,
                    fields={k: v for k, v in texts.items() if v},
                    label=label,
                    groups=groups,
                )
            )
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataFormatError(f"{path}: cannot be read as CSV: {exc}") from exc
    data.files[str(path)] = sha256_file(path)


def _build(texts: dict[str, str], roles: list[str]) -> bool:
    """Fill the built roles from the components; False when the component is not in the event.

    A blank component leaves the role blank, so the row is counted as a blank one.
    """
    parts = [texts.get(name, "") for name in BUILD_ROLES]
    for role in roles:
        if not all(parts):
            texts[role] = ""
            continue
        changed = substitute(*parts)
        if changed is None:
            return False
        texts[role] = changed
    return True


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()
