"""The progress bar gets finished samples in batches (rich's update per sample was a fifth of a run's
CPU per sample on a terminal); what it shows at the end is still every sample and every failure."""

from __future__ import annotations

import io

from emergebench import progress as progress_module
from emergebench.progress import RunProgress
from rich.console import Console


def make(monkeypatch, total: int, done: int = 0) -> tuple[RunProgress, io.StringIO]:
    out = io.StringIO()
    monkeypatch.setattr(progress_module, "Console", lambda **_: Console(file=out, force_terminal=True, width=120))
    return RunProgress(total=total, done=done, enabled=True, label="t", resuming=False), out


def test_batched_updates_end_with_every_sample_and_failure(monkeypatch) -> None:
    monkeypatch.setattr(progress_module, "UPDATE_EVERY_S", 3600.0)  # nothing handed over until the end
    bar, out = make(monkeypatch, total=1000, done=10)
    with bar:
        for i in range(990):
            bar.advance(failed=i % 100 == 0)
        task = bar._progress.tasks[0]
        assert task.completed < 1000, "samples were handed to rich one by one"
    assert task.completed == 1000 and task.fields["failed"] == "10 failed"
    assert "1000/1000" in out.getvalue() and "10 failed" in out.getvalue()


def test_updates_flow_while_the_run_goes(monkeypatch) -> None:
    monkeypatch.setattr(progress_module, "UPDATE_EVERY_S", 0.0)
    bar, _ = make(monkeypatch, total=5)
    with bar:
        bar.advance(failed=False)
        bar.advance(failed=True)
        assert bar._progress.tasks[0].completed == 2
        assert bar._progress.tasks[0].fields["failed"] == "1 failed"
