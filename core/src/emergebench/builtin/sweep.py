"""The ``sweep`` command: models x tasks x task-argument grids x seeds in one resumable command.

A default plugin, so the command reaches the CLI through ``register_commands`` like any plugin's.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from ..cli_types import MAX_DOLLARS, MAX_EPOCHS, MAX_SAMPLES, MAX_SEED, MAX_TIMEOUT_S, FiniteFloatRange
from ..hookspecs import hookimpl
from ..retry import RetryPolicy

# Calls in flight to one endpoint across the sweep unless told otherwise: 4 runs at the default -c 8.
DEFAULT_CALLS_PER_ENDPOINT = 32
EXIT_RUN_FAILED = 1
EXIT_COST_LIMIT = 3
EXIT_INTERRUPTED = 130


def _pairs(values: tuple[str, ...], flag: str) -> dict[str, Any]:
    from ..cli import parse_pairs

    return parse_pairs(values, flag)


def _grid(values: tuple[str, ...]) -> dict[str, list[Any]]:
    grid = {}
    for key, value in _pairs(values, "--grid").items():
        if not isinstance(value, list) or not value:
            raise click.BadParameter(f"{key}={value!r} must be a non-empty JSON list, e.g. --grid k=[1,2,3]")
        grid[key] = value
    return grid


def build_sweep(
    sweep_file: Path | None,
    models: tuple[str, ...],
    tasks: tuple[str, ...],
    seeds: tuple[int, ...],
    raw: dict[str, Any],
) -> Any:
    from ..errors import UsageError
    from ..sweep.plan import parse_sweep, read_sweep_file

    if sweep_file is not None:
        if models or tasks or raw["grid"] or raw["task_args"]:
            raise UsageError("give either a sweep file or -m/-t/-T/--grid options, not both")
        sweep = read_sweep_file(sweep_file)
        overrides = {k: v for k, v in (("limit", raw["limit"]), ("cost_limit", raw["cost_limit"])) if v is not None}
        return sweep.model_copy(update=overrides)
    if not models or not tasks:
        raise UsageError("a sweep needs a SWEEP_FILE, or at least one -m MODEL and one -t TASK")
    model_args = _pairs(raw["model_args"], "-M")
    data: dict[str, Any] = {
        "models": [{"id": m, "args": model_args} for m in models],
        "tasks": [{"name": t, "args": _pairs(raw["task_args"], "-T"), "grid": _grid(raw["grid"])} for t in tasks],
        "seeds": list(seeds) or [0],
        "limit": raw["limit"],
        "epochs": raw["epochs"],
        "generate": _pairs(raw["generate_args"], "-G"),
        "grader": raw["grader"],
        "grader_args": _pairs(raw["grader_args"], "-A"),
        "cost_limit": raw["cost_limit"],
    }
    if raw["grader_model"]:
        data["grader_model"] = {"id": raw["grader_model"], "args": _pairs(raw["grader_model_args"], "-J")}
    return parse_sweep(data, "from the command line")


def print_outcomes(result: Any, as_json: bool) -> None:
    rows = [
        {
            "task": o.planned.spec.task,
            "model": o.planned.spec.model,
            "seed": o.planned.spec.seed,
            "task_args": o.planned.spec.task_args,
            "status": o.status,
            "samples": o.n_samples,
            "expected": o.n_expected,
            "failed": o.n_errors,
            "calls": o.model_calls,
            "cost_usd": o.cost_usd,
            "run_id": o.run_id,
            "spec_id": o.planned.spec.spec_id,
            "error": o.error,
        }
        for o in result.outcomes
    ]
    if as_json:
        click.echo(json.dumps({"stopped_by": result.stopped_by, "runs": rows}, indent=2, default=str))
        return
    table = Table(title="sweep")
    for column in ("task", "model", "seed", "args", "status", "samples", "failed", "calls", "cost", "run"):
        table.add_column(column, overflow="fold")
    for row in rows:
        args = ",".join(f"{k}={json.dumps(v)}" for k, v in sorted(row["task_args"].items()))
        expected = "?" if row["expected"] is None else row["expected"]
        table.add_row(
            row["task"],
            row["model"],
            str(row["seed"]),
            args,
            row["status"] + (f": {row['error']}" if row["error"] else ""),
            f"{row['samples']}/{expected}",
            str(row["failed"]),
            str(row["calls"]),
            "" if row["cost_usd"] is None else f"${row['cost_usd']:.4f}",
            row["run_id"] or "",
        )
    console = Console()
    console.print(table)
    c = result.counts
    total = sum(o.cost_usd or 0.0 for o in result.outcomes)
    console.print(
        f"{c.runs} runs: {c.skipped} already complete, {c.done} completed now, {c.failed} not complete; "
        f"{c.calls:,} model calls this session; cost of the sweep's runs ${total:.4f}"
    )


@click.command("sweep")
@click.argument("sweep_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("-m", "--model", "models", multiple=True, help="Model id (repeatable): the ladder to evaluate.")
@click.option("-t", "--task", "tasks", multiple=True, help="Task name (repeatable).")
@click.option("-T", "task_args", multiple=True, help="Task option key=value for every task.")
@click.option("--grid", "grid", multiple=True, help="Task option key=JSON list, crossed with the rest: --grid k=[1,2].")
@click.option("-M", "model_args", multiple=True, help="Model option key=value for every -m model.")
@click.option("--seed", "seeds", multiple=True, type=click.IntRange(0, MAX_SEED), help="Seed (repeatable; default 0).")
@click.option("--limit", type=click.IntRange(1, MAX_SAMPLES), default=None, help="At most N samples per run.")
@click.option("--epochs", type=click.IntRange(1, MAX_EPOCHS), default=1, show_default=True)
@click.option("--grader", default=None, help="Grader name (defaults to each task's own).")
@click.option("-A", "grader_args", multiple=True, help="Grader option key=value.")
@click.option("--grader-model", default=None, help="Judge model for model-graded tasks.")
@click.option("-J", "grader_model_args", multiple=True, help="Judge model option key=value.")
@click.option("-G", "generate_args", multiple=True, help="Generation setting key=value.")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True)
@click.option("--ray-address", default=None, help="Ray cluster address (ray://host:10001); default: a local Ray.")
@click.option(
    "--max-runs", type=click.IntRange(1, 1024), default=None, help="Runs at once (default: CPU count, at most 8)."
)
@click.option("-c", "--max-concurrency", type=click.IntRange(1, 4096), default=8, show_default=True, help="Per run.")
@click.option(
    "--max-calls-per-endpoint",
    type=click.IntRange(1),
    default=None,
    help=f"Calls in flight per endpoint, all runs together (default: the file's, else {DEFAULT_CALLS_PER_ENDPOINT}).",
)
@click.option("--endpoint-limit", "endpoint_limits", multiple=True, help="ENDPOINT=N for one endpoint (repeatable).")
@click.option(
    "--cost-limit", type=FiniteFloatRange(0.0, MAX_DOLLARS, "dollars"), default=None, help="US dollars, whole sweep."
)
@click.option("--prices", "prices_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None)
@click.option("--no-cache", is_flag=True, help="Do not reuse cached model calls.")
@click.option("--max-retries", type=click.IntRange(1, 100), default=6, show_default=True)
@click.option(
    "--timeout",
    type=FiniteFloatRange(0.0, MAX_TIMEOUT_S),
    default=300.0,
    show_default=True,
    help="Seconds per model call.",
)
@click.option("--contributor", envvar="EMERGEBENCH_CONTRIBUTOR", default=None)
@click.option("--dry-run", is_flag=True, help="List the runs and which are already complete; run nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def sweep_command(
    sweep_file: Path | None,
    models: tuple[str, ...],
    tasks: tuple[str, ...],
    seeds: tuple[int, ...],
    executor: str,
    ray_address: str | None,
    max_runs: int | None,
    max_concurrency: int,
    max_calls_per_endpoint: int | None,
    endpoint_limits: tuple[str, ...],
    prices_file: Path | None,
    no_cache: bool,
    max_retries: int,
    timeout: float,
    contributor: str | None,
    dry_run: bool,
    as_json: bool,
    **raw: Any,
) -> None:
    """Run models x tasks x task-argument grids x seeds, several runs at once, with one progress view.

    Specs already complete are skipped; an interrupted or killed sweep continues where it stopped
    when run again (no run is duplicated, no finished model call is repeated). Sweep file format:
    docs/sweeps.md. Exit codes: 0 all runs complete, 1 some run not complete, 3 stopped at
    --cost-limit (raise it and re-run to continue), 130 interrupted.

    \b
    Examples:
        emergebench sweep ladder.toml --max-runs 4 --max-calls-per-endpoint 16
        emergebench sweep -m openai/gpt-4o-mini -m openai/gpt-4o -t mars/event --seed 0 --seed 1 --limit 100
    """
    from .. import paths
    from ..errors import UsageError
    from ..plugins import get_manager
    from ..sweep.driver import SweepDriver
    from ..sweep.jobs import WorkerConfig
    from ..sweep.limits import EndpointLimits
    from ..sweep.plan import expand

    sweep = build_sweep(sweep_file, models, tasks, seeds, raw)
    manager = get_manager()
    planned = expand(sweep, manager)
    per_endpoint = dict(sweep.endpoint_limits)
    for key, value in _pairs(endpoint_limits, "--endpoint-limit").items():
        if not isinstance(value, int) or value < 1:
            raise UsageError(f"--endpoint-limit {key}={value!r}: the limit must be a whole number of calls, at least 1")
        per_endpoint[key] = value
    default = max_calls_per_endpoint or sweep.max_calls_per_endpoint or DEFAULT_CALLS_PER_ENDPOINT
    limits = EndpointLimits(default, per_endpoint)
    from ..pricing import load_prices

    load_prices(prices_file)  # a bad price file fails here, before any worker starts
    home = paths.home()
    config = WorkerConfig(
        runs_dir=paths.runs_dir(),
        cache_path=paths.cache_path(),
        max_concurrency=max_concurrency,
        use_cache=not no_cache,
        retry=RetryPolicy(max_attempts=max_retries, timeout_s=timeout),
        contributor=contributor,
        limits=limits,
        slots_dir=home / "slots",
        cost_limit=sweep.cost_limit,
        prices_file=prices_file,
    )
    workers = max_runs or min(8, os.cpu_count() or 1)
    driver = SweepDriver(
        planned,
        _executor(executor, workers, ray_address),
        config,
        manager,
        completed_elsewhere=complete_in_plugins(manager, [p.spec.spec_id for p in planned]),
    )
    if dry_run:
        outcomes, counts, _ = driver.prepare()
        from ..sweep.driver import SweepResult

        print_outcomes(SweepResult(outcomes, counts), as_json)
        return
    result = driver.run()
    print_outcomes(result, as_json)
    if result.stopped_by == "interrupt":
        click.echo("Interrupted: finished samples are kept; run the same sweep again to continue.", err=True)
        raise SystemExit(EXIT_INTERRUPTED)
    if result.stopped_by == "cost_limit":
        click.echo(
            f"Stopped before passing --cost-limit ${sweep.cost_limit}: every run is resumable; "
            "raise the limit and run the same sweep again to continue.",
            err=True,
        )
        raise SystemExit(EXIT_COST_LIMIT)
    if not result.ok:
        raise SystemExit(EXIT_RUN_FAILED)


def complete_in_plugins(manager: Any, spec_ids: list[str]) -> dict[str, str]:
    """Complete runs the plugins know of (the registry: pulled and imported runs too)."""
    found: dict[str, str] = {}
    for answer in manager.call_guarded("find_complete_runs", spec_ids=spec_ids):
        found.update(answer or {})
    manager.report_problems(lambda text: click.echo(text, err=True))
    return found


def _executor(name: str, workers: int, ray_address: str | None) -> Any:
    from ..errors import UsageError

    if name == "ray":
        from ..sweep.ray_executor import RayExecutor, import_ray

        import_ray()  # a clear message when the extra is not installed
        return RayExecutor(workers, address=ray_address)
    if ray_address:
        raise UsageError("--ray-address needs --executor ray")
    from ..sweep.local import LocalExecutor

    return LocalExecutor(workers)


@hookimpl
def register_commands(cli: Any) -> None:
    cli.add_command(sweep_command)
