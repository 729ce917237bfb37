"""The ``emergebench`` command line. Plugins add commands through ``register_commands``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from . import first_party, plugin_index
from .budget import Budget, CostLimitReached
from .cli_types import (
    MAX_DOLLARS,
    MAX_EPOCHS,
    MAX_SAMPLES,
    MAX_SEED,
    MAX_TIMEOUT_S,
    FailureAllowance,
    FailureAllowanceType,
    FiniteFloatRange,
)
from .errors import UsageError
from .score_cmd import score_command

if TYPE_CHECKING:
    from .plugins import PluginManager
    from .records import RunResult
    from .runner import RunOptions

# The heavy modules (pydantic records, the runner, rich, every plugin) are imported inside the commands
# that use them: `--help`, `--version` and the listings answer from the plugin index without them.

DEFAULT_MODEL = "llamacpp/smollm2-135m"
EXIT_COST_LIMIT = 3  # stopped by --cost-limit: resumable, not a failure of the run
BUILTIN_COMMANDS = {"plugins", "install", "uninstall", "tasks", "models", "graders", "run", "demo", "score"}


def _echo_err(text: str) -> None:
    click.echo(text, err=True)


def get_manager() -> PluginManager:
    from .plugins import get_manager as current

    return current()


def _core_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("emergebench-core")
    except PackageNotFoundError:
        return "0.0.0"


def fresh_index() -> dict[str, Any] | None:
    """The plugin index when it can answer for this process (no plugin registered by code yet)."""
    plugins = sys.modules.get(f"{__package__}.plugins")  # not imported yet: no plugin can be loaded
    manager = getattr(plugins, "_manager", None)
    if manager is not None and (manager.in_process or manager._loaded):
        return None
    return plugin_index.read_fresh(_core_version())


def save_index(manager: PluginManager, commands: dict[str, dict[str, str]]) -> None:
    if not manager.in_process:
        plugin_index.write(_core_version(), {**manager.describe(), "commands": commands})


class IndexedCommand(click.Command):
    """A plugin command known from the plugin index: listed in --help without importing its plugin;
    resolving it for use loads the real command."""

    def __init__(self, name: str, help: str | None, short_help: str | None, plugin: str) -> None:
        super().__init__(name, help=help, short_help=short_help)
        self.plugin = plugin


class PluginGroup(click.Group):
    """Loads plugin commands only when a command name is looked up or listed; a plugin that fails
    to add its commands is reported and the rest of the CLI keeps working."""

    _commands_from: object = None  # the plugin manager whose commands are added
    _plugin_commands: tuple[str, ...] = ()
    _indexed: bool = False  # commands listed from the plugin index, plugins not loaded

    def _add_plugin_commands(self) -> None:
        """Add plugin commands once per plugin manager; after ``reset_manager()`` (tests, a fresh
        install) the previous plugins' commands are dropped and the new ones added."""
        manager = get_manager()
        if self._commands_from is manager:
            return
        for name in self._plugin_commands:
            self.commands.pop(name, None)
        self._indexed = False
        before = set(self.commands)
        self._commands_from = manager
        owners: dict[str, dict[str, str]] = {}
        seen = set(before)

        def added_by(plugin: str) -> None:
            """Called right after ``plugin``'s register_commands ran: the new commands are its own."""
            nonlocal seen
            for name in set(self.commands) - seen:
                command = self.commands[name]
                owners[name] = {"plugin": plugin, "help": command.help or "", "short_help": command.short_help or ""}
            seen = set(self.commands)

        from .plugins import PerPlugin

        manager.call_guarded("register_commands", cli=PerPlugin(lambda plugin: self, done=added_by))
        self._plugin_commands = tuple(set(self.commands) - before)
        manager.report_problems(_echo_err)
        if manager._scope is None:
            save_index(manager, owners)

    def _add_indexed_commands(self) -> bool:
        """List plugin commands from a fresh plugin index (no plugin import); False when there is none."""
        if self._indexed or self._commands_from is not None:
            return self._indexed
        index = fresh_index()
        if index is None or "commands" not in index:
            return False
        for name, info in index["commands"].items():
            self.commands.setdefault(name, IndexedCommand(name, info["help"], info["short_help"], info["plugin"]))
        self._plugin_commands = tuple(index["commands"])
        for problem in index.get("problems", []):
            _echo_err(f"Warning: {problem}")
        self._indexed = True
        return True

    def list_commands(self, ctx: click.Context) -> list[str]:
        if not self._add_indexed_commands():
            self._add_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in BUILTIN_COMMANDS and not self._indexed:
            self._add_plugin_commands()
        return super().get_command(ctx, cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            name, command, rest = super().resolve_command(ctx, args)
            if isinstance(command, IndexedCommand):  # listed from the index: load its plugin now
                get_manager().restrict({command.plugin})
                self._add_plugin_commands()
                name, command, rest = super().resolve_command(ctx, args)
            return name, command, rest
        except click.UsageError:
            hint = first_party.hint_for_command(args[0]) if args else None
            if hint is None:
                raise
            ctx.fail(f"No such command {args[0]!r}: {hint}")

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=PluginGroup)
@click.version_option(package_name="emergebench-core", prog_name="emergebench")
def cli() -> None:
    """Evaluate emergent abilities of AI models with plugin benchmarks.

    \b
    Example:
        emergebench run skill-mix -m llamacpp/smollm2-135m --grader-model llamacpp/smollm2-135m --limit 2
    """


