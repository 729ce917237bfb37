"""The ingest at the end of a run (issue #18): a run of ``WARM_SAMPLES`` or more starts its ingest
process as it starts and hands it the result at the end; a smaller run whose journal still grew above
``INLINE_BYTES`` starts one at the end; both are waited for (so DuckDB never enters the run's process),
with the same outcome and the same warnings as in process. Real subprocesses: test_registry_finish_cli.py."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pytest
from emergebench_registry import finish
from emergebench_registry.store import Store


def _children(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The ingest processes started (``subprocess.run`` starts its process through ``Popen`` too)."""
    started: list[list[str]] = []
    real = subprocess.Popen

    def popen(command: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(command, list) and finish.MODULE in command:
            started.append(command)
        return real(command, *args, **kwargs)

    monkeypatch.setattr(finish.subprocess, "Popen", popen)
    return started


def test_a_large_journal_is_ingested_by_a_child_the_run_waits_for(
    reg_run, reg_store: Store, reg_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = _children(monkeypatch)
    result = reg_run(task_args={"n": 400})
    assert (reg_home / "runs" / result.run_id / "journal.jsonl").stat().st_size > finish.INLINE_BYTES
    assert [c[1:4] for c in started] == [["-m", finish.MODULE, finish.WAIT_FLAG]]  # started with the run
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


def test_a_small_run_with_a_large_journal_is_ingested_by_a_child_started_at_the_end(
    reg_run, reg_store: Store, reg_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = _children(monkeypatch)
    long_reply = {"reply": "x" * 4000}
    result = reg_run(model="scripted/constant", model_args=long_reply, task_args={"n": 100})
    assert result.n_expected < finish.WARM_SAMPLES
    assert (reg_home / "runs" / result.run_id / "journal.jsonl").stat().st_size > finish.INLINE_BYTES
    assert [c[1:4] for c in started] == [["-m", finish.MODULE, str(reg_home / "runs" / result.run_id)]]
    with reg_store.reader() as con:
        assert con.execute("SELECT n_samples FROM runs WHERE run_id = ?", [result.run_id]).fetchall() == [(100,)]


def test_a_waiting_child_that_died_is_replaced_at_the_end(
    reg_run, reg_store: Store, reg_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A waiting child that is gone when the run ends (killed, out of memory) costs nothing but time."""
    real_start = finish.start_for

    def start_then_kill(result: Any, run_dir: Path) -> None:
        real_start(result, run_dir)
        child = finish._waiting[Path(run_dir).resolve()]
        child.kill()
        child.wait()

    monkeypatch.setattr(finish, "start_for", start_then_kill)
    result = reg_run(task_args={"n": 400})
    with reg_store.reader() as con:
        assert con.execute("SELECT n_samples FROM runs WHERE run_id = ?", [result.run_id]).fetchall() == [(400,)]


def test_a_failure_after_the_commit_is_not_a_failed_ingest(
    reg_run, reg_store: Store, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """Closing the store (its checkpoint) failing after the run was committed lost nothing (DuckDB replays
    its write-ahead log): no warning that the run was not added, and the run is there."""
    real = Store.writer

    @contextmanager
    def failing_close(self: Store, config: Any = None) -> Iterator[Any]:
        with real(self, config) as con:
            yield con
        raise duckdb.IOException("could not checkpoint: disk full")

    monkeypatch.setattr(Store, "writer", failing_close)
    result = reg_run()  # small: ingested in process, through Store.writer
    monkeypatch.setattr(Store, "writer", real)
    assert "not added to the registry" not in capfd.readouterr().err
    with reg_store.reader() as con:
        assert con.execute("SELECT n_samples FROM runs WHERE run_id = ?", [result.run_id]).fetchall() == [(6,)]


def test_a_failure_before_the_commit_still_warns(
    reg_run, reg_store: Store, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise duckdb.IOException("could not write: disk full")

    monkeypatch.setattr("emergebench_registry.ingest.ingest_run_dir", broken)
    result = reg_run()
    assert f"Warning: run {result.run_id} was not added to the registry" in capfd.readouterr().err


def _fake_child(script: str) -> subprocess.Popen[bytes]:
    """A process standing in for the ingest process: it reads the result from stdin, then runs ``script``."""
    code = "import os, sys, time\nsys.stdin.buffer.read()\n" + script
    return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE)


def test_the_wait_ends_at_stored_even_after_other_output_and_leaves_the_child_running(
    reg_run, reg_home: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    result = reg_run()
    child = _fake_child(
        "os.write(1, b'progress 50%\\r' * 1000)\n"  # what DuckDB's progress bar prints on a long ingest
        "os.write(1, b'stored\\n')\n"
        "os.dup2(os.open(os.devnull, os.O_WRONLY), 1)\n"
        "time.sleep(60)\n"  # its checkpoint: the run does not wait for it
    )
    try:
        finish._hand_over(child, result, reg_home / "runs" / result.run_id)()
        assert child.poll() is None, "the run waited for the ingest process to exit"
        assert child in finish._detaching
    finally:
        child.kill()
        child.wait()
    finish._reap_detached()
    assert child not in finish._detaching
    assert "Warning" not in capfd.readouterr().err


def test_a_child_that_leaves_without_saying_stored_is_reported(
    reg_run, reg_home: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    result = reg_run()
    child = _fake_child("os.write(1, b'stor')\nsys.exit(3)\n")  # died mid-word: nothing was committed
    finish._hand_over(child, result, reg_home / "runs" / result.run_id)()
    assert child.returncode == 3
    err = capfd.readouterr().err
    assert f"Warning: run {result.run_id} was not added to the registry" in err and "code 3" in err
