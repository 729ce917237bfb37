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
import shutil
from pathlib import Path

LOCK_FILE = "run.lock"
STAGING_DIR = ".new"  # new run folders are built here, then renamed into the runs folder


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
    def create(cls, run_dir: Path, files: dict[str, str]) -> RunClaim:
        """Make a new run folder holding ``files``, claimed, in one step as others see it.

        The folder is built under ``<runs>/.new/`` (claimed first, then filled) and renamed into place,
        so a process killed at any moment leaves either nothing in the runs folder or a claimable run
        with its spec, never an empty or half-written run folder (at worst a leftover under ``.new``,
        which nothing reads, cleared by the next creation: ``_clear_abandoned``); ``.new`` itself is removed
        when empty. Raises FileExistsError when the name is taken.
        """
        staging = run_dir.parent / STAGING_DIR
        building = staging / run_dir.name
        _clear_abandoned(staging)
        while True:
            staging.mkdir(parents=True, exist_ok=True)
            try:
                building.mkdir()
                break
            except FileNotFoundError:
                continue  # another process removed the empty staging folder just now
        claim = cls.try_claim(building)
        if claim is None or claim.lost():
            # Another creator's _clear_abandoned claimed this folder between our lock file's creation and
            # our flock, and is removing it (or has): the caller picks another name.
            if claim is not None:
                claim.release()
            raise FileExistsError(run_dir)
        try:
            for name, text in files.items():
                (building / name).write_text(text)
            if run_dir.exists():
                raise FileExistsError(run_dir)
            os.rename(building, run_dir)  # the claim (an open descriptor) moves with the folder
        except BaseException:
            claim.release()
            shutil.rmtree(building, ignore_errors=True)
            _remove_if_empty(staging)
            raise
        _remove_if_empty(staging)  # the runs folder holds only runs between creations
        claim.run_dir = run_dir
        return claim

    def lost(self) -> bool:
        """Whether the lock file held was unlinked (its folder removed) before the claim was taken."""
        return self._fd is not None and os.fstat(self._fd).st_nlink == 0

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor drops the flock
            self._fd = None


def _clear_abandoned(staging: Path) -> None:
    """Remove folders under ``staging`` whose creator died mid-creation (SIGKILL between mkdir and rename).

    A folder is removed only while this process holds its claim, so a creator still at work (which holds
    it from just after its mkdir until the rename) is never disturbed. Only folders whose lock file holds
    a pid are looked at: a claim writes its pid once it holds the lock, so an empty or missing lock file
    is a creator about to claim (or one killed in that instant, left alone: nothing reads it).
    """
    try:
        entries = list(staging.iterdir())
    except OSError:
        return  # no staging folder: nothing was left behind
    for folder in entries:
        try:
            if (folder / LOCK_FILE).stat().st_size == 0:
                continue
        except OSError:
            continue  # no lock file yet, or the folder was renamed into place just now
        try:
            claim = RunClaim.try_claim(folder)
        except OSError:
            continue  # renamed into place (or removed) a moment ago
        if claim is None:
            continue  # its creator is alive
        try:
            shutil.rmtree(folder, ignore_errors=True)
        finally:
            claim.release()
    _remove_if_empty(staging)


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass  # not empty (another process is building a run there) or already gone


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
