"""The ``-M`` options of ``llamacpp/<name>`` models."""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field

OPTIONS_HELP = {
    "path": "a local .gguf file (or write the id as llamacpp/path/to/file.gguf)",
    "repo": "Hugging Face repo ORG/NAME to download the GGUF from (with -M file=)",
    "file": "the .gguf file name inside -M repo",
    "revision": "branch, tag or commit of -M repo",
    "n_ctx": "context length per parallel slot, in tokens (default 4096)",
    "n_parallel": "requests decoded together in one batch (default 2)",
    "n_threads": "CPU threads (default: the CPU count, at most 8)",
    "max_tokens": "cap on generated tokens when a task sets none (default 1024)",
    "family": "model family to record (default: from the file name)",
    "parameters": "parameter count to record, e.g. 135e6 (default: from the file name)",
    "verbose": "print llama.cpp's own log to stderr (default false)",
}


def default_threads() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


class LlamaCppOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str | None = None
    repo: str | None = Field(default=None, pattern=r"^[\w.-]+/[\w.-]+$")
    file: str | None = None
    revision: str | None = None
    n_ctx: int = Field(default=4096, ge=128, le=1_048_576)
    n_parallel: int = Field(default=2, ge=1, le=64)
    n_threads: int = Field(default_factory=default_threads, ge=1, le=512)
    max_tokens: int = Field(default=1024, ge=1)
    family: str | None = None
    parameters: float | None = Field(default=None, gt=0)
    verbose: bool = False
