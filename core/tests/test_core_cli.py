"""The CLI as users meet it: real subprocesses, SIGKILL/SIGINT mid-run, resume, clear errors."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from emergebench.journal import iter_journal

TESTS = Path(__file__).resolve().parent


def eb(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emergebench", *args], capture_output=True, text=True, env=env, timeout=120
    )


def journal_lines(home: Path) -> list[Path]:
    return sorted(home.glob("runs/*/journal.jsonl"))


def wait_for_lines(home: Path, n: int, timeout: float = 60) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in journal_lines(home):
            if path.read_bytes().count(b"\n") >= n:
                return path
        time.sleep(0.02)
    raise AssertionError(f"journal never reached {n} lines")


RUN = ["run", "core-test/add", "-m", "scripted/constant", "-M", "delay_s=0.03", "-T", "n=80", "-c", "2"]


def test_sigkill_mid_run_then_resume_gives_exactly_n_distinct_samples(cli_env):
    home = Path(cli_env["EMERGEBENCH_HOME"])
    proc = subprocess.Popen(
        [sys.executable, "-m", "emergebench", *RUN], env=cli_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    path = wait_for_lines(home, 10)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    killed_at = len(list(iter_journal(path)))
    assert 10 <= killed_at < 80
    resumed = eb(cli_env, *RUN, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "80/80 samples" in resumed.stdout
    assert journal_lines(home) == [path], "resume must continue the same run, not start another"
    results = list(iter_journal(path))
    keys = [(r.sample_id, r.epoch) for r in results]
    assert len(keys) == len(set(keys)) == 80
    complete_lines = [line for line in path.read_bytes().splitlines() if line.endswith(b"}")]
    assert len(complete_lines) == 80, "no sample may be journaled twice"
    status = json.loads((path.parent / "run.json").read_text())
    assert status["status"] == "complete" and status["n_samples"] == 80


def test_ctrl_c_stops_cleanly_keeping_finished_samples(cli_env):
    home = Path(cli_env["EMERGEBENCH_HOME"])
    proc = subprocess.Popen(
        [sys.executable, "-m", "emergebench", *RUN],
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    path = wait_for_lines(home, 5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "Interrupted" in err and "re-run the same command" in err
    assert "Traceback" not in err
    status = json.loads((path.parent / "run.json").read_text())
    assert status["status"] == "interrupted"
    assert status["n_samples"] == len(list(iter_journal(path))) >= 5
    again = eb(cli_env, *RUN)
    assert again.returncode == 0 and "80/80 samples" in again.stdout and "(resumed)" not in again.stderr
    assert journal_lines(home) == [path]


def test_run_errors_are_clear_and_have_no_traceback(cli_env):
    bad_arg = eb(cli_env, "run", "core-test/add", "-m", "scripted/echo", "-T", "n=lots")
    assert bad_arg.returncode == 1
    assert "n: Input should be a valid integer" in bad_arg.stderr and "'lots'" in bad_arg.stderr
    unknown = eb(cli_env, "run", "core-test/addd", "-m", "scripted/echo")
    assert "Did you mean: core-test/add" in unknown.stderr
    malformed = eb(cli_env, "run", "core-test/add", "-m", "scripted/echo", "-T", "n")
    assert malformed.returncode == 2 and "key=value" in malformed.stderr
    for result in (bad_arg, unknown, malformed):
        assert "Traceback" not in result.stderr


def test_every_command_has_help_with_an_example(cli_env):
    top = eb(cli_env, "--help")
    commands = [line.split()[0] for line in top.stdout.split("Commands:")[1].strip().splitlines() if line.strip()]
    assert {"run", "tasks", "models", "graders", "plugins", "install", "uninstall", "demo"} <= set(commands)
    for command in ["run", "tasks", "models", "graders", "plugins", "install", "uninstall", "demo"]:
        helped = eb(cli_env, command, "--help")
        assert helped.returncode == 0 and "Example" in helped.stdout, command


def test_tasks_models_graders_json(cli_env):
    tasks = json.loads(eb(cli_env, "tasks", "--json").stdout)
    assert {"name": "core-test/add", "version": "1.0"}.items() <= next(
        t for t in tasks if t["name"] == "core-test/add"
    ).items()
    providers = {m["provider"] for m in json.loads(eb(cli_env, "models", "--json").stdout)}
    assert "scripted" in providers
    graders = {g["name"] for g in json.loads(eb(cli_env, "graders", "--json").stdout)}
    assert {"exact", "choice", "regex", "rubric"} <= graders
