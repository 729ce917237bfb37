"""Conformance: the plugin passes emergebench.testing.check_plugin (owned by the contributor-path kit)."""

from __future__ import annotations

from emergebench.conformance import DEFAULT_SUBJECTS
from emergebench.testing import check_plugin


def test_donor_game_conforms() -> None:
    # The donor-game/* policies are task-aware agents that only understand donor-game prompts, so they
    # are exercised inside the task's own runs rather than by the generic model probe.
    policies = ["donor-game/reciprocate", "donor-game/defect"]
    check_plugin("donor-game", task_models={"donor-game": [*DEFAULT_SUBJECTS, *policies]})
