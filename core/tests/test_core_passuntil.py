"""PassUntil: the estimators against closed forms and an independent solver, and a scripted model of
known pass probability 1/200 run 100 times through the real runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import passuntil_plugin
import pytest
from emergebench.passuntil import pooled_interval, sample_interval
from emergebench.plugins import PluginManager
from emergebench.runner import RunOptions, build_spec, run_sync

TESTS = Path(__file__).parent


@pytest.mark.parametrize("p", [1 / 200, 0.01, 0.3, 0.9])
def test_sample_interval_has_exact_coverage_of_at_least_95_percent(p: float) -> None:
    """Coverage summed over the geometric law in closed form, not simulated."""
    cap = 1000
    covered = 0.0
    for k in range(1, cap + 1):
        _, low, high = sample_interval(k, True)
        if low <= p <= high:
            covered += (1 - p) ** (k - 1) * p
    _, low, high = sample_interval(cap, False)
    if low <= p <= high:
        covered += (1 - p) ** cap
    assert covered >= 0.95


def test_sample_interval_by_hand() -> None:
    assert sample_interval(1, True) == (1.0, pytest.approx(0.025), 1.0)
    estimate, low, high = sample_interval(200, True)
    assert estimate == 0.005
    assert (1 - low) ** 200 == pytest.approx(0.975)  # P(K <= 200; low) = 2.5%
    assert (1 - high) ** 199 == pytest.approx(0.025)  # P(K >= 200; high) = 2.5%
    assert sample_interval(1000, False) == (0.0, 0.0, pytest.approx(1 - 0.025 ** (1 / 1000)))


@pytest.mark.parametrize(("passes", "attempts"), [(0, 500), (1, 200), (5, 1000), (30, 40), (7, 7)])
def test_pooled_interval_matches_an_independent_root_finder(passes: int, attempts: int) -> None:
    from scipy.optimize import brentq
    from scipy.stats import chi2

    def drop(p: float) -> float:  # log-likelihood below the maximum, minus the chi-square cut
        def ll(q: float) -> float:
            return (passes * __import__("math").log(q) if passes else 0.0) + (
                (attempts - passes) * __import__("math").log1p(-q) if attempts - passes else 0.0
            )

        return 2 * (ll(passes / attempts) - ll(p)) - chi2.ppf(0.95, 1)

    estimate, low, high = pooled_interval(passes, attempts)
    assert estimate == passes / attempts
    p_hat = passes / attempts
    assert low == (0.0 if passes == 0 else pytest.approx(brentq(drop, 1e-15, p_hat), abs=1e-9))
    assert high == (1.0 if passes == attempts else pytest.approx(brentq(drop, p_hat, 1 - 1e-15), abs=1e-9))


@pytest.fixture
def coin_manager(eb_home: Path) -> PluginManager:
    manager = PluginManager()
    manager.register_module(passuntil_plugin, "coin")
    return manager


def test_one_in_two_hundred_is_covered_in_at_least_90_of_100_seeded_runs(
    coin_manager: PluginManager, options: RunOptions
) -> None:
    truth = 1 / 200
    sample_hits = run_hits = 0
    attempts_seen = []
    for seed in range(100):
        spec = build_spec("coin/try", "coin/200", seed=seed, until_pass=1000, manager=coin_manager)
        result = run_sync(spec, options, coin_manager)
        assert result.status == "complete" and result.n_errors == 0
        journal = (options.runs_dir / result.run_id / "journal.jsonl").read_text().splitlines()
        record = json.loads(journal[0])
        scores = record["scores"]
        attempts = int(scores["passuntil_attempts"])
        attempts_seen.append(attempts)
        assert len(record["calls"]) == attempts == result.model_calls  # every attempt's call is kept
        assert scores["passed"] == scores["passuntil_passed"] == float(attempts < 1000 or scores["passed"] == 1.0)
        sample_hits += scores["passuntil_p_low"] <= truth <= scores["passuntil_p_high"]
        run_metric = next(m for m in result.metrics if m.name == "pass_probability")
        run_hits += run_metric.ci_low <= truth <= run_metric.ci_high
    assert sample_hits >= 90 and run_hits >= 90
    assert 100 < sum(attempts_seen) / len(attempts_seen) < 400  # the mean of a geometric(1/200) is 200


def test_pooled_run_estimate_over_many_samples(coin_manager: PluginManager, options: RunOptions) -> None:
    spec = build_spec("coin/try", "coin/20", task_args={"n": 30}, until_pass=400, manager=coin_manager)
    result = run_sync(spec, options, coin_manager)
    metric = next(m for m in result.metrics if m.name == "pass_probability")
    attempts = next(m for m in result.metrics if m.name == "passuntil_total_attempts").value
    passes = next(m for m in result.metrics if m.name == "passuntil_total_passes").value
    assert metric.value == passes / attempts and metric.ci_low <= 1 / 20 <= metric.ci_high
    assert metric.n == 30


def test_a_task_without_a_pass_score_is_an_error_per_sample(coin_manager: PluginManager, options: RunOptions) -> None:
    spec = build_spec("coin/no-verdict", "coin/2", until_pass=5, manager=coin_manager)
    result = run_sync(spec, options, coin_manager)
    assert result.n_errors == 1 and result.errors == {"PassUntilError": 1}


def test_cli_flags(eb_home: Path) -> None:
    code = (
        "import passuntil_plugin; from emergebench.plugins import get_manager; "
        "get_manager().register_module(passuntil_plugin, 'coin'); from emergebench.cli import main; main()"
    )
    env = dict(os.environ, EMERGEBENCH_HOME=str(eb_home), EMERGEBENCH_LOAD_PLUGINS="")
    env["PYTHONPATH"] = str(TESTS) + os.pathsep + env.get("PYTHONPATH", "")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=120)

    bad = cli("run", "coin/try", "-m", "coin/4", "--max-attempts", "10")
    assert bad.returncode == 2 and "--max-attempts only applies with --until-pass" in bad.stderr
    good = cli("run", "coin/try", "-m", "coin/4", "--until-pass", "--max-attempts", "50", "-T", "n=5")
    assert good.returncode == 0, good.stderr
    assert "pass_probability" in good.stdout
    run_json = next((eb_home / "runs").glob("*/run.json"))
    assert json.loads(run_json.read_text())["spec"]["until_pass"] == 50
