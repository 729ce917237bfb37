"""A limit on model calls in flight per endpoint that holds across processes.

Each endpoint gets N slot files; a call holds one slot with ``flock`` while its request is in flight.
The kernel drops a dead process's locks, so a worker killed mid-call never leaks a slot (a semaphore
in shared memory would). Processes on other machines (Ray) use :mod:`.ray_limits` instead.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

FIRST_WAIT_S = 0.001
MAX_WAIT_S = 0.05


def endpoint_key(model: Any) -> str:
    """What a limit applies to: an HTTP model's public endpoint URL, else its provider name
    (in-process models such as llama.cpp or scripted ones)."""
    endpoint = getattr(model, "endpoint", None)
    return str(endpoint) if endpoint else str(model.info.provider)


class CallLimiter(Protocol):
    def slot(self, key: str) -> Any:
        """An async context manager held while one call to ``key`` is in flight."""


@dataclass
class EndpointLimits:
    """Calls in flight allowed per endpoint: a default for every endpoint plus exceptions."""

    default: int | None = None
    per_endpoint: dict[str, int] = field(default_factory=dict)

    def limit_for(self, key: str) -> int | None:
        return self.per_endpoint.get(key.rstrip("/"), self.default)

    def __post_init__(self) -> None:
        self.per_endpoint = {k.rstrip("/"): int(v) for k, v in self.per_endpoint.items()}
        for key, value in [("default", self.default), *self.per_endpoint.items()]:
            if value is not None and value < 1:
                raise ValueError(f"limit of calls in flight for {key!r} must be at least 1, got {value}")

    @property
    def active(self) -> bool:
        return self.default is not None or bool(self.per_endpoint)


class FileSlotLimiter:
    """Slots as lock files under ``directory``; shared by every process that opens the same directory."""

    def __init__(self, directory: Path, limits: EndpointLimits) -> None:
        self.directory = directory
        self.limits = limits
        self._fds: dict[str, list[int]] = {}
        self._held: dict[str, set[int]] = {}

    def _slots(self, key: str, n: int) -> list[int]:
        fds = self._fds.get(key)
        if fds is None:
            folder = self.directory / hashlib.sha256(key.encode()).hexdigest()[:16]
            folder.mkdir(parents=True, exist_ok=True)
            fds = self._fds[key] = [os.open(folder / f"{i}.lock", os.O_RDWR | os.O_CREAT, 0o644) for i in range(n)]
            self._held[key] = set()
        return fds

    def _try_acquire(self, key: str, fds: list[int]) -> int | None:
        held = self._held[key]
        for index, fd in enumerate(fds):
            if index in held:  # flock is per open file: our own fd would "succeed" again
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            held.add(index)
            return index
        return None

    @asynccontextmanager
    async def slot(self, key: str) -> AsyncIterator[None]:
        n = self.limits.limit_for(key)
        if n is None:
            yield
            return
        fds = self._slots(key, n)
        wait = FIRST_WAIT_S
        while (index := self._try_acquire(key, fds)) is None:
            await asyncio.sleep(wait)
            wait = min(wait * 2, MAX_WAIT_S)
        try:
            yield
        finally:
            fcntl.flock(fds[index], fcntl.LOCK_UN)
            self._held[key].discard(index)

    def close(self) -> None:
        for fds in self._fds.values():
            for fd in fds:
                os.close(fd)
        self._fds.clear()
        self._held.clear()
