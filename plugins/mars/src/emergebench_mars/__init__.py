"""emergebench-mars: the MARS metaphysical reasoning benchmark (Wang & Song, ACL 2025) as an emergebench plugin.

Registers the tasks ``mars/event``, ``mars/inference`` and ``mars/transition`` and the floor
baseline models ``mars/majority`` and ``mars/random``.
"""

from __future__ import annotations

from typing import Any

from emergebench import hookimpl

from .baselines import PROVIDER
from .tasks import TASKS, EventTask, InferenceTask, MarsArgs, TransitionTask

__all__ = ["EventTask", "InferenceTask", "MarsArgs", "TransitionTask"]


@hookimpl
def register_tasks(register: Any) -> None:
    for task in TASKS:
        register(task)


@hookimpl
def register_models(register: Any) -> None:
    register(PROVIDER)


@hookimpl
def register_report_views(register: Any) -> None:
    from .report_views import register_views

    register_views(register)
