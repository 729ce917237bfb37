"""Conformance: the plugin passes emergebench.testing.check_plugin (owned by the contributor-path kit)."""

from __future__ import annotations

import pytest
from emergebench.testing import check_plugin


@pytest.mark.slow
def test_llamacpp_conforms() -> None:
    # Loads the embedded SmolLM2-135M once per construction (about a second each on 2 cores).
    check_plugin("llamacpp", check_models=["llamacpp/smollm2-135m"])