def parse_pairs(pairs: tuple[str, ...], flag: str) -> dict[str, Any]:
    """``key=value`` pairs; values are read as JSON when they parse (numbers, lists, true/false)."""
    result: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} is not key=value (e.g. {flag} limit=5)", param_hint=flag)
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        result[key.strip()] = value
    return result


def _table(rows: list[dict[str, Any]], columns: list[str], title: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    Console().print(table)


def _emit(rows: list[dict[str, Any]], columns: list[str], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
    else:
        _table(rows, columns)


@cli.command()
@click.option("--all", "show_all", is_flag=True, help="Include the built-in default plugins.")
def plugins(show_all: bool) -> None:
    """List installed plugins as JSON: name, distribution, version, hooks.

    \b
    Example:
        emergebench plugins --all
    """
    manager = get_manager()
    manager.load()
    rows = []
    for plugin in manager.pm.get_plugins():
        name = manager.pm.get_name(plugin)
        info = manager.infos.get(name) if name is not None else None
        if info is None or (info.builtin and not show_all):
            continue
        hooks = sorted(h.name for h in manager.pm.get_hookcallers(plugin) or [])
        rows.append({"name": name, "distribution": info.distribution, "version": info.version, "hooks": hooks})
    for problem in manager.problems:
        rows.append({"name": problem.plugin, "distribution": problem.distribution, "error": problem.error})
    click.echo(json.dumps(sorted(rows, key=lambda r: r["name"]), indent=2))


def _pip(args: list[str]) -> None:
    completed = subprocess.run([sys.executable, "-m", "pip", *args])
    if completed.returncode != 0:
        raise click.ClickException(f"pip {' '.join(args)} failed with exit code {completed.returncode}")


@cli.command()
@click.argument("packages", nargs=-1, required=True)
@click.option("-U", "--upgrade", is_flag=True, help="Upgrade packages that are already installed.")
@click.option("-e", "--editable", is_flag=True, help="Install a local folder in editable mode.")
def install(packages: tuple[str, ...], upgrade: bool, editable: bool) -> None:
    """Install plugin packages (names, wheels or folders) into emergebench's own environment.

    \b
    Example:
        emergebench install emergebench-mars
        emergebench install ./dist/emergebench_my_eval-0.1.0-py3-none-any.whl
    """
    args = ["install", *(["--upgrade"] if upgrade else [])]
    args += ["-e", packages[0], *packages[1:]] if editable else list(packages)
    _pip(args)


@cli.command()
@click.argument("packages", nargs=-1, required=True)
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
def uninstall(packages: tuple[str, ...], yes: bool) -> None:
    """Uninstall plugin packages from emergebench's environment.

    \b
    Example:
        emergebench uninstall emergebench-mars -y
    """
    _pip(["uninstall", *(["-y"] if yes else []), *packages])


@cli.command()
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
def tasks(name: str | None, as_json: bool) -> None:
    """List the tasks the installed plugins provide, or show one task in full: its arguments (types,
    defaults, help), metrics and an example command.

    \b
    Example:
        emergebench tasks
        emergebench tasks mars/event
    """
    from . import task_help

    width = shutil.get_terminal_size((100, 24)).columns
    if name is None:
        rows = task_help.list_rows(_described()["tasks"])
        if as_json:
            click.echo(json.dumps(rows, indent=2))
        else:
            click.echo(task_help.render_list(rows, width))
            _echo_err("\n`emergebench tasks NAME` shows a task's arguments, metrics and an example command.")
        return
    restrict_to_needed([name], [], None)
    manager = get_manager()
    catalog = manager.catalog
    manager.report_problems(_echo_err)
    info = task_help.detail(catalog.task(name))
    click.echo(json.dumps(info, indent=2) if as_json else task_help.render_detail(info, width))


def _described() -> dict[str, Any]:
    """What the installed plugins offer: from a fresh plugin index, else by loading every plugin (which
    also writes the index for the next command)."""
    index = fresh_index()
    if index is not None:
        for problem in index.get("problems", []):
            _echo_err(f"Warning: {problem}")
        return index
    cli._add_plugin_commands()
    manager = get_manager()
    manager.report_problems(_echo_err)
    return manager.describe()


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
def models(as_json: bool) -> None:
    """List model providers and the model ids they know (PROVIDER/NAME).

    \b
    Example:
        emergebench models
    """
    rows = [
        {
            "provider": prefix,
            "plugin": p["plugin"],
            "models": ", ".join(f"{prefix}/{n}" for n in p["known"]) + (", ..." if p["open_names"] else ""),
            "options": ", ".join(p["options_help"]),
            "description": p["description"],
        }
        for prefix, p in sorted(_described()["models"].items())
    ]
    _emit(rows, ["provider", "plugin", "models", "options", "description"], as_json)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Output JSON.")
def graders(as_json: bool) -> None:
    """List graders (programmatic and model-graded).

    \b
    Example:
        emergebench graders --json
    """
    rows = [
        {
            "name": name,
            "plugin": g["plugin"],
            "model_graded": g["needs_model"],
            "args": ", ".join(g["args"]),
            "description": g["description"],
        }
        for name, g in sorted(_described()["graders"].items())
    ]
    _emit(rows, ["name", "plugin", "model_graded", "args", "description"], as_json)


def print_summary(result: RunResult, run_dir: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(emoji=False)  # names and paths print as they are (and rich skips its emoji table)
    console.print(
        f"[bold]{result.task.name}[/] v{result.task.version} on [bold]{result.model.id}[/]: "
        f"{result.status}, {result.n_samples}/{result.n_expected} samples, {result.n_errors} failed, "
        f"{result.model_calls} model calls ({result.cached_calls} from cache)"
    )
    if result.errors:
        for kind, count in sorted(result.errors.items(), key=lambda kv: -kv[1]):
            console.print(f"  [red]{count} x {kind}[/]")
    if result.metrics:
        table = Table(show_header=True)
        for column in ("metric", "group", "value", "stderr", "95% CI", "n"):
            table.add_column(column)
        for m in result.metrics:
            ci = f"[{m.ci_low:.3f}, {m.ci_high:.3f}]" if m.ci_low is not None and m.ci_high is not None else ""
            table.add_row(
                m.name,
                m.group or "",
                "" if m.value is None else f"{m.value:.4f}",
                "" if m.stderr is None else f"{m.stderr:.4f}",
                ci,
                str(m.n),
            )
        console.print(table)
    console.print(f"run {result.run_id}: {run_dir}")


def restrict_to_needed(tasks: list[str], models: list[str], grader: str | None) -> None:
    """Load only the plugins this run needs when the plugin index can tell which they are."""
    index = fresh_index()
    if index is None:
        if not get_manager().in_process:
            # Missing or stale (a first run, an upgrade): this run loads every plugin anyway, so let that
            # load leave a fresh index, or every later run would load every plugin too.
            cli._add_plugin_commands()
        return
    needed = plugin_index.plugins_needed(index, tasks, models, [grader] if grader else [])
    if needed is not None:
        get_manager().restrict(needed)


def _run_one(
    task: str,
    model: str,
    *,
    options: RunOptions,
    **spec_kwargs: Any,
) -> RunResult:
    from .runner import Runner, build_spec, run_coroutine, split_secrets

    for model_id, key in ((model, "model_args"), (spec_kwargs.get("grader_model"), "grader_model_args")):
        if model_id and spec_kwargs.get(key):
            _, secret = split_secrets(model_id, spec_kwargs[key])
            options.secrets.setdefault(model_id, {}).update(secret)
    spec = build_spec(task, model, **spec_kwargs)
    runner = Runner(spec, options)
    runner.settle_later = True  # the registry's ingest process stores the run while the summary prints
    try:
        try:
            result: RunResult = run_coroutine(runner.run())
        except CostLimitReached as stop:
            result = runner.result
            print_summary(result, (options.runs_dir or _runs_dir()) / result.run_id)
            _echo_err(
                f"Stopped: the next call would pass --cost-limit (${stop.limit:.4f}; spent ${stop.spent:.4f}). "
                "Raise the limit and re-run the same command to continue."
            )
            raise SystemExit(EXIT_COST_LIMIT) from None
        except KeyboardInterrupt:
            partial: RunResult | None = getattr(runner, "result", None)
            if partial is not None:
                _echo_err(
                    f"Interrupted: {partial.n_samples} finished samples kept in run {partial.run_id}; "
                    "re-run the same command (or add --resume) to continue."
                )
            raise SystemExit(130) from None
        print_summary(result, (options.runs_dir or _runs_dir()) / result.run_id)
    finally:
        try:
            runner.settle()  # the run is stored (or its failure said) before the command goes on or exits
        except KeyboardInterrupt:  # the ingest process, in a session of its own, still stores the run
            _echo_err("Interrupted while the registry stored the run; its ingest process goes on without us.")
            raise SystemExit(130) from None
    return result


def _exit_for(results: list[RunResult], allowance: FailureAllowance) -> None:
    from .status import failure_message

    """Exit 1 when a run was stopped early or has more failed samples than ``--max-failures`` allows."""
    problems = [m for m in (failure_message(r, allowance) for r in results) if m]
    for message in problems:
        _echo_err(message)
    if problems:
        raise SystemExit(1)


def _runs_dir() -> Path:
    from .paths import runs_dir

    return runs_dir()


def run_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by ``run`` and ``demo``."""
    for decorator in reversed(
        [
            click.option(
                "--max-concurrency",
                "-c",
                default=8,
                show_default=True,
                type=click.IntRange(1, 4096),
                help="Model calls (and samples) in flight at once.",
            ),
            click.option(
                "--no-cache", is_flag=True, help="Do not reuse cached model calls (new answers are still cached)."
            ),
            click.option(
                "--max-retries",
                default=6,
                show_default=True,
                type=click.IntRange(1, 100),
                help="Attempts per model call on rate limits, 5xx, timeouts.",
            ),
            click.option(
                "--timeout",
                default=300.0,
                show_default=True,
                type=FiniteFloatRange(0.0, MAX_TIMEOUT_S),
                help="Seconds before a model call counts as stalled and is retried.",
            ),
            click.option(
                "--max-failures",
                type=FailureAllowanceType(),
                default="0",
                show_default=True,
                help="Failed samples a run may have and still exit 0: a count (3) or a share of the "
                "samples (5%). A run is 'complete' only when no sample failed, whatever this says.",
            ),
            click.option(
                "--contributor",
                envvar="EMERGEBENCH_CONTRIBUTOR",
                default=None,
                help="Your name, recorded in provenance when results are pooled.",
            ),
        ]
    ):
        f = decorator(f)
    return f


def _options(
    max_concurrency: int,
    no_cache: bool,
    max_retries: int,
    timeout: float,
    contributor: str | None,
    max_failures: FailureAllowance | None = None,
    resume: bool = False,
    fresh: bool = False,
) -> RunOptions:
    from .retry import RetryPolicy
    from .runner import RunOptions

    return RunOptions(
        max_concurrency=max_concurrency,
        use_cache=not no_cache,
        resume=resume,
        fresh=fresh,
        retry=RetryPolicy(max_attempts=max_retries, timeout_s=timeout),
        contributor=contributor,
    )


@cli.command()
@click.argument("task_names", metavar="TASK...", nargs=-1, required=True)
@click.option("-m", "--model", required=True, help="Model id PROVIDER/NAME, e.g. llamacpp/smollm2-135m.")
@click.option("--grader-model", default=None, help="Judge model id for model-graded tasks and graders.")
@click.option("--grader", default=None, help="Grader name (defaults to the task's own).")
@click.option("-A", "grader_args", multiple=True, help="Grader option key=value (see `emergebench graders`).")
@click.option("-T", "task_args", multiple=True, help="Task option key=value (JSON values accepted).")
@click.option("-M", "model_args", multiple=True, help="Model option key=value.")
@click.option("-J", "grader_model_args", multiple=True, help="Judge model option key=value.")
@click.option(
    "-G",
    "generate_args",
    multiple=True,
    help="Generation setting key=value: temperature, top_p, max_tokens, seed, stop.",
)
@click.option(
    "--limit",
    type=click.IntRange(1, MAX_SAMPLES),
    default=None,
    help="Run at most N samples (the task decides which).",
)
@click.option(
    "--seed",
    type=click.IntRange(0, MAX_SEED),
    default=0,
    show_default=True,
    help="Seed for sampling and the task's randomness (0 to 2^63-1).",
)
@click.option(
    "--epochs",
    type=click.IntRange(1, MAX_EPOCHS),
    default=1,
    show_default=True,
    help="Repeat every sample this many times.",
)
@click.option("--resume", is_flag=True, help="Require an unfinished run of this spec and continue it.")
@click.option("--fresh", is_flag=True, help="Start a new run even if an unfinished one of this spec exists.")
@click.option(
    "--cost-limit",
    type=FiniteFloatRange(0.0, MAX_DOLLARS, "dollars"),
    default=None,
    help="US dollars: stop (resumable, exit code 3) before the next call would pass it.",
)
@click.option(
    "--prices", "prices_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Price table file."
)
@click.option(
    "--until-pass",
    is_flag=True,
    help="PassUntil: re-sample each sample until it passes (or --max-attempts); records the pass-probability "
    "estimate and its interval per sample and per run.",
)
@click.option("--max-attempts", type=int, default=None, help="Attempts per sample with --until-pass.  [default: 1000]")
@run_options
def run(
    task_names: tuple[str, ...],
    model: str,
    grader_model: str | None,
    grader: str | None,
    grader_args: tuple[str, ...],
    task_args: tuple[str, ...],
    model_args: tuple[str, ...],
    grader_model_args: tuple[str, ...],
    generate_args: tuple[str, ...],
    limit: int | None,
    seed: int,
    epochs: int,
    resume: bool,
    fresh: bool,
    cost_limit: float | None,
    prices_file: Path | None,
    until_pass: bool,
    max_attempts: int | None,
    **opts: Any,
) -> None:
    """Run one or more tasks against a model. Re-running the same command resumes an unfinished
    run of the same spec; cached model calls make completed work free.

    \b
    Examples:
        emergebench run mars/event -m openai/gpt-4o-mini --limit 200
        emergebench run skill-mix -m llamacpp/smollm2-135m --grader-model openai/gpt-4o -T k=2,3
    """
    if resume and fresh:
        raise click.UsageError("--resume and --fresh contradict each other; pick one")
    if grader_model_args and not grader_model:
        raise click.UsageError("-J sets options of the judge model, but no --grader-model was given; add one")
    from .pricing import load_prices
    from .records import GenerateConfig
    from .runner import validate_args

    restrict_to_needed(list(task_names), [model, *([grader_model] if grader_model else [])], grader)
    if max_attempts is not None and not until_pass:
        raise click.UsageError("--max-attempts only applies with --until-pass; add --until-pass")
    generate = validate_args(GenerateConfig, parse_pairs(generate_args, "-G"), "-G generation settings")
    options = _options(resume=resume, fresh=fresh, **opts)
    options.prices = load_prices(prices_file)
    options.budget = Budget(cost_limit) if cost_limit is not None else None
    results = []
    for task in task_names:
        result = _run_one(
            task,
            model,
            options=options,
            task_args=parse_pairs(task_args, "-T"),
            model_args=parse_pairs(model_args, "-M"),
            generate=generate,
            grader=grader,
            grader_args=parse_pairs(grader_args, "-A"),
            grader_model=grader_model,
            grader_model_args=parse_pairs(grader_model_args, "-J"),
            seed=seed,
            limit=limit,
            epochs=epochs,
            until_pass=(max_attempts or 1000) if until_pass else None,
        )
        results.append(result)
        if result.status == "interrupted":
            break  # the disk or the journal failed: the next task would fail the same way
    global _finished_runs
    _finished_runs = True
    _exit_for(results, opts["max_failures"])


@cli.command()
@click.option("-m", "--model", default=DEFAULT_MODEL, show_default=True, help="Model to evaluate.")
@click.option("--grader-model", default=None, help="Judge model (defaults to --model).")
@click.option(
    "--limit", type=click.IntRange(1, MAX_SAMPLES), default=None, help="Override each task's small demo size."
)
@click.option("--task", "only", multiple=True, help="Only these tasks (repeatable).")
@run_options
@click.pass_context
def demo(
    ctx: click.Context, /, model: str, grader_model: str | None, limit: int | None, only: tuple[str, ...], **opts: Any
) -> None:
    """Run every installed benchmark at a small size on the embedded offline model, then print
    the leaderboard (when the registry plugin is installed) and, per benchmark, the share of
    replies that could not be read (target: under 20%), and last write the HTML report (when the
    report plugin is installed), printing its path. Benchmarks use constrained output (a JSON
    schema) here where the provider supports it.

    \b
    Example:
        emergebench demo
    """
    from .format_failures import format_share, print_format_shares
    from .status import failure_message

    catalog = get_manager().catalog
    names = [n for n, cls in sorted(catalog.tasks.items()) if cls.demo_args is not None and (not only or n in only)]
    if not names:
        raise click.ClickException("no installed task offers a demo; install a benchmark plugin first")
    options = _options(**opts)
    failures = []
    shares = []
    for name in names:
        cls = catalog.tasks[name]
        try:
            result = _run_one(
                name,
                model,
                options=options,
                task_args=dict(cls.demo_args or {}),
                grader_model=grader_model or model,
                limit=limit or cls.demo_limit,
            )
            problem = failure_message(result, opts["max_failures"])
            if problem:
                failures.append(f"{name}: {problem}")
            if cls.format_failure_metric:
                shares.append(format_share(name, result.metrics, cls.format_failure_metric))
        except (UsageError, click.ClickException) as exc:
            failures.append(f"{name}: {exc}")
            _echo_err(f"Error in {name}: {exc}")
    click.echo(f"Runs are in {_runs_dir()}")
    leaderboard = cli.get_command(ctx, "leaderboard")
    if leaderboard is not None:
        ctx.invoke(leaderboard)
    print_format_shares(shares, click.echo, model)
    report = cli.get_command(ctx, "report")  # the report plugin writes the HTML report and prints its path
    if report is not None:
        try:
            ctx.invoke(report, no_scan=True)
        except click.ClickException as exc:
            failures.append(f"report: {exc.message}")
            _echo_err(f"Error writing the report: {exc.message}")
    if failures:
        raise click.ClickException(f"{len(failures)} demo task(s) failed: " + "; ".join(failures))


cli.add_command(score_command)  # a module of its own, registered like a plugin command


# Set by ``run`` once its runs are written and handed to the plugins: nothing is left but the exit.
_finished_runs = False


def main() -> None:
    try:
        cli(prog_name="emergebench")
    except SystemExit as stop:
        if _finished_runs and (stop.code is None or isinstance(stop.code, int)):
            from .quick_exit import exit_now

            exit_now(stop.code or 0)  # skips the interpreter's ~50 ms teardown after the last sample
        raise
