"""The ingest at the end of a run, as a user meets it (issue #18): real ``emergebench run`` processes, a
real DuckDB file. The ingest process starts with a large run and waits for its result; whatever
happens to the run (it ends, fails to ingest, is interrupted with Ctrl-C or killed with SIGKILL), the
registry ends up holding what the journal holds, no ingest process is left behind and the registry is
never left locked.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from emergebench.journal import iter_journal
from emergebench_registry.finish import INLINE_BYTES
from emergebench_registry.store import Store
from filelock import FileLock
from test_registry_killed import cli_env, wait_for_lines

EMERGEBENCH = [sys.executable, "-m", "emergebench"]
FINISH = "emergebench_registry.finish"


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    except OSError:
        return []


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _children(pid: int) -> list[int]:
    out = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(proc.name))
        except (OSError, IndexError, ValueError):
            continue
    return out


def _wait_gone(pid: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while _alive(pid):
        assert time.monotonic() < deadline, f"ingest process {pid} still alive: {_cmdline(pid)}"
        time.sleep(0.05)


def _stored(home: Path, run_id: str) -> tuple[list[tuple], int]:
    with Store(home / "registry.duckdb").reader() as con:
        runs = con.execute("SELECT status, n_samples, n_expected FROM runs WHERE run_id = ?", [run_id]).fetchall()
        samples = con.execute("SELECT count(*) FROM samples WHERE run_id = ?", [run_id]).fetchall()[0][0]
    return runs, samples


def _assert_unlocked(home: Path) -> None:
    """The writer lock is free, or freed soon: a run's ingest process may still be checkpointing the run
    it stored (see finish.py), as any writer might; one that never lets go fails here."""
    lock = FileLock(str(home / "registry.duckdb") + ".lock")
    lock.acquire(timeout=60)  # raises Timeout if a process keeps holding the writer lock
    lock.release()


@contextmanager
def _slow_run(env: dict[str, str], n: int = 400) -> Iterator[subprocess.Popen[bytes]]:
    """A run of ``n`` samples taking ~n x 20 ms, in its own process group (like a terminal job);
    killed on the way out if the test left it running."""
    command = ["run", "regtest/quiz", "-m", "scripted/constant", "-M", "delay_s=0.02", "-T", f"n={n}", "-c", "1"]
    proc = subprocess.Popen(
        [*EMERGEBENCH, *command], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)


def test_the_registry_holds_a_large_run_when_the_command_exits(reg_home: Path, tmp_path: Path) -> None:
    env = cli_env(tmp_path, reg_home)
    command = ["run", "regtest/quiz", "-m", "scripted/function", "-M", "function=registry_testplugin:solve_sum"]
    proc = subprocess.run(
        [*EMERGEBENCH, *command, "-T", "n=500", "-c", "8"], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr
    (journal,) = reg_home.glob("runs/*/journal.jsonl")
    assert journal.stat().st_size > INLINE_BYTES
    run_id = journal.parent.name
    assert _stored(reg_home, run_id) == ([("complete", 500, 500)], 500)
    with Store(reg_home / "registry.duckdb").reader() as con:
        correct = con.execute("SELECT sum(value) FROM scores WHERE run_id = ? AND name = 'correct'", [run_id])
        assert correct.fetchall() == [(500.0,)]
        metric = "SELECT value FROM metrics WHERE run_id = ? AND name = 'accuracy' AND breakdown = ''"
        assert con.execute(metric, [run_id]).fetchall() == [(1.0,)]
    _assert_unlocked(reg_home)


def test_the_ingest_process_starts_with_a_large_run_and_leaves_when_it_is_killed(
    reg_home: Path, tmp_path: Path
) -> None:
    env = cli_env(tmp_path, reg_home)
    with _slow_run(env) as proc:
        journal = wait_for_lines(reg_home, 3)
        # while samples are in flight, the ingest process already waits (its imports done off the run's end)
        children = [pid for pid in _children(proc.pid) if FINISH in _cmdline(pid)]
        assert len(children) == 1, [(pid, _cmdline(pid)) for pid in _children(proc.pid)]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    _wait_gone(children[0])  # its stdin closed without a result: it leaves, storing nothing
    _assert_unlocked(reg_home)
    assert json.loads((journal.parent / "run.json").read_text())["status"] == "running"
    done = len(list(iter_journal(journal)))
    ingest = subprocess.run([*EMERGEBENCH, "ingest"], env=env, capture_output=True, text=True, timeout=300)
    assert ingest.returncode == 0, ingest.stderr
    assert _stored(reg_home, journal.parent.name) == ([("killed", done, 400)], done)


def test_ctrl_c_stores_the_interrupted_run_and_leaves_no_ingest_process(reg_home: Path, tmp_path: Path) -> None:
    env = cli_env(tmp_path, reg_home)
    with _slow_run(env) as proc:
        journal = wait_for_lines(reg_home, 3)
        children = [pid for pid in _children(proc.pid) if FINISH in _cmdline(pid)]
        assert len(children) == 1
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole foreground group
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert b"Interrupted" in err and b"Traceback" not in err and b"not added to the registry" not in err, err
    for pid in children:
        _wait_gone(pid)  # it stored the run, then checkpoints and leaves on its own
    _assert_unlocked(reg_home)
    done = len(list(iter_journal(journal)))
    assert _stored(reg_home, journal.parent.name) == ([("interrupted", done, 400)], done)


def test_a_run_whose_ingest_fails_keeps_its_exit_code_and_warns(reg_home: Path, tmp_path: Path) -> None:
    env = cli_env(tmp_path, reg_home)
    garbage = tmp_path / "not-a-registry.duckdb"
    garbage.write_bytes(b"this is not a DuckDB file" * 100)
    env["EMERGEBENCH_REGISTRY"] = str(garbage)
    command = ["run", "regtest/quiz", "-m", "scripted/function", "-M", "function=registry_testplugin:solve_sum"]
    proc = subprocess.run(
        [*EMERGEBENCH, *command, "-T", "n=400", "-c", "8"], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    (run_dir,) = reg_home.glob("runs/*")
    assert f"Warning: run {run_dir.name} was not added to the registry" in proc.stderr
    assert "emergebench registry rebuild" in proc.stderr  # the next step
    assert "Traceback" not in proc.stderr
    assert garbage.read_bytes() == b"this is not a DuckDB file" * 100


def test_the_run_process_never_imports_duckdb_nor_the_ingest_process_pyarrow(reg_home: Path, tmp_path: Path) -> None:
    """DuckDB's modules stay out of the run's memory; pyarrow (~57 MB) out of the ingest process's."""
    env = cli_env(tmp_path, reg_home)
    probe = tmp_path / "probe"
    probe.mkdir()
    seen = tmp_path / "seen"
    seen.mkdir()
    (probe / "sitecustomize.py").write_text(
        "import atexit, json, os, sys\n"
        "def _note():\n"
        f"    path = os.path.join({str(seen)!r}, str(os.getpid()))\n"
        "    modules = {m: m in sys.modules for m in ('duckdb', 'pyarrow')}\n"
        "    open(path, 'w').write(json.dumps({'argv': sys.argv, **modules}))\n"
        "atexit.register(_note)\n"
    )
    env["PYTHONPATH"] = os.pathsep.join([str(probe), env["PYTHONPATH"]])
    # as every run but a new home's first: the plugin index exists, so the run loads only what it needs
    subprocess.run([*EMERGEBENCH, "--help"], env=env, capture_output=True, check=True, timeout=300)
    for stale in seen.iterdir():
        stale.unlink()
    command = ["run", "regtest/quiz", "-m", "scripted/constant", "-T", "n=400", "-c", "8"]
    proc = subprocess.run([*EMERGEBENCH, *command], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    _assert_unlocked(reg_home)  # the ingest process may still be checkpointing: its note comes as it exits
    deadline = time.monotonic() + 60
    while len(notes := [json.loads(p.read_text()) for p in seen.iterdir()]) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    (run,) = [note for note in notes if "run" in note["argv"]]
    assert not run["duckdb"] and not run["pyarrow"], notes
    (child,) = [note for note in notes if note["argv"][1:2] == ["--wait"]]  # argv[0] is finish.py
    assert child["duckdb"] and not child["pyarrow"], notes
    (run_dir,) = reg_home.glob("runs/*")
    assert _stored(reg_home, run_dir.name) == ([("complete", 400, 400)], 400)  # ingested all the same


def test_the_ingest_process_leaves_when_the_run_dies_while_a_fork_keeps_its_stdin_open(
    reg_home: Path, tmp_path: Path
) -> None:
    """A task that forks (multiprocessing's fork start method) gives the fork the write end of the ingest
    process's stdin: the run's death then closes nothing, and the ingest process notices it has a new
    parent instead."""
    run_dir = reg_home / "runs" / "forked"
    run_dir.mkdir(parents=True)
    script = tmp_path / "dies.py"
    script.write_text(
        "import os, sys, time\n"
        "from pathlib import Path\n"
        "from types import SimpleNamespace\n"
        "from emergebench_registry import finish\n"
        f"run_dir = Path({str(run_dir)!r})\n"
        "finish.start_for(SimpleNamespace(n_expected=1000), run_dir)\n"
        "child = finish._waiting[run_dir.resolve()]\n"
        "if os.fork() == 0:  # the fork holds the pipe's write end for a minute\n"
        "    time.sleep(60)\n"
        "    os._exit(0)\n"
        "print(child.pid, flush=True)\n"
        "os._exit(0)  # the run dies without handing over a result or closing anything\n"
    )
    env = {**os.environ, "EMERGEBENCH_HOME": str(reg_home)}
    out = tmp_path / "out.txt"
    with out.open("w") as sink:  # files, not pipes: the fork and the ingest process hold them on
        proc = subprocess.Popen([sys.executable, str(script)], env=env, stdout=sink, stderr=subprocess.STDOUT)
        assert proc.wait(timeout=60) == 0, out.read_text()
    child = int(out.read_text().split()[0])
    forks = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and str(script) in _cmdline(int(p.name))]
    try:
        assert _alive(child) and forks, "the fork must still hold the pipe while the ingest process waits"
        _wait_gone(child, timeout=30)
    finally:
        for pid in forks:
            os.kill(pid, signal.SIGKILL)
    _assert_unlocked(reg_home)
    assert not (reg_home / "registry.duckdb").exists()  # it stored nothing


