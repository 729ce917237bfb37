"""Fault injection through the real CLI in subprocesses: a run's record never lies.

Each test injects one fault (a model that fails a share of calls, a full disk, a damaged cache, damaged
journal lines, SIGKILL at random moments, eight writers racing for one spec) and checks the final counts,
status and exit code against the rules in docs/architecture.md ("Status and exit code"), and that
nothing recorded is lost. The expected numbers are worked out by hand from the task's definition
(``core-test/add``: question ``i+i`` for i in 0..n-1).
"""

from __future__ import annotations

import json
import random
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
FLAKY = ["-m", "scripted/function", "-M", "function=coretest_plugin:fails_every_fourth"]
GOOD = ["-m", "scripted/function", "-M", "function=coretest_plugin:solve_sum"]


@pytest.fixture
def env(cli_env: dict[str, str]) -> dict[str, str]:
    return cli_env


def eb(env: dict[str, str], *args: str, file_size_limit: int | None = None) -> subprocess.CompletedProcess[str]:
    def limit() -> None:  # RLIMIT_FSIZE: a write past this size fails with EFBIG, as on a full disk
        if file_size_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.run(
        [sys.executable, "-m", "emergebench", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        preexec_fn=limit,
    )


def run_dirs(env: dict[str, str]) -> list[Path]:
    """Run folders (``.new``, where new runs are built, is not one; it must hold nothing left behind)."""
    runs = Path(env["EMERGEBENCH_HOME"]) / "runs"
    staging = runs / ".new"
    assert not staging.exists() or not any(staging.iterdir()), "a half-built run folder was left behind"
    return sorted(p for p in runs.iterdir() if p.is_dir() and not p.name.startswith("."))


def run_json(run_dir: Path) -> dict:
    return json.loads((run_dir / "run.json").read_text())


def assert_clean(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr


def journal_results(run_dir: Path, run_id: str) -> dict[tuple[str, int], dict]:
    """The journal read independently of the core's reader: lines that parse as a JSON object of this
    run; per (sample, epoch) the first line wins unless a later one succeeds where it failed."""
    results: dict[tuple[str, int], dict] = {}
    for line in (run_dir / "journal.jsonl").read_bytes().splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if not isinstance(row, dict) or row.get("run_id") != run_id or "sample_id" not in row:
            continue
        key = (row["sample_id"], row.get("epoch", 0))
        if key not in results or (results[key].get("error") and not row.get("error")):
            results[key] = row
    return results


def assert_counts_agree_with_journal(run_dir: Path) -> dict:
    """run.json's counts are exactly those of the journal's valid lines."""
    data = run_json(run_dir)
    results = journal_results(run_dir, data["run_id"])
    assert data["n_samples"] == len(results)
    assert data["n_errors"] == sum(1 for r in results.values() if r.get("error"))
    return data


# -- a model that fails a given share of calls -------------------------------------------------------


def test_a_quarter_of_samples_failing_is_partial_and_exits_1(env):
    proc = eb(env, "run", "core-test/add", *FLAKY, "-T", "n=40")
    assert_clean(proc)
    assert proc.returncode == 1
    (run_dir,) = run_dirs(env)
    data = assert_counts_agree_with_journal(run_dir)
    # i in 0..39 with i % 4 == 0: 10 samples fail, 30 succeed.
    assert (data["status"], data["n_samples"], data["n_errors"], data["n_expected"]) == ("partial", 40, 10, 40)
    assert data["errors"] == {"RuntimeError": 10}
    assert "10 of 40 sample(s) failed (10 RuntimeError)" in proc.stderr
    assert "--max-failures" in proc.stderr


@pytest.mark.parametrize(("allowance", "code"), [("10", 0), ("9", 1), ("25%", 0), ("24.9%", 1), ("100%", 0), ("0", 1)])
def test_max_failures_as_count_or_share(env, allowance, code):
    proc = eb(env, "run", "core-test/add", *FLAKY, "-T", "n=40", "--max-failures", allowance)
    assert proc.returncode == code, proc.stderr
    (run_dir,) = run_dirs(env)
    assert run_json(run_dir)["status"] == "partial", "an allowance never turns failures into 'complete'"


def test_every_sample_failing_is_failed(env):
    proc = eb(env, "run", "core-test/add", *FLAKY, "-T", "n=4", "-T", "fail_every=1")
    assert proc.returncode == 1
    (run_dir,) = run_dirs(env)
    data = assert_counts_agree_with_journal(run_dir)
    assert (data["status"], data["n_samples"], data["n_errors"]) == ("failed", 4, 4)


def test_rerun_retries_only_the_failed_samples(env):
    first = eb(env, "run", "core-test/add", *FLAKY, "-T", "n=8")
    assert first.returncode == 1
    (run_dir,) = run_dirs(env)
    # The same spec again resumes the partial run and recomputes its 2 failed samples (q0, q4); the
    # model still refuses them, so the run stays partial, and nothing else is recomputed.
    second = eb(env, "run", "core-test/add", *FLAKY, "-T", "n=8")
    assert second.returncode == 1 and run_dirs(env) == [run_dir]
    lines = (run_dir / "journal.jsonl").read_bytes().splitlines()
    assert len(lines) == 10  # 8 first results + 2 retries, each key once per attempt
    data = assert_counts_agree_with_journal(run_dir)
    assert (data["status"], data["n_samples"], data["n_errors"]) == ("partial", 8, 2)


# -- cache faults ------------------------------------------------------------------------------------


def test_damaged_cache_is_set_aside_and_the_run_completes(env):
    home = Path(env["EMERGEBENCH_HOME"])
    home.mkdir(parents=True)
    (home / "cache.sqlite").write_bytes(b"this is not a database\n" * 500)
    proc = eb(env, "run", "core-test/add", *GOOD, "-T", "n=30")
    assert_clean(proc)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("is damaged") == 1, "reported once"
    (run_dir,) = run_dirs(env)
    data = assert_counts_agree_with_journal(run_dir)
    assert (data["status"], data["n_samples"], data["n_errors"], data["model_calls"]) == ("complete", 30, 0, 30)
    assert len(data["warnings"]) == 1
    (moved,) = home.glob("cache.sqlite.damaged-*")
    assert moved.read_bytes().startswith(b"this is not a database"), "the damaged file is kept, not deleted"
    with sqlite3.connect(home / "cache.sqlite") as db:
        assert db.execute("SELECT count(*) FROM calls").fetchone()[0] == 30, "a fresh cache took the answers"
    again = eb(env, "run", "core-test/add", *GOOD, "-T", "n=30")
    assert again.returncode == 0 and "(30 from cache)" in again.stdout


def test_cache_damaged_inside_pages_is_set_aside(env):
    home = Path(env["EMERGEBENCH_HOME"])
    assert eb(env, "run", "core-test/add", *GOOD, "-T", "n=40").returncode == 0
    cache = home / "cache.sqlite"
    with sqlite3.connect(cache) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(cache.read_bytes())
    for offset in range(4096, len(data), 4096):  # every page after the header: b-tree pages destroyed
        data[offset : offset + 64] = b"\xff" * 64
    cache.write_bytes(bytes(data))
    proc = eb(env, "run", "core-test/add", *GOOD, "-T", "n=40", "--fresh")
    assert_clean(proc)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("Warning:") == 1
    newest = run_dirs(env)[-1]
    data2 = assert_counts_agree_with_journal(newest)
    assert (data2["status"], data2["n_samples"], data2["n_errors"]) == ("complete", 40, 0)


# -- a full disk -------------------------------------------------------------------------------------


def test_full_disk_for_the_cache_only_keeps_every_answer(env):
    """The cache's WAL file outgrows the file size limit before the journal does: a writer killed
    earlier left 300 KB of uncheckpointed pages in it, so this run's first commit lands past the limit.
    (The cache commits its answers in batches, so its own writes alone are smaller than the journal's.)"""
    home = Path(env["EMERGEBENCH_HOME"])
    home.mkdir(parents=True)
    killed_writer = (
        "import os, sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute('PRAGMA journal_mode=WAL'); db.execute('PRAGMA wal_autocheckpoint=0')\n"
        "db.execute('CREATE TABLE calls (key TEXT PRIMARY KEY, output TEXT NOT NULL, created REAL)')\n"
        "db.execute('BEGIN')\n"
        "db.executemany('INSERT INTO calls VALUES (?, ?, 0)', [(f'filler{i}', 'x' * 3000) for i in range(100)])\n"
        "db.execute('COMMIT')\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", killed_writer, str(home / "cache.sqlite")], check=True)
    assert (home / "cache.sqlite-wal").stat().st_size > 250_000
    proc = eb(env, "run", "core-test/add", *GOOD, "-T", "n=120", "-c", "1", file_size_limit=200_000)
    assert_clean(proc)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("caching is off") == 1, proc.stderr
    (run_dir,) = run_dirs(env)
    data = assert_counts_agree_with_journal(run_dir)
    assert (data["status"], data["n_samples"], data["n_errors"], data["model_calls"]) == ("complete", 120, 0, 120)


def test_full_disk_for_the_journal_stops_cleanly_then_resumes(env):
    proc = eb(env, "run", "core-test/add", *GOOD, "-T", "n=200", "-c", "1", file_size_limit=60_000)
    assert_clean(proc)
    assert proc.returncode == 1
    assert "stopped early" in proc.stderr and "could not be written" in proc.stderr
    assert "re-run the same command" in proc.stderr
    (run_dir,) = run_dirs(env)
    data = assert_counts_agree_with_journal(run_dir)
    assert data["status"] == "interrupted" and 0 < data["n_samples"] < 200
    assert "could not be written" in data["stop_reason"]
    kept = data["n_samples"]
    again = eb(env, "run", "core-test/add", *GOOD, "-T", "n=200", "-c", "1")
    assert again.returncode == 0, again.stderr
    assert run_dirs(env) == [run_dir]
    final = assert_counts_agree_with_journal(run_dir)
    assert (final["status"], final["n_samples"], final["n_errors"]) == ("complete", 200, 0)
    assert final["model_calls"] + final["cached_calls"] == 200
    assert final["cached_calls"] >= 0 and kept + final["model_calls"] >= 200 - final["cached_calls"]


# -- damaged journal lines ---------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_damaged_journal_line_is_reported_and_recomputed(env, where):
    assert eb(env, "run", "core-test/add", *GOOD, "-T", "n=12").returncode == 0
    (run_dir,) = run_dirs(env)
    journal = run_dir / "journal.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    index = {"start": 0, "middle": 6, "end": 11}[where]
    lost = json.loads(lines[index])["sample_id"]
    lines[index] = b'{"run_id": "garbage\xff\n'
    journal.write_bytes(b"".join(lines))
    proc = eb(env, "run", "core-test/add", *GOOD, "-T", "n=12")
    assert_clean(proc)
    assert proc.returncode == 0, proc.stderr
    assert f"(line {index + 1})" in proc.stderr
    assert run_dirs(env) == [run_dir], "a damaged complete run is resumed, not left short"
    data = assert_counts_agree_with_journal(run_dir)
    assert (data["status"], data["n_samples"], data["model_calls"] + data["cached_calls"]) == ("complete", 12, 12)
    recomputed = [
        r["sample_id"]
        for r in journal_results(run_dir, data["run_id"]).values()
        if r["started_at"] > data["started_at"]
    ]
    assert recomputed == [lost], "only the damaged sample is recomputed"


# -- SIGKILL at random moments -----------------------------------------------------------------------


KILL_ARGS = ["run", "core-test/add", "-m", "scripted/constant", "-M", "delay_s=0.002", "-T", "n=60", "-c", "3"]


def _kill_and_resume(env: dict[str, str], seed: int) -> None:
    rng = random.Random(seed)
    proc = subprocess.Popen(
        [sys.executable, "-m", "emergebench", *KILL_ARGS],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(rng.uniform(0.0, 1.2))  # anywhere from start-up to (on a fast machine) after the end
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    # The run had finished if its record says complete: the kill may land after the run ended, or
    # between its last record write and its exit (the registry's ingest, the summary), which a poll()
    # before the kill cannot see.
    runs = Path(env["EMERGEBENCH_HOME"]) / "runs"
    finished_first = runs.exists() and _recorded_status(run_dirs(env)) == "complete"
    again = eb(env, *KILL_ARGS)
    assert again.returncode == 0, (seed, again.stderr)
    assert_clean(again)
    dirs = run_dirs(env)
    # A killed run is resumed in its own folder; a run that had finished is complete, so the same command
    # starts a repeat of it (docs/architecture.md: a complete run is never resumed, only repeated).
    assert len(dirs) == (2 if finished_first else 1), (seed, finished_first, dirs)
    for run_dir in dirs:
        data = assert_counts_agree_with_journal(run_dir)
        assert (data["status"], data["n_samples"], data["n_errors"]) == ("complete", 60, 0), seed
        raw = [line for line in (run_dir / "journal.jsonl").read_bytes().splitlines() if line.strip()]
        assert len(raw) == 60, f"seed {seed}: no sample journaled twice and no damaged line left behind"


def _recorded_status(dirs: list[Path]) -> str | None:
    """The status in the only run folder's run.json (written whole by rename), None without one."""
    if len(dirs) != 1 or not (dirs[0] / "run.json").exists():
        return None
    return json.loads((dirs[0] / "run.json").read_text())["status"]


@pytest.mark.slow
def test_sigkill_at_random_points_then_resume(tmp_path, env):
    """20 seeds, 4 at a time (each in its own home): kill, resume, exactly 60 distinct good samples."""
    from concurrent.futures import ThreadPoolExecutor

    def one(seed: int) -> None:
        _kill_and_resume({**env, "EMERGEBENCH_HOME": str(tmp_path / f"home{seed}")}, seed)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one, range(20)))


