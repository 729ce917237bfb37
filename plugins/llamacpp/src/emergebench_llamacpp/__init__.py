"""emergebench model provider ``llamacpp``: GGUF models in-process through xllamacpp, with the
bundled SmolLM2-135M as the offline default."""

from __future__ import annotations

from typing import Any

from emergebench import ModelProvider, hookimpl

from .model import DEFAULT_NAME, LlamaCppModel, make_llamacpp_model
from .options import OPTIONS_HELP

__all__ = ["DEFAULT_NAME", "LlamaCppModel", "make_llamacpp_model"]


@hookimpl
def register_models(register: Any) -> None:
    register(
        ModelProvider(
            prefix="llamacpp",
            factory=make_llamacpp_model,
            description="GGUF models in-process (xllamacpp); llamacpp/smollm2-135m works offline",
            known=[DEFAULT_NAME],
            open_names=True,
            options_help=OPTIONS_HELP,
        )
    )
