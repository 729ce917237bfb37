"""One progress view for a whole sweep: runs done/running/failed/pending, samples, calls, cost, ETA."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


@dataclass
class SweepCounts:
    runs: int = 0
    skipped: int = 0
    done: int = 0
    running: int = 0
    failed: int = 0
    samples_total: int = 0
    samples_done: int = 0
    samples_failed: int = 0
    calls: int = 0
    cached: int = 0
    cost: float = 0.0
    priced: bool = False

    @property
    def pending(self) -> int:
        return self.runs - self.skipped - self.done - self.failed - self.running


def eta_seconds(done_now: int, done_at_start: int, total: int, elapsed: float) -> float | None:
    """Remaining time at this session's sample rate (samples finished before it do not count)."""
    made = done_now - done_at_start
    if made <= 0 or elapsed <= 0 or total <= done_now:
        return None
    return (total - done_now) / (made / elapsed)


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-:--:--"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class SweepView:
    """A rich progress bar on stderr (silent when stderr is not a terminal), plus one line per
    finished run, so a log of a sweep in a pipe still says what happened."""

    def __init__(self, counts: SweepCounts, *, enabled: bool | None = None) -> None:
        self.console = Console(stderr=True)
        self.enabled = self.console.is_terminal if enabled is None else enabled
        self.counts = counts
        self._start_done = counts.samples_done
        self._started = time.monotonic()
        self._progress = Progress(
            TextColumn("[bold]sweep"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[line]}"),
            TimeElapsedColumn(),
            console=self.console,
            disable=not self.enabled,
        )
        self._task = self._progress.add_task("sweep", total=max(1, counts.samples_total), line="")

    def __enter__(self) -> SweepView:
        self._progress.__enter__()
        self.refresh()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.refresh()
        self._progress.__exit__(*exc)

    def status_line(self) -> str:
        c = self.counts
        eta = eta_seconds(c.samples_done, self._start_done, c.samples_total, time.monotonic() - self._started)
        parts = [
            f"runs {c.done + c.skipped}/{c.runs} done",
            f"{c.running} running",
            f"{c.failed} failed",
            f"{c.pending} pending",
            f"{c.calls:,} calls ({c.cached:,} cached)",
        ]
        if c.samples_failed:
            parts.append(f"{c.samples_failed} failed samples")
        if c.priced:
            parts.append(f"${c.cost:.4f}")
        parts.append(f"ETA {format_duration(eta)}")
        return " | ".join(parts)

    def refresh(self) -> None:
        if self.enabled:
            self._progress.update(
                self._task,
                completed=self.counts.samples_done,
                total=max(1, self.counts.samples_total),
                line=self.status_line(),
            )

    def note(self, text: str) -> None:
        """A line above the bar (or on stderr when there is no bar)."""
        self.console.print(text, highlight=False, soft_wrap=True)
