"""Conformance: the plugin passes emergebench.testing.check_plugin (owned by the contributor-path kit)."""

from __future__ import annotations

from emergebench.testing import check_plugin


def test_registry_conforms() -> None:
    report = check_plugin("registry")
    assert {"sql", "sync"} <= set(report.commands)
