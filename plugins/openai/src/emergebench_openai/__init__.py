"""emergebench model provider ``openai``: any OpenAI-compatible chat-completions endpoint."""

from __future__ import annotations

from typing import Any

from emergebench import ModelProvider, hookimpl

from .model import OpenAIModel, make_openai_model
from .options import OPTIONS_HELP, public_options

__all__ = ["OpenAIModel", "make_openai_model"]


@hookimpl
def register_models(register: Any) -> None:
    register(
        ModelProvider(
            prefix="openai",
            factory=make_openai_model,
            description="Any OpenAI-compatible chat endpoint (OpenAI, vLLM, llama.cpp server, Ollama): -M base_url=",
            known=["gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini"],
            open_names=True,
            options_help=OPTIONS_HELP,
            public_options=public_options,
        )
    )