def test_a_kill_after_the_run_ended_leaves_a_complete_run_and_a_repeat(env):
    """The late end of the random window above: on a fast machine the run is over before the kill lands."""
    first = eb(env, *KILL_ARGS)
    assert first.returncode == 0, first.stderr
    (done,) = run_dirs(env)
    again = eb(env, *KILL_ARGS)
    assert again.returncode == 0, again.stderr
    dirs = run_dirs(env)
    assert len(dirs) == 2 and done in dirs, "a complete run is repeated, never resumed or rewritten"
    for run_dir in dirs:
        assert assert_counts_agree_with_journal(run_dir)["status"] == "complete"


KILLED_MID_CREATE = """
import os, signal, sys
from pathlib import Path
from emergebench import claim

def killed(*args):  # SIGKILL between filling the staged folder and renaming it into place
    os.kill(os.getpid(), signal.SIGKILL)

claim.os.rename = killed
claim.RunClaim.create(Path(sys.argv[1]), {"spec.json": "{}"})
"""


def test_a_run_folder_killed_while_being_created_leaves_nothing_behind(env):
    """A SIGKILL inside ``RunClaim.create`` leaves ``runs/.new/<id>`` (claimed by nobody); the next run that
    creates a folder clears it, so the runs folder never keeps a half-built run."""
    runs = Path(env["EMERGEBENCH_HOME"]) / "runs"
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_MID_CREATE, str(runs / "0123456789abcdef-20260101T000000-dead")],
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert [p.name for p in (runs / ".new").iterdir()] == ["0123456789abcdef-20260101T000000-dead"]
    done = eb(env, "run", "core-test/add", *GOOD, "-T", "n=3")
    assert done.returncode == 0, done.stderr
    assert not (runs / ".new").exists(), "the dead creator's half-built folder was cleared"
    (run_dir,) = run_dirs(env)
    assert assert_counts_agree_with_journal(run_dir)["status"] == "complete"


