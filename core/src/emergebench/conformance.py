"""Conformance checks for emergebench plugins.

One call, :func:`check_plugin`, tells a plugin author (and this repository's CI) whether an installed
plugin behaves as the core expects: its entry point loads, its names are valid, its tasks have versions
and strict argument models, a seeded run on scripted models is deterministic and replayable from the
cache and writes records that validate, and its graders survive malformed answers. Every check runs in
a private plugin manager and a temporary ``EMERGEBENCH_HOME``, so it never touches the user's data.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import tempfile
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any, Literal

import click
from pydantic import BaseModel, ValidationError

from . import hookspecs
from .context import RunServices, ScoreContext, SolveContext
from .errors import UsageError
from .grader import Grade, Grader
from .hookspecs import hookimpl
from .journal import JOURNAL_FILE, RESULT_FILE, SPEC_FILE
from .model import ModelProvider
from .plugins import GROUP, PluginManager
from .records import GenerateConfig, Message, ModelOutput, RunResult, RunSpec, Sample, SampleResult, SampleScore
from .runner import Runner, RunOptions, build_spec, resolve_model, validate_args
from .task import NoArgs, Task

ENTRY_POINT_RE = r"^[a-z0-9][a-z0-9_.-]*$"
HOOK_NAMES = frozenset(
    name
    for name in dir(hookspecs)
    if callable(getattr(hookspecs, name)) and hasattr(getattr(hookspecs, name), "emergebench_spec")
)


@dataclass(frozen=True)
class ModelSpec:
    """A model id plus its ``-M`` options, as the conformance runs and fixtures pass them around."""

    id: str
    options: dict[str, Any] = field(default_factory=dict)

    def __hash__(self) -> int:
        return hash((self.id, repr(sorted(self.options.items()))))


ModelLike = str | ModelSpec | tuple[str, Mapping[str, Any]]

# Replies a task must survive without crashing: echoes of its own prompt, nothing at all, and
# short answers that are sometimes right and often malformed.
DEFAULT_SUBJECTS: tuple[ModelSpec, ...] = (
    ModelSpec("scripted/echo"),
    ModelSpec("scripted/constant", {"reply": ""}),
    ModelSpec(
        "scripted/random",
        {"choices": ["A", "B", "yes", "no", "0", "42", '{"answer": 1}', "I don't know.", "```\n}{\n```"]},
    ),
)
# A judge that sometimes follows the usual verdict formats and sometimes answers nonsense.
DEFAULT_JUDGE = ModelSpec(
    "scripted/random",
    {"choices": ["GRADE: C", "GRADE: I", "Score: 7/10", '{"score": 1}', "I cannot grade this.", ""]},
)
MALFORMED_ANSWERS: tuple[str, ...] = (
    "",
    "   \n\t ",
    "null",
    '{"answer": [1, 2',
    "GRADE: C GRADE: I ANSWER: (Z)",
    "\u00ff\u0000\ufffd \U0001f600 \u202e",
    "A" * 20_000,
    "-1e309 NaN inf",
)
DEFAULT_GRADER_TARGETS: tuple[Any, ...] = ("A", "42")


def as_model_spec(value: ModelLike) -> ModelSpec:
    """Accept ``"scripted/echo"``, ``("scripted/constant", {"reply": "B"})`` or a ModelSpec."""
    if isinstance(value, ModelSpec):
        return value
    if isinstance(value, str):
        return ModelSpec(value)
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        return ModelSpec(value[0], dict(value[1]))
    raise TypeError(f"expected a model id, (id, options) or ModelSpec, got {value!r}")


@dataclass
class Finding:
    """One problem: ``error`` fails the check, ``warning`` is reported and tolerated."""

    where: str
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        return f"[{self.severity}] {self.where}: {self.message}"


@dataclass
class ConformanceReport:
    """What :func:`check_plugin` found and exercised."""

    plugin: str
    distribution: str | None = None
    tasks: list[str] = field(default_factory=list)
    providers: list[str] = field(default_factory=list)
    graders: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    runs: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, where: str, message: str) -> None:
        self.findings.append(Finding(where, message, "error"))

    def warn(self, where: str, message: str) -> None:
        self.findings.append(Finding(where, message, "warning"))

    def format(self) -> str:
        head = (
            f"plugin {self.plugin!r} ({self.distribution or 'no distribution'}): "
            f"{len(self.tasks)} task(s), {len(self.providers)} model provider(s), {len(self.graders)} grader(s), "
            f"{len(self.commands)} command(s), {self.runs} run(s); "
            f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)"
        )
        return "\n".join([head, *(f"  {f}" for f in self.findings)])


class ConformanceError(AssertionError):
    """Raised by :func:`check_plugin` when a plugin fails; the message lists every problem."""

    def __init__(self, report: ConformanceReport) -> None:
        super().__init__(report.format())
        self.report = report


class ConformanceWarning(UserWarning):
    """A plugin does something tolerated but discouraged (pytest shows these in its summary)."""


def check_plugin(
    name: str,
    *,
    models: Sequence[ModelLike] = DEFAULT_SUBJECTS,
    task_models: Mapping[str, Sequence[ModelLike]] | None = None,
    grader_model: ModelLike | None = DEFAULT_JUDGE,
    task_args: Mapping[str, Mapping[str, Any]] | None = None,
    tasks: Sequence[str] | None = None,
    limit: int = 3,
    seed: int = 0,
    grader_args: Mapping[str, Mapping[str, Any]] | None = None,
    grader_targets: Mapping[str, Sequence[Any]] | None = None,
    check_models: Sequence[ModelLike] = (),
    also_load: Sequence[str] = (),
    allow_sample_errors: bool = False,
    raise_on_error: bool = True,
) -> ConformanceReport:
    """Check the installed plugin whose entry point (group ``emergebench``) is ``name``.

    ``models`` are the subject models each task runs on (scripted ones by default); ``task_models``
    overrides them per task, for tasks whose run needs particular replies. ``grader_model`` is the
    judge passed as ``--grader-model`` (a scripted one by default, so model-graded tasks work).
    ``task_args`` gives ``-T`` values per task (default: the task's ``demo_args``). ``check_models``
    lists model ids of this plugin's providers to construct and call (they must work offline).
    ``also_load`` names other plugins this one relies on (e.g. for a grader). Raises
    :class:`ConformanceError` listing every error unless ``raise_on_error`` is false; warnings are
    emitted as :class:`ConformanceWarning`.
    """
    report = ConformanceReport(plugin=name)
    with _private_home() as home:
        checker = _Checker(
            report,
            home,
            subjects=[as_model_spec(m) for m in models],
            task_models={k: [as_model_spec(m) for m in v] for k, v in (task_models or {}).items()},
            judge=as_model_spec(grader_model) if grader_model is not None else None,
            task_args=task_args or {},
            only_tasks=tasks,
            limit=limit,
            seed=seed,
            grader_args=grader_args or {},
            grader_targets=grader_targets or {},
            check_models=[as_model_spec(m) for m in check_models],
            allow_sample_errors=allow_sample_errors,
        )
        checker.run(also_load)
    for finding in report.warnings:
        warnings.warn(str(finding), ConformanceWarning, stacklevel=2)
    if raise_on_error and report.errors:
        raise ConformanceError(report)
    return report


@contextlib.contextmanager
def _private_home() -> Iterator[Path]:
    """A temporary EMERGEBENCH_HOME for the duration of the check (plugins may read it at run end)."""
    previous = os.environ.get("EMERGEBENCH_HOME")
    with tempfile.TemporaryDirectory(prefix="emergebench-conformance-") as tmp:
        os.environ["EMERGEBENCH_HOME"] = tmp
        try:
            yield Path(tmp)
        finally:
            if previous is None:
                os.environ.pop("EMERGEBENCH_HOME", None)
            else:
                os.environ["EMERGEBENCH_HOME"] = previous


@contextlib.contextmanager
def _allow_only(names: Sequence[str]) -> Iterator[None]:
    previous = os.environ.get("EMERGEBENCH_LOAD_PLUGINS")
    os.environ["EMERGEBENCH_LOAD_PLUGINS"] = ",".join(names)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("EMERGEBENCH_LOAD_PLUGINS", None)
        else:
            os.environ["EMERGEBENCH_LOAD_PLUGINS"] = previous


def load_isolated(names: Sequence[str]) -> PluginManager:
    """A private plugin manager that loads the built-ins and only the named entry points."""
    manager = PluginManager()
    with _allow_only(names):
        manager.load()
    return manager


class _ProbeTask(Task[NoArgs]):
    """Exercises a model plugin's models through the real runner (two short prompts)."""

    name = "emergebench-conformance/probe"
    version = "1"
    description = "conformance probe for model providers"

    def dataset(self, seed: int) -> list[Sample]:
        return [
            Sample(id="word", input="Reply with the single word: yes"),
            Sample(id="sum", input="What is 2 + 3? Answer with a number."),
        ]

    async def solve(self, sample: Sample, ctx: SolveContext) -> SampleScore:
        out = await ctx.model.generate(str(sample.input), GenerateConfig(max_tokens=16, temperature=0.0, seed=0))
        return SampleScore(scores={"answered": float(bool(out.text.strip()))}, answer=out.text)


class _ProbePlugin:
    @staticmethod
    @hookimpl
    def register_tasks(register: Any) -> None:
        register(_ProbeTask)


class _Checker:
    def __init__(
        self,
        report: ConformanceReport,
        home: Path,
        *,
        subjects: list[ModelSpec],
        task_models: dict[str, list[ModelSpec]],
        judge: ModelSpec | None,
        task_args: Mapping[str, Mapping[str, Any]],
        only_tasks: Sequence[str] | None,
        limit: int,
        seed: int,
        grader_args: Mapping[str, Mapping[str, Any]],
        grader_targets: Mapping[str, Sequence[Any]],
        check_models: list[ModelSpec],
        allow_sample_errors: bool,
    ) -> None:
        self.report = report
        self.home = home
        self.subjects = subjects
        self.task_models = task_models
        self.judge = judge
        self.task_args = task_args
        self.only_tasks = only_tasks
        self.limit = limit
        self.seed = seed
        self.grader_args = grader_args
        self.grader_targets = grader_targets
        self.check_models = check_models
        self.allow_sample_errors = allow_sample_errors
        self.manager: PluginManager | None = None
        self._run_counter = 0

    # -- loading ---------------------------------------------------------------------------------

    def run(self, also_load: Sequence[str]) -> None:
        name = self.report.plugin
        ep = self._entry_point(name)
        if ep is None:
            return
        module = self._load_module(ep)
        if module is None:
            return
        self._check_hookimpls(module)
        manager = load_isolated([name, *also_load])
        self.manager = manager
        if name not in manager.infos:
            for problem in manager.problems:
                if problem.plugin == name:
                    self.report.error("entry point", problem.error)
            return
        catalog = manager.catalog
        for problem in manager.problems:
            if problem.plugin == name:
                self.report.error("registration", problem.error)
        tasks = {n: c for n, c in catalog.tasks.items() if c.plugin == name}
        providers = {n: p for n, p in catalog.models.items() if p.plugin == name}
        graders = {n: g for n, g in catalog.graders.items() if g.plugin == name}
        self.report.tasks = sorted(tasks)
        self.report.providers = sorted(providers)
        self.report.graders = sorted(graders)
        self._check_commands(manager)
        if not (tasks or providers or graders or self.report.commands):
            self.report.error("plugin", "registers no task, model provider, grader or command")
        if self.only_tasks is not None:
            missing = sorted(set(self.only_tasks) - set(tasks))
            if missing:
                self.report.error("tasks", f"asked to check {missing} but the plugin registers {sorted(tasks)}")
            tasks = {n: c for n, c in tasks.items() if n in self.only_tasks}
        for task_name in sorted(self.task_models):
            if task_name not in tasks:
                self.report.error("task_models", f"names {task_name!r}, which is not a task of this plugin")
        self._check_task_names(list(tasks))
        for task_name, task_cls in sorted(tasks.items()):
            self._check_task(task_name, task_cls)
        for prefix, provider in sorted(providers.items()):
            self._check_provider(prefix, provider)
        for spec in self.check_models:
            self._check_model(spec)
        exercised = {
            m.id.partition("/")[0] for m in [*self.subjects, *(m for v in self.task_models.values() for m in v)]
        }
        if providers and not self.check_models and not exercised & set(providers):
            self.report.warn(
                "models",
                "no model of this plugin was exercised: pass check_models=['PREFIX/NAME', ...] "
                "(models that work offline) to construct and call them",
            )
        for grader_name, grader_cls in sorted(graders.items()):
            self._check_grader(grader_name, grader_cls, tasks)

    def _entry_point(self, name: str) -> EntryPoint | None:
        import re

        found = [ep for ep in entry_points(group=GROUP) if ep.name == name]
        if not found:
            installed = sorted({ep.name for ep in entry_points(group=GROUP)})
            self.report.error(
                "entry point",
                f"no entry point named {name!r} in group {GROUP!r} (installed: {installed or 'none'}). Declare "
                f'`[project.entry-points.{GROUP}] {name} = "your_module"` in pyproject.toml and reinstall '
                "the package (pip install -e .)",
            )
            return None
        dists = sorted({ep.dist.name for ep in found if ep.dist is not None})
        if len(dists) > 1:
            self.report.error("entry point", f"{name!r} is declared by several distributions: {dists}")
        ep = found[0]
        self.report.distribution = ep.dist.name if ep.dist is not None else None
        if not re.match(ENTRY_POINT_RE, name):
            self.report.error("entry point", f"name {name!r} must be lower-case letters, digits, '-', '_' or '.'")
        expected = f"emergebench-{name}"
        if self.report.distribution and _normal(self.report.distribution) != _normal(expected):
            self.report.warn(
                "distribution",
                f"is named {self.report.distribution!r}; the convention is {expected!r} so people can find it",
            )
        return ep

    def _load_module(self, ep: EntryPoint) -> Any:
        try:
            return ep.load()
        except Exception as exc:
            self.report.error("entry point", f"{ep.value!r} fails to import: {type(exc).__name__}: {exc}")
            return None

    def _check_hookimpls(self, module: Any) -> None:
        marker = f"{GROUP}_impl"
        impls = [n for n in dir(module) if hasattr(getattr(module, n, None), marker)]
        if not impls:
            self.report.error("hooks", f"module {module.__name__!r} has no @hookimpl functions")
        for impl in impls:
            opts = getattr(getattr(module, impl), marker) or {}
            hook = opts.get("specname") or impl
            if hook not in HOOK_NAMES:
                self.report.error(
                    "hooks",
                    f"@hookimpl {impl!r} implements no emergebench hook (known: {', '.join(sorted(HOOK_NAMES))})",
                )

    def _check_commands(self, manager: PluginManager) -> None:
        from .cli import BUILTIN_COMMANDS

        group = click.Group("conformance")
        for impl in manager.pm.hook.register_commands.get_hookimpls():
            if impl.plugin_name != self.report.plugin:
                continue
            try:
                getattr(impl.function, "__wrapped__", impl.function)(cli=group)  # unguarded: errors are findings
            except Exception as exc:
                self.report.error("commands", f"register_commands raised {type(exc).__name__}: {exc}")
                return
        self.report.commands = sorted(group.commands)
        for cmd_name, command in sorted(group.commands.items()):
            if cmd_name in BUILTIN_COMMANDS:
                self.report.error("commands", f"command {cmd_name!r} would hide the built-in command of that name")
            if not (command.help or command.short_help):
                self.report.warn("commands", f"command {cmd_name!r} has no help text (its docstring)")

    # -- tasks -----------------------------------------------------------------------------------

    def _check_task_names(self, names: list[str]) -> None:
        plugin = self.report.plugin
        for task_name in names:
            if task_name == plugin or task_name.startswith(f"{plugin}/"):
                continue
            if len(names) > 1:
                self.report.error(
                    f"task {task_name}", f"a plugin with several tasks names them '{plugin}/<task>', got {task_name!r}"
                )
            else:
                self.report.warn(f"task {task_name}", f"the convention is to name a plugin's only task {plugin!r}")

    def _check_task(self, name: str, cls: type[Task[Any]]) -> None:
        where = f"task {name}"
        if not cls.version.strip() or any(ch.isspace() for ch in cls.version):
            self.report.error(where, f"version {cls.version!r} must be a non-empty string without spaces, e.g. '1.0'")
        if not cls.description.strip():
            self.report.warn(where, "has no description (shown by `emergebench tasks`)")
        if not (isinstance(cls.Args, type) and issubclass(cls.Args, BaseModel)):
            self.report.error(where, f"Args must be a pydantic BaseModel subclass, got {cls.Args!r}")
            return
        if cls.Args.model_config.get("extra") != "forbid":
            self.report.error(
                where, 'Args must set model_config = ConfigDict(extra="forbid") so a mistyped -T key is an error'
            )
        try:
            cls.info().model_dump_json()
        except Exception as exc:
            self.report.error(where, f"its Args JSON schema cannot be built: {exc}")
        if cls.default_grader is not None:
            assert self.manager is not None
            if cls.default_grader not in self.manager.catalog.graders:
                self.report.error(
                    where,
                    f"default_grader {cls.default_grader!r} is not installed "
                    "(pass also_load=[...] if it is another plugin's)",
                )
                return
        raw_args = dict(self.task_args.get(name, cls.demo_args or {}))
        try:
            args = validate_args(cls.Args, raw_args, f"-T options for task {name!r}")
        except Exception as exc:
            self.report.error(where, f"arguments {raw_args!r} do not validate: {exc}")
            return
        if cls.demo_args is not None and name in self.task_args:
            try:
                validate_args(cls.Args, dict(cls.demo_args), "demo_args")
            except Exception as exc:
                self.report.error(where, f"demo_args {cls.demo_args!r} do not validate: {exc}")
        task = cls(args)
        if not self._check_dataset(where, task):
            return
        try:
            task.metrics([])
        except Exception as exc:
            self.report.error(
                where,
                f"metrics([]) raised {type(exc).__name__}: {exc}; a run where every sample failed must still finish",
            )
        for subject in self.task_models.get(name, self.subjects):
            self._check_runs(name, cls, raw_args, subject)

    def _check_dataset(self, where: str, task: Task[Any]) -> bool:
        try:
            first = list(task.dataset(self.seed))
            second = list(task.dataset(self.seed))
        except Exception as exc:
            self.report.error(where, f"dataset({self.seed}) raised {type(exc).__name__}: {exc}")
            return False
        if not first:
            self.report.error(where, "dataset() returned no samples")
            return False
        bad = [s for s in first if not isinstance(s, Sample)]
        if bad:
            self.report.error(where, f"dataset() must yield Sample records, got {type(bad[0]).__name__}")
            return False
        ids = [s.id for s in first]
        if len(set(ids)) != len(ids):
            self.report.error(where, "dataset() yields duplicate sample ids")
        if [s.model_dump(mode="json") for s in first] != [s.model_dump(mode="json") for s in second]:
            self.report.error(
                where, f"dataset({self.seed}) differs between two calls: derive all randomness from the seed"
            )
        try:
            for sample in first:
                sample.model_dump_json()
        except Exception as exc:
            self.report.error(where, f"a sample is not JSON-serialisable: {exc}")
            return False
        try:
            chosen = task.select(list(first), self.limit, self.seed)
        except Exception as exc:
            self.report.error(where, f"select() raised {type(exc).__name__}: {exc}")
            return False
        if len(chosen) > self.limit or not set(s.id for s in chosen) <= set(ids):
            self.report.error(
                where, f"select(limit={self.limit}) must return at most {self.limit} of the dataset's samples"
            )
        return True

    def _check_runs(self, name: str, cls: type[Task[Any]], args: dict[str, Any], subject: ModelSpec) -> None:
        where = f"task {name} on {subject.id}"
        first = self._run(where, name, args, subject, self.judge, cache="a")
        if first is None:
            return
        second = self._run(where, name, args, subject, self.judge, cache="b")
        replay = self._run(where, name, args, subject, self.judge, cache="a")
        if second is None or replay is None:
            return
        if _fingerprint(first) != _fingerprint(second):
            self.report.error(
                where,
                "two runs with the same seed differ: "
                + _first_difference(first, second)
                + ". Derive randomness from ctx.rng / ctx.seed and keep no state between samples",
            )
        if replay[0].model_calls:
            self.report.error(
                where,
                f"re-running from the cache made {replay[0].model_calls} new model call(s): prompts must be "
                "a function of the sample and seed, or pass cache_salt= to tell calls apart",
            )
        elif _fingerprint(first) != _fingerprint(replay):
            self.report.error(
                where, "a run replayed from the cache scores differently: " + _first_difference(first, replay)
            )
        result, samples = first
        self._check_result(where, cls, result, samples)

    def _run(
        self, where: str, task: str, args: dict[str, Any], subject: ModelSpec, judge: ModelSpec | None, *, cache: str
    ) -> tuple[RunResult, list[SampleResult]] | None:
        assert self.manager is not None
        self._run_counter += 1
        runs_dir = self.home / f"runs-{self._run_counter}"
        try:
            spec = build_spec(
                task,
                subject.id,
                task_args=args,
                model_args=dict(subject.options),
                grader_model=judge.id if judge else None,
                grader_model_args=dict(judge.options) if judge else None,
                seed=self.seed,
                limit=self.limit,
                manager=self.manager,
            )
            options = RunOptions(
                max_concurrency=4, progress=False, runs_dir=runs_dir, cache_path=self.home / f"cache-{cache}.sqlite"
            )
            result = asyncio.run(Runner(spec, options, self.manager).run())
        except Exception as exc:
            self.report.error(where, f"the run failed: {type(exc).__name__}: {exc}")
            return None
        self.report.runs += 1
        return result, self._read_records(where, runs_dir / result.run_id, result)

    def _read_records(self, where: str, run_dir: Path, result: RunResult) -> list[SampleResult]:
        try:
            RunSpec.model_validate_json((run_dir / SPEC_FILE).read_text())
            RunResult.model_validate_json((run_dir / RESULT_FILE).read_text())
        except (OSError, ValidationError) as exc:
            self.report.error(where, f"run files do not validate: {exc}")
        samples = []
        for number, line in enumerate((run_dir / JOURNAL_FILE).read_bytes().splitlines(), 1):
            try:
                samples.append(SampleResult.model_validate_json(line))
            except ValidationError as exc:
                self.report.error(where, f"journal line {number} does not validate: {exc}")
        return samples

    def _check_result(self, where: str, cls: type[Task[Any]], result: RunResult, samples: list[SampleResult]) -> None:
        failed = [s for s in samples if s.error is not None]
        # A run with a failed sample is never 'complete' (docs/architecture.md, "Status and exit code").
        acceptable = {"complete", "partial", "failed"} if self.allow_sample_errors else {"complete"}
        if result.status not in acceptable or len(samples) != result.n_expected:
            self.report.error(where, f"run ended {result.status} with {len(samples)}/{result.n_expected} samples")
        if failed and not self.allow_sample_errors:
            shown = "; ".join(f"{s.sample_id}: {s.error}" for s in failed[:3])
            self.report.error(
                where,
                f"{len(failed)} of {len(samples)} sample(s) raised on malformed model replies ({shown}). Score "
                "unreadable answers 0 instead, or pass allow_sample_errors=True",
            )
        for kind in result.errors:
            if kind.startswith("metrics failed"):
                self.report.error(where, kind)
        for sample in samples:
            for key, value in sample.scores.items():
                if not math.isfinite(value):
                    self.report.error(where, f"sample {sample.sample_id} has a non-finite score {key}={value}")
            if sample.error is None and not any(c.role == "subject" for c in sample.calls):
                self.report.warn(where, f"sample {sample.sample_id} finished without calling the subject model")
        for metric in result.metrics:
            if metric.value is not None and not math.isfinite(metric.value):
                self.report.error(where, f"metric {metric.name} is {metric.value}")
        ok = [s for s in samples if s.error is None]
        names = {m.name for m in result.metrics}
        if cls.main_metric and ok and cls.main_metric not in names:
            self.report.error(where, f"main_metric {cls.main_metric!r} is not among the run's metrics {sorted(names)}")

    # -- model providers -------------------------------------------------------------------------

    def _check_provider(self, prefix: str, provider: ModelProvider) -> None:
        where = f"model provider {prefix}"
        if prefix != self.report.plugin and not prefix.startswith(self.report.plugin):
            self.report.warn(where, f"prefix differs from the plugin name {self.report.plugin!r}")
        if not all(isinstance(k, str) and k for k in provider.known):
            self.report.error(where, f"known must be a list of non-empty model names, got {provider.known!r}")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in provider.options_help.items()):
            self.report.error(where, "options_help must map option names to help strings")
        if not provider.description.strip():
            self.report.warn(where, "has no description (shown by `emergebench models`)")
        if not callable(provider.factory):
            self.report.error(where, "factory is not callable")

    def _check_model(self, spec: ModelSpec) -> None:
        assert self.manager is not None
        where = f"model {spec.id}"
        if _ProbeTask.name not in self.manager.catalog.tasks:
            self.manager.register_module(_ProbePlugin, name="emergebench-conformance")
        prefix = spec.id.partition("/")[0]
        owner = self.manager.catalog.models.get(prefix)
        if owner is None or owner.plugin != self.report.plugin:
            self.report.error(where, f"check_models names {spec.id!r}, which is not served by this plugin")
            return
        try:
            model = resolve_model(self.manager, spec.id, dict(spec.options))
            again = resolve_model(self.manager, spec.id, dict(spec.options))
        except Exception as exc:
            self.report.error(where, f"cannot be constructed: {type(exc).__name__}: {exc}")
            return
        if model.info.id != spec.id:
            self.report.error(where, f"info.id is {model.info.id!r}; it must be the id it was asked for")
        if not isinstance(model.identity(), str) or model.identity() != again.identity():
            self.report.error(where, "identity() must be a string that is the same for the same id and options")
        asyncio.run(_close(again))
        try:
            output = asyncio.run(_generate_and_close(model))
        except Exception as exc:
            self.report.error(where, f"generate() failed: {type(exc).__name__}: {exc}")
            return
        if not isinstance(output, ModelOutput):
            self.report.error(where, f"generate() must return ModelOutput, got {type(output).__name__}")
        elif output.usage.input_tokens < 0 or output.usage.output_tokens < 0:
            self.report.error(where, f"generate() reported negative usage {output.usage}")
        runs = [self._run(where, _ProbeTask.name, {}, spec, None, cache=f"probe-{i}") for i in range(2)]
        if all(r is not None for r in runs):
            first, second = runs[0], runs[1]
            assert first is not None and second is not None
            self._check_result(where, _ProbeTask, *first)
            if [s.answer for s in first[1]] != [s.answer for s in second[1]]:
                self.report.warn(where, "answers differ between two runs at temperature 0 with a fixed seed")

    # -- graders ---------------------------------------------------------------------------------

    def _check_grader(self, name: str, cls: type[Grader[Any]], tasks: Mapping[str, type[Task[Any]]]) -> None:
        where = f"grader {name}"
        if not cls.description.strip():
            self.report.warn(where, "has no description (shown by `emergebench graders`)")
        try:
            grader = cls(cls.Args.model_validate(dict(self.grader_args.get(name, {}))))
        except (ValidationError, TypeError) as exc:
            self.report.error(
                where,
                f"cannot be built from {dict(self.grader_args.get(name, {}))!r}: {exc}. `--grader {name}` builds it "
                "with default arguments, so give every argument a default (or pass grader_args= here)",
            )
            return
        targets = list(self.grader_targets.get(name, ())) or self._targets_from_tasks(name, tasks)
        if cls.needs_model and self.judge is None:
            self.report.error(where, "is model-graded but the check was given grader_model=None")
            return
        try:
            failures = asyncio.run(self._grade_all(grader, targets))
        except Exception as exc:
            self.report.error(where, f"could not be exercised: {type(exc).__name__}: {exc}")
            return
        for failure in failures[:5]:
            self.report.error(where, failure)
        if len(failures) > 5:
            self.report.error(where, f"... and {len(failures) - 5} more malformed inputs failed")

    def _targets_from_tasks(self, grader: str, tasks: Mapping[str, type[Task[Any]]]) -> list[Any]:
        targets: list[Any] = []
        for task_name, cls in tasks.items():
            if cls.default_grader != grader:
                continue
            try:
                args = validate_args(cls.Args, dict(self.task_args.get(task_name, cls.demo_args or {})), "args")
                targets += [s.target for s in list(cls(args).dataset(self.seed))[:3]]
            except Exception:  # reported by the task checks
                continue
        return targets or list(DEFAULT_GRADER_TARGETS)

    async def _grade_all(self, grader: Grader[Any], targets: list[Any]) -> list[str]:
        assert self.manager is not None
        judge = resolve_model(self.manager, self.judge.id, dict(self.judge.options)) if self.judge else None
        services = RunServices(cache=None, read_cache=False, call_slots=asyncio.Semaphore(4))
        failures: list[str] = []
        for target in targets:
            raised: list[tuple[str, Exception]] = []
            for answer in MALFORMED_ANSWERS:
                ctx = ScoreContext(
                    sample=Sample(id="conformance", input="What is the answer?", target=target),
                    epoch=0,
                    run_seed=self.seed,
                    services=services,
                    grader_model=judge,
                    grader=grader,
                )
                shown = answer if len(answer) < 40 else answer[:20] + f"...({len(answer)} chars)"
                try:
                    grade = await grader.grade(answer, target, ctx)
                except Exception as exc:
                    raised.append((shown, exc))
                    continue
                if not isinstance(grade, Grade):
                    failures.append(f"grade({shown!r}) returned {type(grade).__name__}, not Grade")
                elif not math.isfinite(grade.value):
                    failures.append(f"grade({shown!r}) returned value {grade.value}")
            kinds = {UsageError if isinstance(exc, UsageError) else type(exc) for _, exc in raised}
            if len(raised) == len(MALFORMED_ANSWERS) and kinds == {UsageError}:
                first = raised[0][1]
                failures.append(
                    f"rejects target {_short(target)} whatever the answer ({type(first).__name__}: {first}); pass "
                    f"grader_targets={{{grader.name!r}: [...]}} with targets like those its tasks give it"
                )
            else:
                failures += [
                    f"grade({shown!r}, target={_short(target)}) raised {type(exc).__name__}: {exc}"
                    for shown, exc in raised
                ]
        return failures


