"""Conformance: the plugin passes emergebench.testing.check_plugin (owned by the contributor-path kit)."""

from __future__ import annotations

from emergebench.testing import check_plugin

# only mars/transition has demo_args; the other two are checked on the bundled sample set too, never the Hub
SAMPLE = {"data": "sample"}


def test_mars_conforms() -> None:
    check_plugin(
        "mars",
        task_args={"mars/event": SAMPLE, "mars/inference": SAMPLE},
        check_models=[("mars/majority", {"label": "yes"}), "mars/random"],
    )
