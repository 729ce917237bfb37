"""Conformance: the plugin passes emergebench.testing.check_plugin (owned by the contributor-path kit)."""

from __future__ import annotations

from emergebench.testing import check_plugin
from emergebench_boxinggym.tasks import TASKS

# every world at its smallest meaningful size: the kit runs each task many times
TINY = {"budgets": "0,1", "num_evals": 2, "seeds": 1, "random_designs": 3, "max_tokens": 32}


def test_boxinggym_conforms() -> None:
    check_plugin("boxinggym", task_args={task.name: dict(TINY) for task in TASKS.values()}, limit=1)
