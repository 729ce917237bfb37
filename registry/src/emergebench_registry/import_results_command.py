"""`emergebench import-results FORMAT PATH...`: other frameworks' results into the registry."""

from __future__ import annotations

from pathlib import Path

import click

from .commands import guarded, registry_option
from .imports import READERS, import_results
from .store import Store


def _task_map(pairs: tuple[str, ...]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        source, sep, target = pair.partition("=")
        if not sep or not source or not target:
            raise click.BadParameter(f"{pair!r} is not FROM=TO (e.g. lm-eval/mmlu=mmlu)", param_hint="--task-map")
        mapping[source] = target
    return mapping


@click.command("import-results")
@click.argument("fmt", metavar="FORMAT", type=click.Choice(sorted(READERS)))
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--task-map",
    multiple=True,
    help="FROM=TO: store the framework's task FROM (e.g. lm-eval/mmlu) under the name TO, to pool it on purpose.",
)
@click.option(
    "--models",
    "models_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="TOML table of model families and sizes ([[model]] pattern, family, parameters).",
)
@registry_option
@guarded
def import_results_command(
    fmt: str, paths: tuple[Path, ...], task_map: tuple[str, ...], models_file: Path | None, registry_path: str | None
) -> None:
    """Import results of another framework (inspect logs .eval/.json; lm-eval results_*.json with the
    samples_*.jsonl that --log_samples wrote beside them; HELM run folders, runs/<suite>/<run name>/;
    Every Eval Ever aggregate <uuid>.json records with their <uuid>_samples.jsonl) with per-sample scores.
    Tasks are stored as FRAMEWORK/TASK; re-importing a file changes nothing; a malformed file or folder is
    reported and skipped.

    \b
    Examples:
        emergebench import-results inspect logs/
        emergebench import-results lm-eval out/results_2026-12-02T04-19-05.json --task-map lm-eval/mmlu=mmlu
        emergebench import-results helm benchmark_output/runs/my-suite
        emergebench import-results eee datastore/data/mmlu/
    """
    store = Store(registry_path)
    report = import_results(store, fmt, list(paths), _task_map(task_map), models_file)
    click.echo(
        f"Imported {len(report.imported)} run(s), {len(report.unchanged)} already present unchanged, "
        f"{len(report.rejected)} file(s) refused, into {store.path}"
    )
    for label, why in report.rejected.items():
        click.echo(f"  refused: {why}" if label in why else f"  refused {label}: {why}", err=True)
    if report.rejected:
        raise SystemExit(1)
