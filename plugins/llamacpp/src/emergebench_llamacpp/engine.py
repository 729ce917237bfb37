"""One loaded llama.cpp server per (file, settings) per process, shared by every model object and
sample that uses it. xllamacpp's calls block but release the GIL, so they run in a thread pool
sized to the server's parallel slots: the event loop stays free and llama.cpp batches the slots."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from emergebench import ModelError


@dataclass(frozen=True)
class EngineKey:
    path: str
    n_ctx: int
    n_parallel: int
    n_threads: int
    verbose: bool


@dataclass
class Engine:
    key: EngineKey
    server: Any
    executor: ThreadPoolExecutor

    def chat(self, request: dict[str, Any]) -> dict[str, Any]:
        return self.server.handle_chat_completions(request)


_engines: dict[EngineKey, Engine] = {}
_lock = threading.Lock()


def _load(key: EngineKey) -> Engine:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = key.path
    # llama.cpp splits n_ctx across slots; the option is per slot so each request gets all of it.
    params.n_ctx = key.n_ctx * key.n_parallel
    params.n_parallel = key.n_parallel
    params.cpuparams.n_threads = key.n_threads
    params.cpuparams_batch.n_threads = key.n_threads
    if not key.verbose:
        params.verbosity = -1
    try:
        server = xllamacpp.Server(params)
    except Exception as exc:
        raise ModelError(f"llama.cpp could not load {key.path!r}: {type(exc).__name__}: {exc}") from exc
    executor = ThreadPoolExecutor(max_workers=key.n_parallel, thread_name_prefix="llamacpp")
    return Engine(key=key, server=server, executor=executor)


def get_engine(key: EngineKey) -> Engine:
    """The loaded engine for ``key``, loading it on first use (blocking: call from a thread)."""
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = _load(key)
        return engine


def loaded_engines() -> list[EngineKey]:
    with _lock:
        return list(_engines)


def unload_all() -> None:
    """Free every loaded model (tests; long-lived processes that switch models)."""
    with _lock:
        engines = list(_engines.values())
        _engines.clear()
    for engine in engines:
        engine.executor.shutdown(wait=True)
        engine.server = None
