"""The ``-M`` options of ``openai/<name>`` models, validated so typos fail with a clear message."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from emergebench import UsageError
from pydantic import BaseModel, ConfigDict, Field

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# Local servers (vLLM, llama.cpp, Ollama) accept any key; the client insists on a non-empty one.
KEYLESS_PLACEHOLDER = "EMPTY"

OPTIONS_HELP = {
    "base_url": "endpoint, e.g. http://127.0.0.1:8080/v1 (default: OPENAI_BASE_URL or api.openai.com)",
    "api_key": "API key (default: OPENAI_API_KEY); never recorded or hashed",
    "family": "model family to record, e.g. llama-3.1 (default: guessed from the name)",
    "parameters": "parameter count to record, e.g. 8e9 (default: guessed from the name)",
    "timeout": "seconds the HTTP client waits for one response (default 600)",
    "max_connections": "HTTP connection pool size (default 256); keep above --max-concurrency",
    "batch": "true: send calls through the Batch API in waves (half price on OpenAI; raise --timeout)",
    "batch_size": "batch mode: requests per wave at most (default 1000)",
    "batch_window": "batch mode: seconds a wave waits for concurrent calls to join (default 0.5)",
    "batch_poll": "batch mode: seconds between status checks of a batch (default 5)",
}


class OpenAIOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str | None = None
    api_key: str | None = None
    family: str | None = None
    parameters: float | None = Field(default=None, gt=0)
    timeout: float = Field(default=600.0, gt=0)
    max_connections: int = Field(default=256, ge=1, le=100_000)
    batch: bool = False
    batch_size: int = Field(default=1000, ge=1, le=50_000)
    batch_window: float = Field(default=0.5, ge=0)
    batch_poll: float = Field(default=5.0, gt=0)


def resolve_base_url(options: OpenAIOptions) -> str:
    """-M base_url, else OPENAI_BASE_URL, else OpenAI's own endpoint; trailing '/' dropped."""
    raw = options.base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"-M base_url={raw!r} is not an http(s) URL: write it like http://127.0.0.1:8080/v1 "
            "or https://api.openai.com/v1"
        )
    return raw.strip().rstrip("/")


def public_endpoint(base_url: str) -> str:
    """The base URL without user:password, query or fragment: safe to record and to hash."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def public_options(options: dict[str, Any]) -> dict[str, Any]:
    """The -M options as they may be recorded: ``base_url`` in its ``public_endpoint`` form.

    The full URL (user:password@host, ?api-key=...) still reaches the model; the spec, run.json, the
    registry and every hash see only scheme, host, port and path.
    """
    url = options.get("base_url")
    if isinstance(url, str) and url.strip():
        options = {**options, "base_url": public_endpoint(url.strip())}
    return options


def resolve_api_key(options: OpenAIOptions, base_url: str) -> str:
    key = options.api_key or os.environ.get("OPENAI_API_KEY")
    if key:
        return key
    if urlsplit(base_url).hostname == urlsplit(DEFAULT_BASE_URL).hostname:
        raise UsageError(
            "no API key for api.openai.com: set the OPENAI_API_KEY environment variable (or -M api_key=...), "
            "or point -M base_url= at a local OpenAI-compatible server"
        )
    return KEYLESS_PLACEHOLDER
