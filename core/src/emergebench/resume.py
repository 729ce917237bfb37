"""Which run folder a run writes: an unfinished run of the same spec (resumed), or a new one.

Every candidate is claimed (``claim.RunClaim``) before it is looked at closely, so two processes
starting one spec at once can never both take the same folder: the loser of the claim moves on to the
next candidate or to a folder of its own.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .claim import RunClaim, writer_alive, writer_pid
from .errors import UsageError
from .journal import JOURNAL_FILE, SPEC_FILE, journal_keys, read_result
from .records import RunSpec, utcnow
from .run_ids import RUN_ID_TIME_FORMAT


@dataclass
class ChosenRun:
    claim: RunClaim
    run_id: str
    run_dir: Path
    resuming: bool


def needs_work(run_dir: Path) -> bool:
    """Whether a run folder (claimed by the caller) is unfinished: no run.json, a status other than
    complete, or a 'complete' run whose journal no longer holds every sample (damaged since)."""
    result = read_result(run_dir)
    if result is None:
        return True
    if result.status != "complete":
        return True
    keys, damaged = journal_keys(run_dir / JOURNAL_FILE, result.run_id)
    return bool(damaged) or len(keys) < result.n_expected


def candidates(runs_dir: Path, spec_id: str) -> Iterator[Path]:
    """Run folders of this spec worth a look, newest first: unfinished ones, and the newest complete one
    (re-read in case its journal was damaged since; older complete runs are superseded by it)."""
    if not runs_dir.exists():
        return
    seen_complete = False
    for run_dir in sorted((p for p in runs_dir.iterdir() if p.name.startswith(spec_id + "-")), reverse=True):
        if not (run_dir / SPEC_FILE).exists():
            continue  # not yet (or never) written: a folder being created, or not a run
        result = read_result(run_dir)
        if result is not None and result.status == "complete":
            if seen_complete:
                continue
            seen_complete = True
        yield run_dir


def find_resumable(runs_dir: Path, spec_id: str) -> Path | None:
    """The run a new run of this spec would resume, without claiming it (for plans and previews)."""
    for run_dir in candidates(runs_dir, spec_id):
        if not writer_alive(run_dir) and needs_work(run_dir):
            return run_dir
    return None


def choose_run(runs_dir: Path, spec: RunSpec, *, resume: bool, fresh: bool) -> ChosenRun:
    """Claim the run to write: the newest unfinished run of this spec nobody is writing, else a new one
    (made with its spec.json already in it)."""
    spec_id = spec.spec_id
    busy: list[Path] = []
    for run_dir in [] if fresh else candidates(runs_dir, spec_id):
        claim = RunClaim.try_claim(run_dir)
        if claim is None:
            busy.append(run_dir)
            continue
        if needs_work(run_dir):  # re-read under the claim: the last writer may have just finished
            return ChosenRun(claim, run_dir.name, run_dir, True)
        claim.release()
    if resume:
        if busy:
            pid = writer_pid(busy[0])
            who = f"process {pid}" if pid else "another process"
            raise UsageError(
                f"--resume: run {busy[0].name} is being written by {who} right now; wait for it to finish, "
                "or drop --resume to start a separate run of this spec"
            )
        raise UsageError(
            f"--resume: no unfinished run of this spec ({spec_id}) in {runs_dir}; drop --resume to start a new run"
        )
    while True:
        run_id = f"{spec_id}-{utcnow().strftime(RUN_ID_TIME_FORMAT)}-{secrets.token_hex(2)}"
        try:
            claim = RunClaim.create(runs_dir / run_id, {SPEC_FILE: spec.model_dump_json(indent=2)})
            return ChosenRun(claim, run_id, runs_dir / run_id, False)
        except FileExistsError:
            continue
