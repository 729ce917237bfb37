"""pytest plugin and conformance kit for emergebench plugin authors (registered via ``pytest11``).

Installed with the core, so any plugin's tests get these fixtures without a conftest:

- ``emergebench_home``: an isolated ``EMERGEBENCH_HOME`` (runs, cache, registry) for one test;
- ``emergebench_plugins``: a temporary plugin registry; add tasks, graders, providers or modules;
- ``emergebench_scripted``: builders of scripted model specs (constant, cycle, random, echo, function);
- ``emergebench_run``: run a task on a model in-process and get its result and sample records;
- ``emergebench_cli``: invoke the ``emergebench`` CLI in-process (click's CliRunner).

and :func:`check_plugin` (re-exported from :mod:`emergebench.conformance`) checks a whole plugin.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from .conformance import (
    ConformanceError,
    ConformanceReport,
    ConformanceWarning,
    ModelLike,
    ModelSpec,
    as_model_spec,
    check_plugin,
)
from .grader import Grader
from .hookspecs import hookimpl
from .model import ModelProvider
from .records import GenerateConfig, Message, Metric, RunResult, SampleResult
from .task import Task

__all__ = [
    "CliHarness",
    "ConformanceError",
    "ConformanceReport",
    "ConformanceWarning",
    "ModelSpec",
    "RunOutcome",
    "Scripted",
    "TemporaryPlugins",
    "check_plugin",
    "run_task",
]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: end-to-end tests that load a real model or build wheels")


@pytest.fixture
def emergebench_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An isolated EMERGEBENCH_HOME (runs, cache, registry) for one test."""
    home = tmp_path / "emergebench-home"
    monkeypatch.setenv("EMERGEBENCH_HOME", str(home))
    from .plugins import reset_manager

    reset_manager()
    yield home
    reset_manager()


# -- scripted models ------------------------------------------------------------------------------


class Scripted:
    """Builders of scripted model specs, so tests say what the model replies, not how to spell -M."""

    @staticmethod
    def constant(reply: str) -> ModelSpec:
        return ModelSpec("scripted/constant", {"reply": reply})

    @staticmethod
    def cycle(replies: Sequence[str]) -> ModelSpec:
        if not replies:
            raise ValueError("Scripted.cycle needs at least one reply")
        return ModelSpec("scripted/cycle", {"replies": list(replies)})

    @staticmethod
    def random(choices: Sequence[str]) -> ModelSpec:
        if not choices:
            raise ValueError("Scripted.random needs at least one choice")
        return ModelSpec("scripted/random", {"choices": list(choices)})

    @staticmethod
    def echo() -> ModelSpec:
        return ModelSpec("scripted/echo")

    @staticmethod
    def function(func: Callable[[list[Message], GenerateConfig], str]) -> ModelSpec:
        """A model answering with ``func(messages, config)``; it must be a module-level function so
        the run spec can name it as ``module:qualname``."""
        module, qualname = getattr(func, "__module__", None), getattr(func, "__qualname__", "")
        if not module or "<" in qualname:
            raise ValueError(f"Scripted.function needs a module-level function, got {func!r}")
        return ModelSpec("scripted/function", {"function": f"{module}:{qualname}"})


@pytest.fixture
def emergebench_scripted() -> type[Scripted]:
    """Builders of scripted model specs: ``emergebench_scripted.constant("B")``."""
    return Scripted


# -- a temporary plugin registry -------------------------------------------------------------------