def _hold_after_commit(env: dict[str, str], tmp_path: Path, before: bool = False) -> Path:
    """Make the ingest process stop right after it stored the run (its COMMIT, and ``stored`` said to the
    run) and before it detaches (checkpoints) the store, or with ``before`` just before it starts storing,
    until ``release`` appears in the returned folder; it writes its pid to ``held`` there first. Through a
    sitecustomize, so the real processes run."""
    hold = tmp_path / "hold"
    probe = tmp_path / "hold-probe"
    hold.mkdir()
    probe.mkdir()
    (probe / "sitecustomize.py").write_text(
        "import os, sys, time\n"
        f"folder = {str(hold)!r}\n"
        "def hold():\n"
        "    open(os.path.join(folder, 'pid'), 'w').write(str(os.getpid()))\n"
        "    os.replace(os.path.join(folder, 'pid'), os.path.join(folder, 'held'))\n"
        "    deadline = time.monotonic() + 300  # never left behind for good\n"
        "    while not os.path.exists(os.path.join(folder, 'release')) and time.monotonic() < deadline:\n"
        "        time.sleep(0.01)\n"
        f"if {FINISH!r} in sys.orig_argv and {before!r}:\n"
        "    from emergebench_registry import ingest\n"
        "    ingest_run_dir = ingest.ingest_run_dir\n"
        "    def held(*args, **kwargs):\n"
        "        hold()\n"
        "        return ingest_run_dir(*args, **kwargs)\n"
        "    ingest.ingest_run_dir = held\n"
        f"elif {FINISH!r} in sys.orig_argv:\n"
        "    from contextlib import contextmanager\n"
        "    from emergebench_registry import store\n"
        "    attached = store.Store.attached\n"
        "    @contextmanager\n"
        "    def held(self, con):\n"
        "        with attached(self, con) as c:\n"
        "            yield c\n"
        "            hold()\n"
        "    store.Store.attached = held\n"
    )
    env["PYTHONPATH"] = os.pathsep.join([str(probe), env["PYTHONPATH"]])
    return hold


