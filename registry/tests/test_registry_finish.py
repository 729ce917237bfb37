"""The ingest at the end of a run (issue #18): a journal above ``INLINE_BYTES`` is ingested by a child
process that the run waits for (so DuckDB never enters the run's process), with the same outcome and
the same warnings as in process."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from emergebench_registry import finish
from emergebench_registry.store import Store


def _children(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    started: list[list[str]] = []
    real = subprocess.run

    def recording(command: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(command, list) and "emergebench_registry.finish" in command:
            started.append(command)
        return real(command, *args, **kwargs)

    monkeypatch.setattr(finish.subprocess, "run", recording)
    return started


def test_a_large_journal_is_ingested_by_a_child_the_run_waits_for(
    reg_run, reg_store: Store, reg_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = _children(monkeypatch)
    result = reg_run(task_args={"n": 400})
    assert (reg_home / "runs" / result.run_id / "journal.jsonl").stat().st_size > finish.INLINE_BYTES
    assert [c[1:3] for c in started] == [["-m", "emergebench_registry.finish"]]
    with reg_store.reader() as con:
        rows = con.execute("SELECT status, n_samples FROM runs WHERE run_id = ?", [result.run_id]).fetchall()
        samples = con.execute("SELECT count(*) FROM samples WHERE run_id = ?", [result.run_id]).fetchall()
    assert rows == [("complete", 400)] and samples == [(400,)]


def test_a_small_journal_is_ingested_in_process(reg_run, reg_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    started = _children(monkeypatch)
    result = reg_run()
    assert started == []
    with reg_store.reader() as con:
        assert con.execute("SELECT n_samples FROM runs WHERE run_id = ?", [result.run_id]).fetchall() == [(6,)]


def test_a_child_that_cannot_ingest_warns_and_the_run_stands(
    reg_run, reg_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    garbage = tmp_path / "not-a-registry.duckdb"
    garbage.write_bytes(b"this is not a DuckDB file" * 100)
    monkeypatch.setenv("EMERGEBENCH_REGISTRY", str(garbage))
    started = _children(monkeypatch)
    result = reg_run(task_args={"n": 400})
    assert result.status == "complete" and len(started) == 1
    err = capfd.readouterr().err
    assert f"Warning: run {result.run_id} was not added to the registry" in err
    assert "Traceback" not in err
