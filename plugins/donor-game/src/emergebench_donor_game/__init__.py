"""emergebench plugin: the iterated Donor Game with cultural evolution (Vallinder and Hughes 2024).

Registers the ``donor-game`` task and the scripted ``donor-game/<policy>`` agent models.
"""

from __future__ import annotations

from typing import Any

from emergebench import hookimpl

from .agents import provider
from .task import DonorGame

__all__ = ["DonorGame"]


@hookimpl
def register_tasks(register: Any) -> None:
    register(DonorGame)


@hookimpl
def register_models(register: Any) -> None:
    register(provider())


@hookimpl
def register_report_views(register: Any) -> None:
    from .report_views import register_views

    register_views(register)
