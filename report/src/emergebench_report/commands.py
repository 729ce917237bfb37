"""CLI commands: ``emergebench analyze`` (tables and charts) and ``emergebench report`` (HTML)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from emergebench.cli_types import MAX_SEED, file_in_existing_folder
from emergebench_registry.commands import _store, guarded, registry_option, scan_option
from emergebench_registry.render import render

from .analysis import FIT_COLUMNS, PAIR_COLUMNS, POINT_COLUMNS, Analysis, analyze, fit_rows, pair_rows, point_rows
from .bootstrap import DEFAULT_RESAMPLES
from .pairs import collect_group_by, collect_pairs
from .pooled import POOLED_STATUSES, load_pool

TABLES = ("points", "fits", "pairs")


def run_analysis(
    registry_path: str | None,
    no_scan: bool,
    tasks: tuple[str, ...],
    metrics: tuple[str, ...],
    resamples: int,
    seed: int,
    diagnostics: bool,
) -> Analysis:
    store = _store(registry_path, no_scan)
    pairs = collect_pairs()
    with store.reader() as con:
        pool = load_pool(con, collect_group_by(), list(tasks) or None)
    return analyze(pool, pairs, resamples=resamples, seed=seed, diagnostics=diagnostics, metrics=list(metrics) or None)


def explain_left_out(result: Analysis) -> None:
    """Say on stderr which runs and models the curves leave out, and why."""
    if result.skipped:
        counts = ", ".join(f"{n} {status}" for status, n in sorted(result.skipped.items()))
        click.echo(
            f"Left out {sum(result.skipped.values())} run(s) ({counts}): only {' and '.join(POOLED_STATUSES)} "
            "runs are pooled.",
            err=True,
        )
    if result.unplaced_models:
        shown = ", ".join(result.unplaced_models[:5]) + (" ..." if len(result.unplaced_models) > 5 else "")
        click.echo(
            f"{len(result.unplaced_models)} model(s) have no parameter count and are in the table but not on the "
            f"curves: {shown}",
            err=True,
        )


analysis_options = [
    click.option("--task", "-t", "tasks", multiple=True, help="Only these tasks (repeatable; default: all)."),
    click.option("--metric", "metrics", multiple=True, help="Only these score names (repeatable; default: all)."),
    click.option(
        "--resamples",
        default=DEFAULT_RESAMPLES,
        show_default=True,
        type=click.IntRange(100, 100_000),
        help="Bootstrap resamples per interval.",
    ),
    click.option(
        "--seed", default=0, show_default=True, type=click.IntRange(0, MAX_SEED), help="Seed of the bootstrap."
    ),
]


F = TypeVar("F", bound=Callable[..., Any])


def with_options(options: list[Callable[[F], F]]) -> Callable[[F], F]:
    def apply(f: F) -> F:
        for option in reversed(options):
            f = option(f)
        return f

    return apply


@click.command("analyze")
@click.option(
    "--table",
    type=click.Choice(TABLES),
    default="points",
    show_default=True,
    help="points: score per model with a 95% bootstrap CI; fits: emergence diagnostics per curve; "
    "pairs: headline vs continuous metric verdicts.",
)
@click.option("--format", "-f", "fmt", type=click.Choice(("table", "csv", "json", "markdown")), default="table")
@click.option(
    "--charts",
    "charts_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Also write each scaling chart as SVG and PNG into this folder.",
)
@with_options(analysis_options)
@registry_option
@scan_option
@guarded
def analyze_command(
    table: str,
    fmt: str,
    charts_dir: str | None,
    tasks: tuple[str, ...],
    metrics: tuple[str, ...],
    resamples: int,
    seed: int,
    registry_path: str | None,
    no_scan: bool,
) -> None:
    """Scaling analysis over the registry (local and pulled runs): for each task, metric and model
    family, the score against parameter count with bootstrap 95% intervals over samples. Runs are
    pooled only with the same task version, arguments, grader and judge; groups such as Skill-Mix's
    k stay apart. See docs/analysis.md for the definitions.

    \b
    Examples:
        emergebench analyze --format markdown
        emergebench analyze --table fits --task mars/event
        emergebench analyze --table pairs --charts charts/
    """
    result = run_analysis(
        registry_path, no_scan, tasks, metrics, resamples, seed, table != "points" or bool(charts_dir)
    )
    explain_left_out(result)
    columns, rows = {
        "points": (POINT_COLUMNS, point_rows),
        "fits": (FIT_COLUMNS, fit_rows),
        "pairs": (PAIR_COLUMNS, pair_rows),
    }[table]
    click.echo(render(columns, rows(result), fmt))
    if charts_dir:
        from .charts import export_scaling_charts

        written = export_scaling_charts(result, charts_dir)
        click.echo(f"Wrote {len(written)} chart file(s) to {charts_dir}", err=True)


@click.command("report")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    callback=file_in_existing_folder,
    default=None,
    help="HTML file to write (default: report.html in the emergebench home).",
)
@click.option(
    "--export",
    "export_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Also write every chart as SVG and PNG into this folder.",
)
@click.option(
    "--browser-runs",
    default=200,
    show_default=True,
    type=click.IntRange(0, 100_000),
    help="Newest runs embedded in the sample browser.",
)
@click.option(
    "--samples-per-run",
    default=50,
    show_default=True,
    type=click.IntRange(0, 100_000),
    help="Samples embedded per run (errors and failures first).",
)
@with_options(analysis_options[:1] + analysis_options[2:])
@registry_option
@scan_option
@guarded
def report_command(
    output: str | None,
    export_dir: str | None,
    browser_runs: int,
    samples_per_run: int,
    tasks: tuple[str, ...],
    resamples: int,
    seed: int,
    registry_path: str | None,
    no_scan: bool,
) -> None:
    """Write one self-contained HTML report (works offline, fetches nothing): the leaderboard, scaling
    charts with diagnostics and metric pairs, per-task views from plugins, and a per-run sample browser
    (prompt, output, scores, error; filter failures). Prints the file's path.

    \b
    Examples:
        emergebench report
        emergebench report -o results.html --export figures/
    """
    from emergebench import paths

    from .report import ReportSettings, build_report

    store = _store(registry_path, no_scan)
    target = Path(output) if output else paths.home() / "report.html"
    settings = ReportSettings(
        tasks=list(tasks) or None,
        resamples=resamples,
        seed=seed,
        browser_runs=browser_runs,
        samples_per_run=samples_per_run,
        export_dir=Path(export_dir) if export_dir else None,
    )
    outcome = build_report(store, target, settings)
    if outcome.analysis is not None:
        explain_left_out(outcome.analysis)
    for problem in outcome.view_problems:
        click.echo(f"Warning: report view failed: {problem}", err=True)
    if outcome.exported:
        click.echo(f"Wrote {len(outcome.exported)} chart file(s) to {export_dir}", err=True)
    click.echo(f"Report written: {target.resolve()} ({outcome.bytes / 1e6:.1f} MB, {outcome.charts} charts)")


COMMANDS = [analyze_command, report_command]
