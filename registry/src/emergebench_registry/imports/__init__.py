"""Results of other evaluation frameworks imported into the registry, next to native runs: one reader
per format, each yielding :class:`~.common.ExternalRun`; every file is read, validated and stored on its
own, so one malformed file is reported by name while the rest of a batch lands."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from emergebench.errors import UsageError

from ..store import Store
from . import eee, inspect_log, lm_eval
from .common import ExternalRun, ImportFormatError, to_bundle
from .model_names import ModelRule, family_and_size, load_rules, rule_for

Reader = Callable[[Path, dict[str, str]], list[ExternalRun]]
READERS: dict[str, tuple[Reader, tuple[str, ...]]] = {
    "inspect": (inspect_log.read, (".eval", ".json")),
    "lm-eval": (lm_eval.read, ("results_*.json",)),
    "eee": (eee.read, (".json",)),
}


@dataclass
class ImportResultsReport:
    imported: list[str] = field(default_factory=list)  # run ids
    unchanged: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)  # file -> reason


def expand(fmt: str, paths: list[Path]) -> list[Path]:
    """Files to read: the files given, and inside folders those the format writes."""
    patterns = READERS[fmt][1]
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            for pattern in patterns:
                glob = pattern if "*" in pattern else f"*{pattern}"
                files.extend(sorted(p for p in path.rglob(glob) if p.is_file()))
        elif path.exists():
            files.append(path)
        else:
            raise UsageError(f"no such file or folder: {path}")
    return list(dict.fromkeys(files))


def _describe_model(run: ExternalRun, rules: list[ModelRule]) -> None:
    """Family and size: the user's table first, then what the source states (EEE records may give a
    parameter count), then the size in the model's name."""
    if rule_for(run.model_id, rules) is not None or (run.family is None and run.parameters is None):
        run.family, run.parameters = family_and_size(run.model_id, rules)
        return
    family, parameters = family_and_size(run.model_id, [])
    run.family = run.family or family
    run.parameters = run.parameters or parameters


def import_results(
    store: Store,
    fmt: str,
    paths: list[Path],
    task_map: dict[str, str] | None = None,
    models_file: Path | None = None,
) -> ImportResultsReport:
    from ..shards import apply_bundles

    if fmt not in READERS:
        raise UsageError(f"unknown format {fmt!r}: choose one of {', '.join(sorted(READERS))}")
    reader = READERS[fmt][0]
    rules = load_rules(models_file)
    report = ImportResultsReport()
    for path in expand(fmt, paths):
        try:
            runs = reader(path, task_map or {})
            bundles = []
            for run in runs:
                _describe_model(run, rules)
                bundles.append(to_bundle(run, str(path)))
        except (ImportFormatError, UsageError) as exc:
            report.rejected[str(path)] = str(exc)
            continue
        except Exception as exc:  # a hostile file must never stop the batch or show a traceback
            report.rejected[str(path)] = f"{path}: unreadable ({type(exc).__name__}: {exc})"
            continue
        with store.writer() as con:
            outcome = apply_bundles(con, bundles, runs[0].source if runs else fmt)
        report.imported += outcome.imported
        report.unchanged += outcome.unchanged
        for label, why in outcome.rejected.items():
            report.rejected[label] = why
    return report