class TemporaryPlugins:
    """The process-wide plugin manager, rebuilt for one test with only the built-ins, the installed
    plugins named in ``load_installed``, and whatever the test adds."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch
        self._added: dict[str, list[Any]] = {}
        self.load_installed()

    def load_installed(self, *names: str) -> None:
        """Load these installed entry points (none by default); forgets what was added so far."""
        from .plugins import get_manager, reset_manager

        self._monkeypatch.setenv("EMERGEBENCH_LOAD_PLUGINS", ",".join(names))
        reset_manager()
        self._added = {}
        self.manager = get_manager()
        self.manager.load()

    def add(
        self, *items: type[Task[Any]] | type[Grader[Any]] | ModelProvider | ModuleType, plugin: str = "local"
    ) -> None:
        """Register tasks, graders, model providers or whole plugin modules under plugin ``plugin``."""
        modules = [i for i in items if isinstance(i, ModuleType)]
        for module in modules:
            self.manager.register_module(module, name=module.__name__ if plugin == "local" else plugin)
        loose = [i for i in items if not isinstance(i, ModuleType)]
        if not loose:
            return
        if plugin in self._added:
            self.manager.unregister(plugin)
        self._added.setdefault(plugin, []).extend(loose)
        self.manager.register_module(_bundle(self._added[plugin]), name=plugin)

    @property
    def catalog(self) -> Any:
        return self.manager.catalog


def _bundle(items: list[Any]) -> Any:
    """A plugin object whose hooks register exactly ``items``."""
    tasks = [i for i in items if isinstance(i, type) and issubclass(i, Task)]
    graders = [i for i in items if isinstance(i, type) and issubclass(i, Grader)]
    providers = [i for i in items if isinstance(i, ModelProvider)]
    unknown = [i for i in items if i not in tasks and i not in graders and i not in providers]
    if unknown:
        raise TypeError(
            f"cannot register {unknown[0]!r}: pass Task or Grader subclasses, ModelProvider(...) or modules"
        )

    class Bundle:
        @staticmethod
        @hookimpl
        def register_tasks(register: Any) -> None:
            for task in tasks:
                register(task)

        @staticmethod
        @hookimpl
        def register_graders(register: Any) -> None:
            for grader in graders:
                register(grader)

        @staticmethod
        @hookimpl
        def register_models(register: Any) -> None:
            for provider in providers:
                register(provider)

    return Bundle


@pytest.fixture
def emergebench_plugins(emergebench_home: Path, monkeypatch: pytest.MonkeyPatch) -> TemporaryPlugins:
    """A temporary registry: ``emergebench_plugins.add(MyTask)``, then run it or call the CLI."""
    return TemporaryPlugins(monkeypatch)


# -- running tasks ----------------------------------------------------------------------------------


@dataclass
class RunOutcome:
    """A finished run: its summary, its per-sample records (in sample order) and its folder."""

    result: RunResult
    samples: list[SampleResult]
    run_dir: Path

    def metric(self, name: str, group: str | None = None) -> Metric:
        for m in self.result.metrics:
            if m.name == name and m.group == group:
                return m
        have = [(m.name, m.group) for m in self.result.metrics]
        raise KeyError(f"no metric {name!r} (group {group!r}) in this run; it has {have}")

    @property
    def answers(self) -> list[str | None]:
        return [s.answer for s in self.samples]


def run_task(
    task: str,
    model: ModelLike = "scripted/echo",
    *,
    task_args: Mapping[str, Any] | None = None,
    grader_model: ModelLike | None = None,
    grader: str | None = None,
    generate: GenerateConfig | None = None,
    limit: int | None = None,
    seed: int = 0,
    epochs: int = 1,
    use_cache: bool = True,
    home: Path | None = None,
) -> RunOutcome:
    """Run ``task`` on ``model`` with the current plugin manager; files go under ``home``
    (default: ``EMERGEBENCH_HOME``)."""
    from . import paths
    from .journal import iter_journal
    from .runner import RunOptions, build_spec, run_sync

    subject = as_model_spec(model)
    judge = as_model_spec(grader_model) if grader_model is not None else None
    spec = build_spec(
        task,
        subject.id,
        task_args=dict(task_args or {}),
        model_args=dict(subject.options),
        generate=generate,
        grader=grader,
        grader_model=judge.id if judge else None,
        grader_model_args=dict(judge.options) if judge else None,
        seed=seed,
        limit=limit,
        epochs=epochs,
    )
    base = home or paths.home()
    options = RunOptions(use_cache=use_cache, progress=False, runs_dir=base / "runs", cache_path=base / "cache.sqlite")
    result = run_sync(spec, options)
    run_dir = base / "runs" / result.run_id
    order = {sid: i for i, sid in enumerate(_dataset_order(spec.task, spec.task_args, seed))}
    journal = iter_journal(run_dir / "journal.jsonl")
    samples = sorted(journal, key=lambda s: (order.get(s.sample_id, len(order)), s.sample_id, s.epoch))
    return RunOutcome(result, samples, run_dir)


def _dataset_order(task: str, task_args: dict[str, Any], seed: int) -> list[str]:
    """Sample ids in the task's dataset order (the journal holds them in finishing order)."""
    from .plugins import get_manager

    cls = get_manager().catalog.task(task)
    return [s.id for s in cls(cls.Args.model_validate(task_args)).dataset(seed)]


@pytest.fixture
def emergebench_run(emergebench_home: Path) -> Callable[..., RunOutcome]:
    """``emergebench_run("my-task", emergebench_scripted.constant("B"), limit=2)`` -> RunOutcome."""

    def run(task: str, model: ModelLike = "scripted/echo", **kwargs: Any) -> RunOutcome:
        return run_task(task, model, home=emergebench_home, **kwargs)

    return run


# -- the CLI ------------------------------------------------------------------------------------------


class CliHarness:
    """Invokes ``emergebench`` in-process; ``ok(...)`` also asserts success and returns the output."""

    def __init__(self) -> None:
        from click.testing import CliRunner

        self.runner = CliRunner()

    def invoke(self, *args: str, input: str | None = None, env: Mapping[str, str] | None = None) -> Any:
        from .cli import cli

        return self.runner.invoke(cli, list(args), input=input, env=dict(env or {}), catch_exceptions=True)

    def ok(self, *args: str, **kwargs: Any) -> str:
        result = self.invoke(*args, **kwargs)
        if result.exit_code != 0:
            detail = (
                f"\n{result.exception!r}" if result.exception and not isinstance(result.exception, SystemExit) else ""
            )
            raise AssertionError(f"emergebench {' '.join(args)} exited {result.exit_code}:\n{result.output}{detail}")
        return str(result.output)

    def fails(self, *args: str, **kwargs: Any) -> str:
        """Assert the command fails with a message (no traceback) and return that message."""
        result = self.invoke(*args, **kwargs)
        if result.exit_code == 0:
            raise AssertionError(f"emergebench {' '.join(args)} succeeded but was expected to fail:\n{result.output}")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"emergebench {' '.join(args)} crashed with {result.exception!r}")
        return str(result.output)


@pytest.fixture
def emergebench_cli(emergebench_home: Path, monkeypatch: pytest.MonkeyPatch) -> CliHarness:
    """The CLI over an isolated home; plugin commands are re-read from the current registry."""
    from .cli import cli

    monkeypatch.setattr(cli, "commands", dict(cli.commands))
    return CliHarness()
