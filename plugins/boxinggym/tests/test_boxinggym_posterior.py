"""The SMC posterior stays healthy where importance resampling collapsed, and agrees with quadrature.

Floors (issue 14.3): after 10 observations in every world, every tempering stage keeps an effective
sample size of at least half the particles, and at least 80% of the returned draws are distinct.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from emergebench_boxinggym.envs import ENVIRONMENTS, Environment
from emergebench_boxinggym.posterior import kish_ess, posterior_samples, total_log_lik
from scipy import stats

N = 1024
ESS_FLOOR = 0.5
DISTINCT_FLOOR = 0.8
WORLDS = [k for k, cls in ENVIRONMENTS.items() if cls.outcome != "deterministic"]


def realistic_designs(env: Environment, rng: np.random.Generator) -> list[Any]:
    """What a scientist does: explore, then concentrate where readings are informative. For location
    finding that means homing in on the strong readings near the sources, the sharpest data there is."""
    designs = [env.random_design(rng) for _ in range(4)]
    if env.key == "location_finding":
        sources = env.theta["sources"][0]
        designs += [tuple(sources[i % 3] + rng.normal(0, 0.15, 2)) for i in range(6)]
    else:
        designs += [env.random_design(rng) for _ in range(6)]
    return designs


def run_sequence(key: str, seed: int = 1) -> tuple[Environment, list[tuple[Any, Any]], list[Any]]:
    env = ENVIRONMENTS[key](np.random.default_rng(seed), phrase=False)
    rng = np.random.default_rng(seed + 100)
    data: list[tuple[Any, Any]] = []
    posts = []
    post = None
    for design in realistic_designs(env, rng):
        data.append((design, env.step(design)))
        post = posterior_samples(env, data, N, rng, previous=post)
        posts.append(post)
    return env, data, posts


@pytest.mark.parametrize("key", WORLDS)
def test_posterior_stays_healthy_after_ten_observations(key: str) -> None:
    _, _, posts = run_sequence(key)
    for step, post in enumerate(posts, start=1):
        assert post.ess >= ESS_FLOOR * N - 1e-6, (step, post.summary())
        assert post.distinct >= DISTINCT_FLOOR * N, (step, post.summary())
        assert 0.02 < post.acceptance < 0.95, (step, post.summary())


def test_the_location_sequence_is_the_hard_case() -> None:
    """Importance weights of 20,000 prior draws on this data keep a handful of draws (the issue's finding)."""
    env, data, _ = run_sequence("location_finding")
    prior = env.sample_prior(np.random.default_rng(3), 20000)
    assert kish_ess(total_log_lik(env, data, prior)) < 50


def test_hyperbolic_posterior_matches_grid_quadrature() -> None:
    env, data, posts = run_sequence("hyperbolic_discounting", seed=4)
    log_k = np.linspace(-4.25 - 5 * 0.5, -4.25 + 5 * 0.5, 400)[:, None]
    alpha = np.linspace(1e-3, 10.0, 400)[None, :]
    log_post = stats.norm.logpdf(log_k, -4.25, 0.5) + stats.halfnorm.logpdf(alpha, scale=2.0)
    for (ir, dr, days), y in data:
        p = 0.01 + 0.98 * stats.norm.cdf((dr / (1 + np.exp(log_k) * days) - ir) / alpha)
        log_post = log_post + np.log(p if y == 1 else 1 - p)
    w = np.exp(log_post - log_post.max())
    w /= w.sum()
    mean_log_k = float(np.sum(w * log_k))
    sd_log_k = float(np.sqrt(np.sum(w * (log_k - mean_log_k) ** 2)))
    mean_alpha = float(np.sum(w * alpha))
    theta = posts[-1].theta
    assert np.mean(theta["log_k"]) == pytest.approx(mean_log_k, abs=4 * sd_log_k / np.sqrt(N / 4))
    assert np.std(theta["log_k"]) == pytest.approx(sd_log_k, rel=0.1)
    assert np.mean(theta["alpha"]) == pytest.approx(mean_alpha, rel=0.1)


def test_starting_from_the_previous_posterior_matches_a_fresh_run() -> None:
    """Tempering in only the new observation targets the same posterior as a run from the prior."""
    env, data, posts = run_sequence("death_process", seed=6)
    fresh = posterior_samples(env, data, N, np.random.default_rng(9))
    a, b = posts[-1].theta["theta"], fresh.theta["theta"]
    assert np.mean(a) == pytest.approx(np.mean(b), abs=4 * np.std(b) / np.sqrt(N / 4))
    assert np.std(a) == pytest.approx(np.std(b), rel=0.1)


def test_each_experiment_records_its_posterior_health(emergebench_home: Any) -> None:
    from emergebench.journal import iter_journal
    from emergebench.runner import RunOptions, build_spec, run_sync

    spec = build_spec(
        "boxinggym/dugongs",
        "scripted/function",
        model_args={"function": "emergebench_boxinggym.scripted:constant_scientist"},
        task_args={"budgets": "0,3", "seeds": 1, "random_designs": 3, "num_evals": 2},
        seed=3,
    )
    run_sync(spec, RunOptions(runs_dir=emergebench_home / "runs", cache_path=emergebench_home / "c.db"))
    rows = list(
        iter_journal(
            next(p for p in (emergebench_home / "runs").iterdir() if not p.name.startswith(".")) / "journal.jsonl"
        )
    )
    # scoring replays each design's posterior (eig_replay) and records its health in the score details
    records = [step["posterior"] for step in rows[0].metadata["eig"]]
    assert len(records) == 3
    assert records[0]["stages"] == 0 and records[0]["acceptance"] is None  # the first design sees the prior
    for later in records[1:]:
        assert later["stages"] >= 1 and later["ess"] >= ESS_FLOOR * later["n"] - 1e-6
        assert later["distinct"] >= DISTINCT_FLOOR * later["n"]