# -- one run, one writer -----------------------------------------------------------------------------


@pytest.mark.slow
def test_eight_processes_of_one_spec_never_share_a_run(tmp_path, env):
    trials, processes = 50, 8
    proc = subprocess.run(
        [
            sys.executable,
            str(TESTS / "race_helper.py"),
            str(tmp_path / "race"),
            str(trials),
            str(processes),
            "--",
            "run",
            "core-test/add",
            *GOOD,
            "-T",
            "n=2",
            "-c",
            "1",
        ],
        capture_output=True,
        text=True,
        env={**env, "EMERGEBENCH_HOME": str(tmp_path / "unused")},
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    codes = json.loads(proc.stdout.strip().splitlines()[-1])
    assert codes == [[0] * processes] * trials
    for t in range(trials):
        dirs = sorted(p for p in (tmp_path / "race" / f"t{t}" / "runs").glob("[!.]*") if p.is_dir())
        assert len(dirs) == processes, f"trial {t}: {len(dirs)} run folders for {processes} processes"
        for run_dir in dirs:
            lines = (run_dir / "journal.jsonl").read_bytes().splitlines()
            assert len(lines) == 2, f"trial {t}: {run_dir.name} has {len(lines)} lines: a shared run"
            data = assert_counts_agree_with_journal(run_dir)
            assert (data["status"], data["n_samples"], data["model_calls"] + data["cached_calls"]) == (
                "complete",
                2,
                2,
            )


def test_resume_while_another_process_writes_says_so(env):
    args = ["run", "core-test/add", "-m", "scripted/constant", "-M", "delay_s=0.05", "-T", "n=400", "-c", "1"]
    writer = subprocess.Popen(
        [sys.executable, "-m", "emergebench", *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        home = Path(env["EMERGEBENCH_HOME"])
        deadline = time.monotonic() + 60
        while not list(home.glob("runs/*/journal.jsonl")) or not list(home.glob("runs/*/journal.jsonl"))[
            0
        ].read_bytes().count(b"\n"):
            assert time.monotonic() < deadline, "the writer never started"
            time.sleep(0.02)
        proc = eb(env, *args, "--resume")
        assert_clean(proc)
        assert proc.returncode == 1
        (run_dir,) = run_dirs(env)
        assert f"run {run_dir.name} is being written by process {writer.pid} right now" in proc.stderr
        assert run_dirs(env) == [run_dir], "the refused resume created nothing"
    finally:
        writer.kill()
        writer.wait(timeout=30)


def test_a_run_folder_that_cannot_be_written_is_a_clear_error(env):
    """The disk is full from the start: not even run.json fits. One clear line, no traceback."""
    proc = eb(env, "run", "core-test/add", *GOOD, "-T", "n=5", file_size_limit=100)
    assert_clean(proc)
    assert proc.returncode == 1
    assert "cannot write the run folder" in proc.stderr and "re-run the same command" in proc.stderr
    again = eb(env, "run", "core-test/add", *GOOD, "-T", "n=5")
    assert again.returncode == 0, again.stderr
    newest = run_dirs(env)[-1]
    assert assert_counts_agree_with_journal(newest)["status"] == "complete"
