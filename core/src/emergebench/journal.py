"""The run journal: one JSON line per finished (sample, epoch), appended as each completes.

Each line is written with a single ``os.write`` on an ``O_APPEND`` descriptor, so a process killed at
any moment (SIGKILL included) leaves at most one torn last line, which reading skips. Lines are
keyed by (sample_id, epoch) and the first copy wins, so a journal never yields a sample twice.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from pydantic import ValidationError

from .records import RunResult, RunSpec, SampleResult

SPEC_FILE = "spec.json"
JOURNAL_FILE = "journal.jsonl"
RESULT_FILE = "run.json"


class Journal:
    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.path = run_dir / JOURNAL_FILE
        self._fd: int | None = None

    def open(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._repair_tail()
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def _repair_tail(self) -> None:
        """Terminate a torn last line so the next append starts on a line of its own."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        with open(self.path, "rb+") as handle:
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                handle.write(b"\n")

    def append(self, result: SampleResult) -> None:
        assert self._fd is not None, "journal not open"
        os.write(self._fd, result.model_dump_json().encode() + b"\n")

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def read(self) -> list[SampleResult]:
        return list(iter_journal(self.path))


def iter_journal(path: Path) -> Iterator[SampleResult]:
    """Valid, de-duplicated results; torn or invalid lines are skipped."""
    if not path.exists():
        return
    seen: set[tuple[str, int]] = set()
    with open(path, "rb") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                result = SampleResult.model_validate_json(line)
            except (ValidationError, ValueError):
                continue
            if result.key not in seen:
                seen.add(result.key)
                yield result


def write_json_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def read_spec(run_dir: Path) -> RunSpec | None:
    try:
        return RunSpec.model_validate_json((run_dir / SPEC_FILE).read_text())
    except (OSError, ValidationError, ValueError):
        return None


def read_result(run_dir: Path) -> RunResult | None:
    try:
        return RunResult.model_validate_json((run_dir / RESULT_FILE).read_text())
    except (OSError, ValidationError, ValueError):
        return None


def find_resumable(
    runs_dir: Path, spec_id: str, in_use: Callable[[RunResult], bool] = lambda result: False
) -> Path | None:
    """The newest run of this spec that did not complete and that no live process is writing."""
    if not runs_dir.exists():
        return None
    candidates = sorted((p for p in runs_dir.iterdir() if p.name.startswith(spec_id)), reverse=True)
    for run_dir in candidates:
        result = read_result(run_dir)
        if result is not None and (result.status == "complete" or in_use(result)):
            continue
        if (run_dir / SPEC_FILE).exists():
            return run_dir
    return None


def dump(value: object) -> str:
    return json.dumps(value, indent=2, default=str)
