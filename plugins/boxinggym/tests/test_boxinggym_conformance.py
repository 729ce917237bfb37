"""Conformance: the plugin passes emergebench.testing.check_plugin (owned by the contributor-path kit)."""

from __future__ import annotations

from emergebench.testing import check_plugin


def test_boxinggym_conforms() -> None:
    check_plugin("boxinggym")
