"""Conformance checks for emergebench plugins.

One call, :func:`check_plugin`, tells a plugin author (and this repository's CI) whether an installed
plugin behaves as the core expects: its entry point loads, its names are valid, its tasks have versions
and strict argument models, a seeded run on scripted models is deterministic and replayable from the
cache and writes records that validate, and its graders survive malformed answers. Every check runs in
a private plugin manager and a temporary ``EMERGEBENCH_HOME``, so it never touches the user's data.

The checks live by what they check: :mod:`.entry` (entry point, hooks, commands), :mod:`.tasks`,
:mod:`.models` (model providers), :mod:`.graders`; :mod:`.runs` holds what they share.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from .entry import check_commands, check_hookimpls, find_entry_point, load_module
from .graders import check_grader
from .isolation import load_isolated, private_home
from .models import check_model, check_provider
from .report import ConformanceError, ConformanceReport, ConformanceWarning, Finding
from .runs import Check
from .specs import (
    DEFAULT_GRADER_TARGETS,
    DEFAULT_JUDGE,
    DEFAULT_SUBJECTS,
    MALFORMED_ANSWERS,
    ModelLike,
    ModelSpec,
    as_model_spec,
)
from .tasks import check_task, check_task_names

__all__ = [
    "DEFAULT_GRADER_TARGETS",
    "DEFAULT_JUDGE",
    "DEFAULT_SUBJECTS",
    "MALFORMED_ANSWERS",
    "ConformanceError",
    "ConformanceReport",
    "ConformanceWarning",
    "Finding",
    "ModelLike",
    "ModelSpec",
    "as_model_spec",
    "check_plugin",
    "load_isolated",
]


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
    with private_home() as home:
        check = Check(
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
        _check(check, also_load)
    for finding in report.warnings:
        warnings.warn(str(finding), ConformanceWarning, stacklevel=2)
    if raise_on_error and report.errors:
        raise ConformanceError(report)
    return report


def _check(check: Check, also_load: Sequence[str]) -> None:
    """Load the plugin privately, then check its tasks, model providers and graders in turn."""
    report = check.report
    name = report.plugin
    ep = find_entry_point(report, name)
    if ep is None:
        return
    module = load_module(report, ep)
    if module is None:
        return
    check_hookimpls(report, module)
    manager = check.manager = load_isolated([name, *also_load])
    if name not in manager.infos:
        for problem in manager.problems:
            if problem.plugin == name:
                report.error("entry point", problem.error)
        return
    catalog = manager.catalog
    for problem in manager.problems:
        if problem.plugin == name:
            report.error("registration", problem.error)
    tasks = {n: c for n, c in catalog.tasks.items() if c.plugin == name}
    providers = {n: p for n, p in catalog.models.items() if p.plugin == name}
    graders = {n: g for n, g in catalog.graders.items() if g.plugin == name}
    report.tasks, report.providers, report.graders = sorted(tasks), sorted(providers), sorted(graders)
    check_commands(report, manager)
    if not (tasks or providers or graders or report.commands):
        report.error("plugin", "registers no task, model provider, grader or command")
    if check.only_tasks is not None:
        missing = sorted(set(check.only_tasks) - set(tasks))
        if missing:
            report.error("tasks", f"asked to check {missing} but the plugin registers {sorted(tasks)}")
        tasks = {n: c for n, c in tasks.items() if n in check.only_tasks}
    for task_name in sorted(check.task_models):
        if task_name not in tasks:
            report.error("task_models", f"names {task_name!r}, which is not a task of this plugin")
    check_task_names(check, list(tasks))
    for task_name, task_cls in sorted(tasks.items()):
        check_task(check, task_name, task_cls)
    for prefix, provider in sorted(providers.items()):
        check_provider(check, prefix, provider)
    for spec in check.check_models:
        check_model(check, spec)
    tried = {m.id.partition("/")[0] for m in [*check.subjects, *(m for v in check.task_models.values() for m in v)]}
    if providers and not check.check_models and not tried & set(providers):
        report.warn(
            "models",
            "no model of this plugin was exercised: pass check_models=['PREFIX/NAME', ...] "
            "(models that work offline) to construct and call them",
        )
    for grader_name, grader_cls in sorted(graders.items()):
        check_grader(check, grader_name, grader_cls, tasks)