def _held_pid(hold: Path) -> int:
    deadline = time.monotonic() + 60
    while not (hold / "held").exists():
        assert time.monotonic() < deadline, "the ingest process never stored the run"
        time.sleep(0.01)
    return int((hold / "held").read_text())


def _run_400(env: dict[str, str], hold: Path) -> subprocess.CompletedProcess[str]:
    command = ["run", "regtest/quiz", "-m", "scripted/function", "-M", "function=registry_testplugin:solve_sum"]
    try:
        return subprocess.run(
            [*EMERGEBENCH, *command, "-T", "n=400", "-c", "8"], env=env, capture_output=True, text=True, timeout=300
        )
    except subprocess.TimeoutExpired:
        (hold / "release").touch()  # a run that waits for its ingest process's exit never returns here
        raise


def test_the_run_exits_once_its_ingest_committed_and_a_reader_right_after_sees_the_run(
    reg_home: Path, tmp_path: Path
) -> None:
    """The run waits for its ingest process's COMMIT, not for its checkpoint and exit (issue #18): here the
    ingest process cannot detach the store before the run has exited, and a command started then waits for
    the store and sees the whole run."""
    env = cli_env(tmp_path, reg_home)
    hold = _hold_after_commit(env, tmp_path)
    proc = _run_400(env, hold)  # returns although the ingest process is held until after it returned
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    child = _held_pid(hold)
    assert _alive(child) and FINISH in _cmdline(child)
    (run_dir,) = reg_home.glob("runs/*")
    query = ["sql", "-f", "json", "--no-scan", "SELECT run_id, status, n_samples FROM runs"]
    reader = subprocess.Popen(
        [*EMERGEBENCH, *query], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    (hold / "release").touch()
    out, err = reader.communicate(timeout=300)
    assert reader.returncode == 0, err
    assert json.loads(out) == [{"run_id": run_dir.name, "status": "complete", "n_samples": 400}]
    _wait_gone(child)
    _assert_unlocked(reg_home)


def test_an_ingest_process_killed_after_its_commit_loses_nothing(reg_home: Path, tmp_path: Path) -> None:
    """What the run was told is stored is durable: the ingest process dying before its checkpoint (SIGKILL)
    leaves the run in DuckDB's write-ahead log, which the next connection reads; the run did not warn."""
    env = cli_env(tmp_path, reg_home)
    hold = _hold_after_commit(env, tmp_path)
    proc = _run_400(env, hold)
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr, proc.stderr
    child = _held_pid(hold)
    os.kill(child, signal.SIGKILL)
    _wait_gone(child)
    assert (reg_home / "registry.duckdb.wal").exists()  # it never checkpointed
    _assert_unlocked(reg_home)
    (run_dir,) = reg_home.glob("runs/*")
    assert _stored(reg_home, run_dir.name) == ([("complete", 400, 400)], 400)


def test_the_summary_prints_while_the_ingest_process_stores_the_run(reg_home: Path, tmp_path: Path) -> None:
    """The run's own end work (closing the cache, the summary) overlaps its ingest process's work: here the
    ingest process cannot store anything before the test sees the summary, and the run still waits for it."""
    env = {**cli_env(tmp_path, reg_home), "PYTHONUNBUFFERED": "1"}
    hold = _hold_after_commit(env, tmp_path, before=True)
    command = ["run", "regtest/quiz", "-m", "scripted/function", "-M", "function=registry_testplugin:solve_sum"]
    proc = subprocess.Popen(
        [*EMERGEBENCH, *command, "-T", "n=400", "-c", "8"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = []
        while not (lines and lines[-1].startswith("run ")):  # the summary's last line: "run <id>: <folder>"
            line = proc.stdout.readline()
            assert line, f"the run exited before its summary: {lines} {proc.stderr.read() if proc.stderr else ''}"
            lines.append(line)
        child = _held_pid(hold)
        assert proc.poll() is None, "the run waits for its ingest process to store the run"
        (hold / "release").touch()
        out, err = proc.communicate(timeout=300)
    finally:
        (hold / "release").touch()
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Warning" not in err, err
    (run_dir,) = reg_home.glob("runs/*")
    assert lines[-1].startswith(f"run {run_dir.name}: ")
    _wait_gone(child)
    assert _stored(reg_home, run_dir.name) == ([("complete", 400, 400)], 400)
