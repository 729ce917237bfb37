"""emergebench plugin: BoxingGym, experimental design and model discovery in ten simulated worlds."""

from __future__ import annotations

from typing import Any

from emergebench import hookimpl

from .baselines import provider
from .tasks import TASKS


@hookimpl
def register_tasks(register: Any) -> None:
    for task in TASKS.values():
        register(task)


@hookimpl
def register_models(register: Any) -> None:
    register(provider())


@hookimpl
def register_report_views(register: Any) -> None:
    from .report_views import register_views

    register_views(register)
