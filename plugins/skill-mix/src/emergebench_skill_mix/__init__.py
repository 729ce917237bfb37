"""emergebench plugin: Skill-Mix (Yu, Kaur, Gupta, Brown-Cohen, Goyal, Arora; ICLR 2024, arXiv:2310.17567).

Registers the ``skill-mix`` task and its two rubric graders, ``skill-mix/gpt4-table`` and
``skill-mix/llama2-points``.
"""

from __future__ import annotations

from typing import Any

from emergebench import hookimpl

from .graders import Gpt4TableGrader, Llama2PointsGrader
from .task import SkillMixTask

__all__ = ["Gpt4TableGrader", "Llama2PointsGrader", "SkillMixTask"]


@hookimpl
def register_tasks(register: Any) -> None:
    register(SkillMixTask)


@hookimpl
def register_graders(register: Any) -> None:
    register(Gpt4TableGrader)
    register(Llama2PointsGrader)


@hookimpl
def register_report_views(register: Any) -> None:
    from .report_views import register_views

    register_views(register)
