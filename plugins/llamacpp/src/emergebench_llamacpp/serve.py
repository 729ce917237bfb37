"""Serve a GGUF model over llama.cpp's OpenAI-compatible HTTP API on 127.0.0.1: a real server for
testing the ``openai`` provider (or any OpenAI client) offline."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .files import bundled_smollm2


@contextmanager
def serve_http(
    path: Path | None = None, *, n_ctx: int = 2048, n_parallel: int = 2, n_threads: int = 2
) -> Iterator[str]:
    """Yield the server's ``.../v1`` base URL; the bundled SmolLM2 when no path is given."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(path or bundled_smollm2())
    params.n_ctx = n_ctx
    params.n_parallel = n_parallel
    params.cpuparams.n_threads = n_threads
    params.verbosity = -1
    server = xllamacpp.Server(params)
    try:
        yield server.listening_address.rstrip("/") + "/v1"
    finally:
        del server
