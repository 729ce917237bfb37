"""Claiming a run folder: one writer per run, for the writer's whole life.

A run folder is claimed by an exclusive ``flock`` on ``<run>/run.lock``, taken before anything is
written and held until the run ends. The kernel releases it when the writer exits, however it exits
(SIGKILL included), so a lock that cannot be taken means a live writer, and a free lock means none:
unlike a pid check, this cannot be fooled by a reused pid or by the moment between creating a folder
and writing its run.json. The lock file is never deleted (deleting a locked file would let a second
process lock a new file of the same name).
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path

LOCK_FILE = "run.lock"


class RunClaim:
    """An exclusive, non-blocking claim on one run folder; ``release()`` (or process exit) frees it."""

    def __init__(self, run_dir: Path, fd: int) -> None:
        self.run_dir = run_dir
        self._fd: int | None = fd

    @classmethod
    def try_claim(cls, run_dir: Path) -> RunClaim | None:
        """The claim, or None when another process (or another claim in this one) holds it."""
        fd = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return None
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return cls(run_dir, fd)

    @classmethod
    def create(cls, run_dir: Path) -> RunClaim:
        """Make a new run folder (it must not exist) and claim it before anything else can see it."""
        run_dir.parent.mkdir(parents=True, exist_ok=True)
        run_dir.mkdir()
        claim = cls.try_claim(run_dir)
        assert claim is not None, "a folder made a moment ago by this process cannot be claimed elsewhere"
        return claim

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor drops the flock
            self._fd = None


def writer_alive(run_dir: Path) -> bool | None:
    """Whether a process holds the run's claim: True/False, or None when the run has no lock file
    (written by an emergebench older than run claims, or never claimed)."""
    try:
        fd = os.open(run_dir / LOCK_FILE, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError:
        return True  # cannot even look: do not treat the run as abandoned
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # also drops the shared lock if it was taken
    return False


def writer_pid(run_dir: Path) -> int | None:
    """The pid the current (or last) writer recorded in the lock file, for messages only."""
    try:
        return int((run_dir / LOCK_FILE).read_text().strip() or 0) or None
    except (OSError, ValueError):
        return None
