"""The run journal: one JSON line per finished (sample, epoch), appended as each completes.

Each line is written with a single ``os.write`` on an ``O_APPEND`` descriptor, so a process killed at
any moment (SIGKILL included) leaves at most one torn last line, which the next writer sets aside.
Lines are keyed by (sample_id, epoch); the first copy wins unless a later one succeeds where it
failed (a resume recomputes failed samples), so a journal never yields a sample twice. Lines that do
not parse are reported by line number, never dropped without a word.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from .records import RunResult, RunSpec, SampleResult

SPEC_FILE = "spec.json"
JOURNAL_FILE = "journal.jsonl"
RESULT_FILE = "run.json"


TORN_FILE = "journal.torn"


@dataclass
class JournalRead:
    """What a journal holds: one result per (sample, epoch), and the line numbers that could not be read."""

    results: dict[tuple[str, int], SampleResult] = field(default_factory=dict)
    damaged: list[int] = field(default_factory=list)

    def describe_damage(self, path: Path) -> str | None:
        return describe_damage(path, self.damaged)


def describe_damage(path: Path, damaged: list[int]) -> str | None:
    """The warning for a journal's damaged lines (None when there are none)."""
    if not damaged:
        return None
    shown = ", ".join(str(n) for n in damaged[:10]) + (", ..." if len(damaged) > 10 else "")
    return (
        f"{path}: {len(damaged)} damaged line(s) skipped (line {shown}); "
        "their samples count as not done and a resume recomputes them"
    )


class Journal:
    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.path = run_dir / JOURNAL_FILE
        self._fd: int | None = None

    def open(self) -> str | None:
        """Open for appending; returns a note when a torn last line (a killed writer) was set aside."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        note = self._repair_tail()
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        return note

    def _repair_tail(self) -> str | None:
        """Make the next append start on a line of its own. A torn last line (a writer killed mid-write)
        is moved to ``journal.torn`` (kept, never parsed again) so it does not stay a damaged line."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return None
        with open(self.path, "rb+") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - TAIL_PROBE_BYTES))
            tail = handle.read()
            if tail.endswith(b"\n"):
                return None
            cut = tail.rfind(b"\n")
            if cut < 0 and size > TAIL_PROBE_BYTES:
                handle.write(b"\n")  # a last line longer than the probe: keep it, end it
                return None
            start = size - len(tail) + cut + 1
            handle.seek(start)
            torn = handle.read()
            if _parse_line(torn) is not None:
                handle.write(b"\n")  # complete record, only its newline missing
                return None
            with open(self.run_dir / TORN_FILE, "ab") as aside:
                aside.write(torn + b"\n")
            handle.truncate(start)
        return f"{self.path}: an unfinished last line (a writer killed mid-write) was moved to {TORN_FILE}"

    def append(self, result: SampleResult) -> None:
        """One ``os.write`` per line; a short write (disk full) is an error, never half a record."""
        assert self._fd is not None, "journal not open"
        data = result.model_dump_json().encode() + b"\n"
        written = os.write(self._fd, data)
        if written != len(data):
            raise OSError(errno.ENOSPC, f"only {written} of {len(data)} bytes of a journal line were written")

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def read(self) -> list[SampleResult]:
        return list(iter_journal(self.path))


TAIL_PROBE_BYTES = 1 << 20


def _parse_line(line: bytes) -> SampleResult | None:
    try:
        return SampleResult.model_validate_json(line)
    except (ValidationError, ValueError):
        return None


def iter_lines(path: Path, run_id: str | None = None) -> Iterator[tuple[int, SampleResult | None]]:
    """(line number, result) for every non-blank line, one at a time; the result is None for a line
    that does not parse or belongs to another run. Nothing is kept: callers fold what they need."""
    if not path.exists():
        return
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            result = _parse_line(line)
            if result is not None and run_id is not None and result.run_id != run_id:
                result = None
            yield number, result


def read_journal(path: Path, run_id: str | None = None) -> JournalRead:
    """Every readable line, keyed by (sample_id, epoch). A key's first line wins, except that a result
    without error replaces one with an error (a resume recomputes failed samples; a retry can never
    replace a good result). Lines that do not parse (or belong to another run) are listed by number
    (1-based). This holds every result: code that only needs counts uses ``journal_keys``."""
    read = JournalRead()
    for number, result in iter_lines(path, run_id):
        if result is None:
            read.damaged.append(number)
            continue
        earlier = read.results.get(result.key)
        if earlier is None or (earlier.error is not None and result.error is None):
            read.results[result.key] = result
    return read


def journal_keys(path: Path, run_id: str | None = None) -> tuple[set[tuple[str, int]], list[int]]:
    """The (sample_id, epoch) keys a journal holds and its damaged line numbers, without keeping results."""
    keys: set[tuple[str, int]] = set()
    damaged: list[int] = []
    for number, result in iter_lines(path, run_id):
        if result is None:
            damaged.append(number)
        else:
            keys.add(result.key)
    return keys, damaged


def iter_journal(path: Path) -> Iterator[SampleResult]:
    """Valid results, one per (sample, epoch) (see ``read_journal``); damaged lines are skipped."""
    yield from read_journal(path).results.values()


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


def dump(value: object) -> str:
    return json.dumps(value, indent=2, default=str)
