"""Hook specifications. Each hook receives a ``register`` callback (simonw/llm style) so the core
validates, namespaces and de-duplicates what plugins contribute."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import pluggy

if TYPE_CHECKING:  # annotations only: importing the hook markers stays cheap
    import click

    from .grader import Grader
    from .model import ModelProvider
    from .records import RunResult
    from .task import Task

# What each ``register`` callback accepts; plugins can annotate their hook implementations with these.
RegisterTask: TypeAlias = "Callable[[type[Task[Any]]], None]"
RegisterModel: TypeAlias = "Callable[[ModelProvider], None]"
RegisterGrader: TypeAlias = "Callable[[type[Grader[Any]]], None]"

hookspec = pluggy.HookspecMarker("emergebench")
hookimpl = pluggy.HookimplMarker("emergebench")


@hookspec
def register_tasks(register: RegisterTask) -> None:
    """Register Task subclasses: ``register(MyTask)``."""


@hookspec
def register_models(register: RegisterModel) -> None:
    """Register model providers: ``register(ModelProvider(prefix, factory, ...))``."""


@hookspec
def register_graders(register: RegisterGrader) -> None:
    """Register Grader subclasses: ``register(MyGrader)``."""


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add click commands or groups to the ``emergebench`` CLI."""


@hookspec
def on_run_started(result: RunResult, run_dir: Path) -> None:
    """Called once when a run's samples are about to start, with its first RunResult (status
    ``running``, ``n_expected`` set) and its journal folder; ``on_run_finished`` follows for the same
    folder, whatever happens to the run (unless the process itself dies).

    For work that can overlap the run: the registry plugin starts its ingest process here, so its
    imports are done while samples are in flight. Keep it quick: the first sample waits for it.
    """


@hookspec
def on_run_finished(result: RunResult, run_dir: Path) -> Callable[[], object] | None:
    """Called once when a run ends, complete or not, with its RunResult and journal folder.

    The registry plugin ingests the run here; a failure in one implementation is reported and
    never loses the run, whose journal stays on disk. An implementation that hands its work to another
    process may return a function that waits for it: the run's own end work (closing the cache, the
    CLI's summary) then overlaps it, and the function is called before the run is over.
    """


@hookspec
def find_complete_runs(spec_ids: list[str]) -> dict[str, str] | None:
    """Complete runs of these specs that the plugin knows of, as spec id -> run id.

    ``emergebench sweep`` skips them. The registry answers from its store, which also holds runs
    imported or pulled from others, so a sweep does not redo work already in the pooled results.
    """


@hookspec
def register_metric_pairs(register: Any) -> None:
    """Declare metric pairs for tasks: ``register("task/name", MetricPair(headline=..., continuous=...))``.

    Tasks declare their own pairs in ``Task.metric_pairs``; this hook lets any plugin add pairs,
    including for tasks it does not own.
    """


@hookspec
def register_report_views(register: Any) -> None:
    """Contribute per-task views to ``emergebench report``: ``register(ReportView(...))``
    (``emergebench_report.views.ReportView``). Only called when a report is built."""
