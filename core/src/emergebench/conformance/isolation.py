"""Every check runs in a temporary EMERGEBENCH_HOME and a private plugin manager: the user's data and
the process's own manager are never touched."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..plugins import PluginManager


@contextlib.contextmanager
def _environ(name: str, value: str) -> Iterator[None]:
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


@contextlib.contextmanager
def private_home() -> Iterator[Path]:
    """A temporary EMERGEBENCH_HOME for the duration of the check (plugins may read it at run end)."""
    with tempfile.TemporaryDirectory(prefix="emergebench-conformance-") as tmp, _environ("EMERGEBENCH_HOME", tmp):
        yield Path(tmp)


def load_isolated(names: Sequence[str]) -> PluginManager:
    """A private plugin manager that loads the built-ins and only the named entry points."""
    manager = PluginManager()
    with _environ("EMERGEBENCH_LOAD_PLUGINS", ",".join(names)):
        manager.load()
    return manager
