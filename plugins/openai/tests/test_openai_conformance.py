"""Conformance: the plugin passes emergebench.testing.check_plugin (owned by the contributor-path kit)."""

from __future__ import annotations

from emergebench.testing import ModelSpec, check_plugin
from emergebench_testing.openai_server import FakeOpenAIServer


def test_openai_conforms() -> None:
    # The provider is exercised against the plugin's own OpenAI-compatible test server on 127.0.0.1.
    with FakeOpenAIServer() as server:
        model = ModelSpec("openai/conformance-model", {"base_url": server.base_url, "api_key": "test-key"})
        check_plugin("openai", check_models=[model])
