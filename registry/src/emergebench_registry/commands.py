"""The registry's CLI commands: sql, leaderboard, runs, ingest, export, import, sync push/pull."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from emergebench.cli_types import file_in_existing_folder
from emergebench.errors import UsageError

from . import ingest as ingest_mod
from .model_sources import conflict_note
from .query import QueryResult, direction_legend, leaderboard_notes, origin_legend, pivot_leaderboard, run_sql
from .query import leaderboard as leaderboard_query
from .render import FORMATS, render
from .shards import export_runs, import_paths
from .store import Store

registry_option = click.option(
    "--registry",
    "registry_path",
    type=click.Path(dir_okay=False),
    callback=file_in_existing_folder,
    default=None,
    help="Registry file (default: $EMERGEBENCH_REGISTRY or registry.duckdb in the emergebench home).",
)
format_option = click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
scan_option = click.option("--no-scan", is_flag=True, help="Do not ingest new or changed local runs first.")


def _store(registry_path: str | None, no_scan: bool = False) -> Store:
    store = Store(registry_path)
    if not no_scan:
        for report in ingest_mod.ingest_changed(store):
            if report.warning:
                click.echo(f"Warning: {report.warning}", err=True)
    return store


def guarded(func: Callable[..., Any]) -> Callable[..., Any]:
    """Errors meant for people become click errors (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UsageError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


@click.command("sql")
@click.argument("query")
@format_option
@registry_option
@scan_option
@click.option(
    "--write", is_flag=True, help="Let the query change the registry (default: read-only). No other file is touched."
)
@click.option(
    "--allow-files",
    is_flag=True,
    help="Let the query read and write your files (read_csv, COPY TO, ATTACH, EXPORT) and load installed "
    "DuckDB extensions. Without it a query sees the registry only.",
)
@guarded
def sql_command(query: str, fmt: str, registry_path: str | None, no_scan: bool, write: bool, allow_files: bool) -> None:
    """Run a SQL QUERY against the registry (tables: runs, samples, scores, model_calls, metrics, models;
    views: latest_runs, sample_scores, leaderboard). See docs/cookbook.md for examples.

    The query runs in a DuckDB sandbox: it can read the registry and nothing else (no files, no
    ATTACH/COPY TO/EXPORT, no INSTALL/LOAD, settings locked) unless --allow-files is given; --write
    lets it change the registry file itself."""
    result = run_sql(_store(registry_path, no_scan), query, write=write, allow_files=allow_files)
    if result.columns:
        click.echo(render(result.columns, result.rows, fmt))


@click.command("leaderboard")
@click.option("--task", "-t", default=None, help="Only this task (default: every task).")
@click.option("--metric", default=None, help="Metric or score name (default: each task's main metric).")
@click.option("--ci", is_flag=True, help="Show 95% confidence intervals instead of standard errors.")
@format_option
@registry_option
@scan_option
@guarded
def leaderboard_command(
    task: str | None, metric: str | None, ci: bool, fmt: str, registry_path: str | None, no_scan: bool
) -> None:
    """Models by tasks: the latest finished run's main metric with stderr (or 95% CI) and n.

    Best first: a metric the task declares lower-is-better (errors, regret) ranks ascending and its
    column is marked ↓. Task versions are never mixed: each version is its own column. The origin column says where the
    runs came from: native (emergebench) or the framework they were imported from (import-results).
    """
    store = _store(registry_path, no_scan)
    result = leaderboard_query(store, task, metric)
    notes = leaderboard_notes(store, result, task)
    if not result.rows:
        click.echo(f"No finished runs in the registry {store.path} yet: run a task with `emergebench run`.")
    elif fmt in ("csv", "json"):
        click.echo(render(result.columns, result.rows, fmt))
    else:
        pivot = pivot_leaderboard(result, ci)
        click.echo(render(pivot.columns, pivot.rows, fmt))
        for legend in (direction_legend(result), origin_legend(result)):
            if legend:
                click.echo(legend)
    for note in notes:
        click.echo(f"Note: {note}", err=True)


RUN_COLUMNS = (
    "run_id, status, task, task_version, model_id, n_samples, n_expected, n_errors, "
    "round(cost_usd, 4) AS cost_usd, strftime(started_at, '%Y-%m-%d %H:%M') AS started, source"
)


@click.command("runs")
@click.argument("run_id", required=False)
@click.option("--task", "-t", default=None, help="Only runs of this task.")
@click.option("--model", "-m", default=None, help="Only runs of this model id.")
@click.option("--limit", "-n", type=click.IntRange(1, 1_000_000), default=50, show_default=True, help="Newest N runs.")
@format_option
@registry_option
@scan_option
@guarded
def runs_command(
    run_id: str | None,
    task: str | None,
    model: str | None,
    limit: int,
    fmt: str,
    registry_path: str | None,
    no_scan: bool,
) -> None:
    """List runs, newest first, or show one RUN_ID (a unique prefix is enough) with its metrics."""
    store = _store(registry_path, no_scan)
    if run_id is None:
        result = _runs_list(store, task, model, limit)
        click.echo(render(result.columns, result.rows, fmt))
        with store.reader() as con:
            note = conflict_note(con)
        if note:
            click.echo(note, err=True)
        return
    matches = run_sql(store, "SELECT run_id FROM runs WHERE starts_with(run_id, ?)", params=[run_id]).rows
    if not matches:
        raise UsageError(f"no run {run_id!r} in the registry {store.path}: list them with `emergebench runs`")
    if len(matches) > 1:
        raise UsageError(f"run id prefix {run_id!r} is ambiguous: {', '.join(m[0] for m in matches[:5])}")
    full = matches[0][0]
    detail = run_sql(
        store, "SELECT * EXCLUDE (task_args, model_args, generate) FROM runs WHERE run_id = ?", params=[full]
    )
    if fmt in ("json", "csv"):
        click.echo(render(detail.columns, detail.rows, fmt))
    else:
        width = max(len(c) for c in detail.columns)
        for col, value in zip(detail.columns, detail.rows[0], strict=True):
            click.echo(f"{col.ljust(width)}  {'' if value is None else value}")
    _echo_table(
        store,
        "",
        "SELECT name, breakdown, value, stderr, n, ci_low, ci_high FROM metrics WHERE run_id = ? "
        "ORDER BY name, breakdown",
        full,
        fmt,
    )
    _echo_table(
        store,
        "The sources describe this run's model differently (the row marked shown wins):",
        "SELECT source, provider, name, family, parameters, quantization, source = shown AS shown FROM "
        "model_conflicts WHERE model_id = (SELECT model_id FROM runs WHERE run_id = ?) ORDER BY source",
        full,
        fmt,
    )


def _echo_table(store: Store, title: str, sql: str, run_id: str, fmt: str) -> None:
    """A titled table under a run's details, if it has rows (table formats only)."""
    result = run_sql(store, sql, params=[run_id])
    if result.rows and fmt not in ("json", "csv"):
        click.echo("")
        if title:
            click.echo(title)
        click.echo(render(result.columns, result.rows, fmt))


def _runs_list(store: Store, task: str | None, model: str | None, limit: int) -> QueryResult:
    with store.reader() as con:
        cursor = con.execute(
            f"SELECT {RUN_COLUMNS} FROM runs WHERE ($task IS NULL OR task = $task) "
            "AND ($model IS NULL OR model_id = $model) ORDER BY started_at DESC NULLS LAST, run_id LIMIT $limit",
            {"task": task, "model": model, "limit": limit},
        )
        return QueryResult([d[0] for d in cursor.description], cursor.fetchall())


@click.command("ingest")
@click.argument("run_dirs", nargs=-1, type=click.Path(exists=True, file_okay=False, path_type=Path))
@registry_option
@guarded
def ingest_command(run_dirs: tuple[Path, ...], registry_path: str | None) -> None:
    """Ingest run folders (default: every new or changed run under the emergebench home)."""
    store = Store(registry_path)
    reports = ingest_mod.ingest_paths(store, list(run_dirs)) if run_dirs else ingest_mod.ingest_changed(store)
    skipped = [r for r in reports if r.status.startswith("skipped")]
    for report in reports:
        if report in skipped:
            click.echo(f"{report.run_id}: {report.status}", err=True)
            continue
        click.echo(f"{report.run_id}: {report.status}, {report.samples} sample(s)")
        if report.warning:
            click.echo(f"Warning: {report.warning}", err=True)
    click.echo(f"Ingested {len(reports) - len(skipped)} run(s) into {store.path}; {len(skipped)} skipped")
    if skipped:
        raise click.exceptions.Exit(1)


def eee_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options of an Every Eval Ever record that the registry does not know."""
    func = click.option(
        "--model-id",
        "model_ids",
        multiple=True,
        metavar="LOCAL=ORG/NAME",
        help="EEE id (the model's Hub id, which names its developer) of a registry model id; repeatable.",
    )(func)
    func = click.option(
        "--relationship",
        type=click.Choice(["first_party", "third_party", "collaborative", "other"]),
        default="third_party",
        show_default=True,
        help="EEE evaluator_relationship: who ran the evaluation relative to the model's developer.",
    )(func)
    return click.option(
        "--organization",
        default="emergebench",
        show_default=True,
        help="EEE source_organization_name: who provides the records.",
    )(func)


@click.command("export")
@click.option("--out", "-o", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--run", "run_ids", multiple=True, help="Only these run ids (repeatable).")
@click.option("--include-running", is_flag=True, help="Also export runs still marked running.")
@click.option("--contributor", default=None, help="Name recorded on runs that have no contributor yet.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["parquet", "eee"]),
    default="parquet",
    show_default=True,
    help="parquet: the registry's shards; eee: Every Eval Ever records (docs/export-eee.md).",
)
@eee_options
@registry_option
@scan_option
@guarded
def export_command(
    out_dir: Path,
    run_ids: tuple[str, ...],
    include_running: bool,
    contributor: str | None,
    fmt: str,
    organization: str,
    relationship: str,
    model_ids: tuple[str, ...],
    registry_path: str | None,
    no_scan: bool,
) -> None:
    """Write each run as immutable zstd Parquet shards: OUT/data/<table>/<task>/<run_id>.parquet; or,
    with --format eee, as Every Eval Ever records: OUT/data/<task>/<developer>/<model>/<uuid>.json
    plus <uuid>_samples.jsonl.

    \b
    Examples:
        emergebench export --out shards/
        emergebench export --format eee --out eee/ --model-id llamacpp/smollm2-135m=HuggingFaceTB/SmolLM2-135M-Instruct
    """
    store = _store(registry_path, no_scan)
    if fmt == "eee":
        _export_eee(store, out_dir, run_ids, include_running, organization, relationship, model_ids)
        return
    with store.reader() as con:
        report = export_runs(con, out_dir, list(run_ids) or None, include_running, contributor)
    click.echo(
        f"Exported {len(report.runs)} run(s): {len(report.written)} shard(s) written, "
        f"{len(report.skipped)} already present (shards are immutable) under {out_dir}"
    )


def _export_eee(
    store: Store,
    out_dir: Path,
    run_ids: tuple[str, ...],
    include_running: bool,
    organization: str,
    relationship: str,
    model_ids: tuple[str, ...],
) -> None:
    from .export_eee import EeeOptions, eee_records, parse_model_ids, write_records

    options = EeeOptions(organization, relationship, parse_model_ids(model_ids))
    with store.reader() as con:
        report = eee_records(con, list(run_ids) or None, include_running, options)
    written = write_records(out_dir, report.files)
    click.echo(f"Exported {len(report.runs)} run(s) as {len(written)} Every Eval Ever file(s) under {out_dir}")
    for run_id, why in report.skipped.items():
        click.echo(f"  skipped {run_id}: {why}", err=True)
    if run_ids and report.skipped:
        raise click.exceptions.Exit(1)


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@registry_option
@guarded
def import_command(paths: tuple[Path, ...], registry_path: str | None) -> None:
    """Validate and import Parquet shards (files or folders); any bad shard rejects the whole batch."""
    store = Store(registry_path)
    report = import_paths(store, list(paths))
    click.echo(
        f"Imported {len(report.imported)} run(s), {len(report.unchanged)} already present unchanged, into {store.path}"
    )


@click.group("sync")
def sync_group() -> None:
    """Pool results through a Hugging Face dataset repo (token: HF_TOKEN or `hf auth login`)."""


endpoint_option = click.option(
    "--endpoint", default=None, help="Hub endpoint URL (default: huggingface_hub's, e.g. https://huggingface.co)."
)


@sync_group.command("push")
@click.option(
    "--repo",
    required=True,
    callback=lambda ctx, param, value: repo_id(ctx, param, value),
    help="Dataset repo ORG/NAME.",
)
@endpoint_option
@click.option("--pr", is_flag=True, help="Open a pull request instead of committing to main.")
@click.option("--contributor", default=os.environ.get("EMERGEBENCH_CONTRIBUTOR"), help="Your name, recorded on runs.")
@click.option("--run", "run_ids", multiple=True, help="Only these run ids (repeatable).")
@click.option(
    "--to",
    "target",
    type=click.Choice(["registry", "eee"]),
    default="registry",
    show_default=True,
    help="registry: Parquet shards and a dataset card; eee: a pull request of Every Eval Ever records to an "
    "EEE datastore repo (docs/pooling.md).",
)
@eee_options
@registry_option
@scan_option
@guarded
def push_command(
    repo: str,
    endpoint: str | None,
    pr: bool,
    contributor: str | None,
    run_ids: tuple[str, ...],
    target: str,
    organization: str,
    relationship: str,
    model_ids: tuple[str, ...],
    registry_path: str | None,
    no_scan: bool,
) -> None:
    """Upload runs the repo lacks, in one commit, and regenerate its dataset card; or, with --to eee, open
    a pull request adding their Every Eval Ever records to an EEE datastore (never its main branch).

    \b
    Examples:
        emergebench sync push --repo my-org/emergebench-runs
        emergebench sync push --to eee --repo evaleval/EEE_datastore \\
            --model-id llamacpp/smollm2-135m=HuggingFaceTB/SmolLM2-135M-Instruct
    """
    from .sync import push

    _check_repo(repo)
    store = _store(registry_path, no_scan)
    if target == "eee":
        _push_eee(store, repo, endpoint, run_ids, organization, relationship, model_ids)
        return
    report = push(store, repo, endpoint, pr, contributor, list(run_ids) or None, lambda m: click.echo(m, err=True))
    if not report.runs and not report.files:
        click.echo(f"Nothing to push: {repo} already has every finished run.")
        return
    where = f"pull request {report.pr_url}" if report.pr_url else f"commit {report.commit}"
    click.echo(f"Pushed {len(report.runs)} run(s), {len(report.files)} shard(s) to {repo} ({where}).")


def _push_eee(
    store: Store,
    repo: str,
    endpoint: str | None,
    run_ids: tuple[str, ...],
    organization: str,
    relationship: str,
    model_ids: tuple[str, ...],
) -> None:
    from .export_eee import EeeOptions, parse_model_ids
    from .sync_eee import push_eee

    options = EeeOptions(organization, relationship, parse_model_ids(model_ids))
    report, skipped = push_eee(store, repo, endpoint, list(run_ids) or None, options, lambda m: click.echo(m, err=True))
    for run_id, why in skipped.items():
        click.echo(f"  skipped {run_id}: {why}", err=True)
    if report.pr_url:
        click.echo(f"Opened pull request {report.pr_url}: {len(report.runs)} run(s), {len(report.files)} file(s).")
    else:
        click.echo(f"Nothing to push: {repo} already has these records (on main or in a pull request).")
    if run_ids and skipped:
        raise click.exceptions.Exit(1)


@sync_group.command("pull")
@click.option(
    "--repo",
    required=True,
    callback=lambda ctx, param, value: repo_id(ctx, param, value),
    help="Dataset repo ORG/NAME.",
)
@endpoint_option
@click.option("--revision", default=None, help="Branch, tag or commit sha (default: main).")
@registry_option
@guarded
def pull_command(repo: str, endpoint: str | None, revision: str | None, registry_path: str | None) -> None:
    """Download shards not seen before, validate them and ingest the good runs."""
    from .sync import pull

    _check_repo(repo)
    store = Store(registry_path)
    report = pull(store, repo, endpoint, revision, lambda m: click.echo(m, err=True))
    if report.up_to_date:
        click.echo(f"Already up to date with {repo} at {report.head}.")
        return
    click.echo(
        f"Downloaded {len(report.downloaded)} shard(s); imported {len(report.imported)} run(s), "
        f"{len(report.unchanged)} already present."
    )
    for path, problem in sorted(report.rejected.items()):
        shown = path if path.isascii() and path.isprintable() else repr(path)  # no terminal escapes
        click.echo(f"Rejected {shown}: {problem}", err=True)
    if report.rejected:
        retry = " (failed downloads are retried on the next pull)" if report.failed_downloads else ""
        click.echo(f"Pull refused {len(report.rejected)} file(s); every other run was imported{retry}.", err=True)
        raise click.exceptions.Exit(1)


REPO_PART = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?")


def _check_repo(repo: str) -> None:
    """A Hub repo id: ORG/NAME, each part letters, digits and ``-_.`` (no ``..`` or ``--``), as the Hub
    itself requires; anything else (``../x``, a URL, a path) never reaches a path or a request."""
    parts = repo.split("/")
    if len(parts) != 2 or not all(REPO_PART.fullmatch(p) for p in parts) or any(".." in p or "--" in p for p in parts):
        raise UsageError(
            f"--repo {repo!r} is not a dataset repo id: write it as ORG/NAME (letters, digits, '-', '_', '.')"
        )


def repo_id(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        _check_repo(value)
    except UsageError as exc:
        raise click.BadParameter(str(exc).removeprefix(f"--repo {value!r} is "), ctx, param) from None
    return value


@click.command("compare")
@click.argument("run_a")
@click.argument("run_b")
@click.option("--task", "-t", default=None, help="Read RUN_A and RUN_B as model ids: their latest runs of this task.")
@click.option("--metric", default=None, help="Per-sample score to compare (default: the task's main metric).")
@format_option
@registry_option
@scan_option
@guarded
def compare_command(
    run_a: str, run_b: str, task: str | None, metric: str | None, fmt: str, registry_path: str | None, no_scan: bool
) -> None:
    """Paired comparison of two runs of one task version: mean per-sample difference (B - A) with its
    standard error, 95% CI and a two-sided p-value, over the samples both runs finished. The better
    column names the better run in the metric's direction (for a lower-is-better metric, the smaller mean).

    \b
    Examples:
        emergebench compare 3f2a91 7c0d44
        emergebench compare openai/gpt-4o-mini llamacpp/smollm2-135m --task mars/event
    """
    from .compare import compare_runs

    store = _store(registry_path, no_scan)
    c = compare_runs(store, run_a, run_b, task, metric)
    ci = c.ci
    columns = [
        "task",
        "metric",
        "n_paired",
        "A",
        "mean_A",
        "B",
        "mean_B",
        "diff_B_minus_A",
        "stderr",
        "ci95",
        "p_value",
        "better",
    ]
    row = (
        f"{c.task}@{c.task_version}",
        c.metric,
        c.n_paired,
        f"{c.model_a} ({c.run_a})",
        round(c.mean_a, 4),
        f"{c.model_b} ({c.run_b})",
        round(c.mean_b, 4),
        round(c.diff, 4),
        None if c.stderr is None else round(c.stderr, 4),
        None if ci is None else f"[{ci[0]:.4f}, {ci[1]:.4f}]",
        None if c.p_value is None else round(c.p_value, 4),
        c.better,
    )
    click.echo(render(columns, [row], fmt))
    if c.lower_is_better:
        click.echo(f"Note: {c.metric} is lower-is-better: B is better when diff_B_minus_A < 0.", err=True)
    if c.only_a or c.only_b:
        click.echo(f"Note: {c.only_a} sample(s) only in A and {c.only_b} only in B were left out.", err=True)
    for label, run in (("A", c.run_a), ("B", c.run_b)):
        status, n_errors, n_expected = run_sql(
            store, "SELECT status, n_errors, n_expected FROM runs WHERE run_id = ?", params=[run]
        ).rows[0]
        if status != "complete":
            click.echo(
                f"Note: run {label} ({run}) is {status} ({n_errors} of {n_expected} sample(s) failed); "
                "only the samples it finished are compared.",
                err=True,
            )


COMMANDS = [
    compare_command,
    sql_command,
    leaderboard_command,
    runs_command,
    ingest_command,
    export_command,
    import_command,
    sync_group,
]