async def _close(model: Any) -> None:
    await model.aclose()


async def _generate_and_close(model: Any) -> Any:
    try:
        return await model.generate(
            [Message(role="user", content="Reply with the single word: yes")],
            GenerateConfig(max_tokens=8, temperature=0.0, seed=0),
        )
    finally:
        await model.aclose()


def _normal(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _fingerprint(run: tuple[RunResult, list[SampleResult]]) -> Any:
    """What must not change between two runs of one spec: everything but ids, clocks and cache flags."""
    result, samples = run
    rows = []
    for s in sorted(samples, key=lambda s: s.key):
        calls = [
            (c.role, c.model, [m.model_dump() for m in c.messages], c.config.model_dump(), c.output) for c in s.calls
        ]
        rows.append((s.sample_id, s.epoch, s.input, s.target, s.answer, s.output, s.scores, s.error, s.metadata, calls))
    metrics = [m.model_dump() for m in result.metrics]
    return rows, metrics


def _first_difference(a: tuple[RunResult, list[SampleResult]], b: tuple[RunResult, list[SampleResult]]) -> str:
    rows_a, metrics_a = _fingerprint(a)
    rows_b, metrics_b = _fingerprint(b)
    labels = ("sample_id", "epoch", "input", "target", "answer", "output", "scores", "error", "metadata", "calls")
    for row_a, row_b in zip(rows_a, rows_b, strict=False):
        for label, x, y in zip(labels, row_a, row_b, strict=True):
            if x != y:
                return f"sample {row_a[0]} epoch {row_a[1]}: {label} {_short(x)} vs {_short(y)}"
    if len(rows_a) != len(rows_b):
        return f"{len(rows_a)} vs {len(rows_b)} samples"
    return f"metrics {_short(metrics_a)} vs {_short(metrics_b)}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 160 else text[:150] + "...'"
