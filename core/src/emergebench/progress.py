"""A rich progress bar with counts, rate, ETA and failures; silent when not on a terminal."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class CallsColumn(ProgressColumn):
    """Model calls so far, read live at each refresh: a task whose one sample is a whole simulation
    (the Donor Game makes ~1,500 calls per sample) still shows that it is moving."""

    def __init__(self, stats: Any) -> None:
        super().__init__()
        self.stats = stats

    def render(self, task: Any) -> Text:
        calls = self.stats.calls + self.stats.cached
        return Text(f"{calls:,} calls" if calls else "", style="dim")


class RunProgress:
    def __init__(
        self, *, total: int, done: int, enabled: bool | None, label: str, resuming: bool, stats: Any = None
    ) -> None:
        console = Console(stderr=True)
        self.enabled = console.is_terminal if enabled is None else enabled
        self.failed = 0
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("[red]{task.fields[failed]}"),
            *([CallsColumn(stats)] if stats is not None else []),
            console=console,
            disable=not self.enabled,
            transient=False,
        )
        label = f"{label} (resumed)" if resuming and done else label
        self._task = self._progress.add_task(label, total=total, completed=done, failed="", rate="")
        self._start_done = done

    def __enter__(self) -> RunProgress:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._progress.__exit__(*exc)

    def advance(self, *, failed: bool) -> None:
        if failed:
            self.failed += 1
        if not self.enabled:
            return
        task = self._progress.tasks[0]
        speed = task.speed
        self._progress.update(
            self._task,
            advance=1,
            failed=f"{self.failed} failed" if self.failed else "",
            rate=f"{speed:.1f}/s" if speed else "",
        )
