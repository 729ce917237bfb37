"""Cost: calls priced from a user price file, run and sweep totals, and --cost-limit stopping a run or
a sweep before the call that would pass the limit, then resuming when the limit is raised."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from emergebench.journal import iter_journal, read_result

TESTS = Path(__file__).resolve().parent
# testtask/qa prompts are "What is A + B? Reply with the number only.": 10 words, which the scripted
# models count as 10 input tokens. At $1,000,000 per 1M input tokens, every call costs exactly $10.
PRICES = '[models."scripted/*"]\ninput = 1000000\noutput = 0\n'


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "prices.toml").write_text(PRICES)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EMERGEBENCH_", "SWEEP_"))}
    env.update(
        PYTHONPATH=str(TESTS),
        EMERGEBENCH_HOME=str(tmp_path / "home"),
        EMERGEBENCH_LOAD_PLUGINS="testtask,registry",
        EMERGEBENCH_PRICES=str(tmp_path / "prices.toml"),
        SWEEP_CALL_LOG=str(tmp_path / "calls.log"),
    )
    return env


def eb(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emergebench", *args], capture_output=True, text=True, env=env, timeout=240
    )


def runs(env: dict[str, str]) -> list[Path]:
    return sorted(p for p in (Path(env["EMERGEBENCH_HOME"]) / "runs").iterdir() if not p.name.startswith("."))


RUN = ["run", "testtask/qa", "-m", "scripted/function", "-M", "function=sweep_helpers:model_a", "-T", "n=8", "-c", "1"]


def test_run_stops_before_passing_the_limit_and_resumes_when_it_is_raised(env):
    first = eb(env, *RUN, "--cost-limit", "45")
    assert first.returncode == 3, first.stderr
    assert "cost-limit" in first.stderr and "Traceback" not in first.stderr
    (run_dir,) = runs(env)
    result = read_result(run_dir)
    # $0 -> 10 -> 20 -> 30 -> 40; the fifth call would make $50 > $45
    assert (result.status, result.stopped_by, result.n_samples) == ("interrupted", "cost_limit", 4)
    assert result.cost_usd == pytest.approx(40.0)
    calls = [c for r in iter_journal(run_dir / "journal.jsonl") for c in r.calls]
    assert [c.cost_usd for c in calls] == [pytest.approx(10.0)] * 4

    second = eb(env, *RUN, "--cost-limit", "100")
    assert second.returncode == 0, second.stderr
    assert runs(env) == [run_dir]  # resumed, not restarted
    result = read_result(run_dir)
    assert (result.status, result.n_samples, result.stopped_by) == ("complete", 8, None)
    assert result.cost_usd == pytest.approx(80.0)
    assert sum(Counter(Path(env["SWEEP_CALL_LOG"]).read_text().splitlines()).values()) == 8

    listed = json.loads(eb(env, "runs", "--format", "json").stdout)
    assert [row["cost_usd"] for row in listed] == [pytest.approx(80.0)]


def test_sweep_stops_at_the_limit_then_finishes_without_repeating_a_call(env, tmp_path):
    sweep = tmp_path / "sweep.yaml"
    entry = "  - {{id: scripted/function, args: {{function: 'sweep_helpers:{}'}}}}\n"
    models = "".join(entry.format(m) for m in ("model_a", "model_b"))
    sweep.write_text("models:\n" + models + "tasks:\n  - {name: testtask/qa, args: {n: 8}}\n")
    first = eb(env, "sweep", str(sweep), "--max-runs", "1", "-c", "1", "--cost-limit", "75", "--json")
    assert first.returncode == 3, first.stderr
    outcome = json.loads(first.stdout)
    # 7 calls ($70) fit; the 8th would make $80 > $75; the second run never starts
    assert [(r["status"], r["samples"]) for r in outcome["runs"]] == [("interrupted", 7), ("pending", 0)]
    assert outcome["runs"][0]["cost_usd"] == pytest.approx(70.0)

    second = eb(env, "sweep", str(sweep), "--max-runs", "1", "-c", "1", "--cost-limit", "200", "--json")
    assert second.returncode == 0, second.stderr
    outcome = json.loads(second.stdout)
    assert [(r["status"], r["samples"]) for r in outcome["runs"]] == [("complete", 8), ("complete", 8)]
    assert sum(r["cost_usd"] for r in outcome["runs"]) == pytest.approx(160.0)
    assert len(runs(env)) == 2
    calls = Counter(Path(env["SWEEP_CALL_LOG"]).read_text().splitlines())
    assert sum(calls.values()) == 16 and max(calls.values()) == 1
