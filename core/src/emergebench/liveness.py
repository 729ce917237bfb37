"""Whether a run's writer is still alive, in a module of its own so the registry's ingest can ask
without importing the runner (rich, the plugin manager, the cache: a third of an ingest process's
start-up)."""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path

from .claim import writer_alive
from .records import RunResult


def hostname_hash() -> str:
    """A short hash of this machine's name: enough to tell local runs apart, revealing nothing."""
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:12]


def run_is_alive(result: RunResult, run_dir: Path | None = None) -> bool:
    """Whether a run whose status is 'running' still has a live writer.

    The writer's claim (an flock on ``run.lock``, see ``claim``) decides; only a run from before run
    claims falls back to the recorded pid. A run written on another machine is assumed alive.
    """
    if result.status != "running":
        return False
    if result.provenance.hostname_hash not in (None, hostname_hash()):
        return True  # written elsewhere: we cannot tell, assume it is alive
    if run_dir is not None:
        alive = writer_alive(run_dir)
        if alive is not None:
            return alive
    if result.pid is None:
        return False
    try:
        os.kill(result.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
