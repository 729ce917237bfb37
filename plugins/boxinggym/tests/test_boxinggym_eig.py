"""EIG estimators against exact values, the SIR posterior against quadrature, and EIG regret."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from emergebench_boxinggym.eig import (
    EIGSettings,
    count_logpmf_table,
    eig_binary,
    eig_counts,
    eig_nested,
    eig_paper,
    step_eig,
)
from emergebench_boxinggym.envs.base import Environment, Params
from emergebench_boxinggym.envs.death_process import DeathProcess
from emergebench_boxinggym.envs.priors import Normal
from emergebench_boxinggym.posterior import posterior_samples
from scipy import integrate, stats


class GaussianToy(Environment):
    """theta ~ N(0, s^2), y ~ N(d * theta, 1): EIG(d) = 0.5 log(1 + d^2 s^2) exactly."""

    key = "toy"
    title = "toy"
    outcome = "continuous"
    S = 1.5
    priors = {"theta": Normal(0.0, S)}

    def sample_prior(self, rng: np.random.Generator, n: int) -> Params:
        return {"theta": rng.normal(0, self.S, n)}

    def simulate(self, theta: Params, design: Any, rng: np.random.Generator) -> np.ndarray:
        return rng.normal(design * theta["theta"], 1.0)

    def log_lik_matrix(self, theta: Params, design: Any, ys: np.ndarray) -> np.ndarray:
        return stats.norm.logpdf(np.asarray(ys).reshape(-1, 1), design * theta["theta"][None, :], 1.0)

    def validate(self, text: str) -> Any:
        return float(text)

    def random_design(self, rng: np.random.Generator) -> Any:
        return float(rng.uniform(0, 1))

    def format_design(self, design: Any) -> str:
        return str(design)

    def format_observation(self, y: Any) -> str:
        return str(y)

    def description(self, include_prior: bool) -> str:
        return "toy"

    def design_instructions(self, include_prior: bool) -> str:
        return "toy"


def test_nested_estimator_matches_conjugate_gaussian() -> None:
    env = GaussianToy(np.random.default_rng(0))
    rng = np.random.default_rng(1)
    theta = env.sample_prior(rng, 4000)
    for d in (0.5, 1.0):
        exact = 0.5 * np.log(1 + d**2 * GaussianToy.S**2)
        est = eig_nested(env, theta, d, rng, n_outer=2000)
        assert est <= np.log(4000) + 1e-9  # the outer draw in the inner set bounds it by log N
        assert est == pytest.approx(exact, abs=0.04)


def test_conjugate_posterior_shrinks_eig() -> None:
    """After observing y at d=1 the posterior variance is s^2/(1+s^2): EIG follows the same formula."""
    env = GaussianToy(np.random.default_rng(0))
    rng = np.random.default_rng(2)
    post = posterior_samples(env, [(1.0, 0.7)], 4000, rng)
    var = GaussianToy.S**2 / (1 + GaussianToy.S**2)
    assert np.var(post.theta["theta"]) == pytest.approx(var, rel=0.08)
    assert np.mean(post.theta["theta"]) == pytest.approx(0.7 * var, abs=0.05)
    exact = 0.5 * np.log(1 + var)
    assert eig_nested(env, post.theta, 1.0, rng, n_outer=2000) == pytest.approx(exact, abs=0.04)


def test_paper_estimator_is_the_separate_inner_nmc() -> None:
    env = GaussianToy(np.random.default_rng(0))
    rng = np.random.default_rng(3)
    theta = env.sample_prior(rng, 1000 * 51)
    exact = 0.5 * np.log(1 + GaussianToy.S**2)
    assert eig_paper(env, theta, 1.0, rng, 1000, 50) == pytest.approx(exact, abs=0.08)


def test_binary_closed_form_two_point_prior() -> None:
    p = np.array([0.2] * 300 + [0.9] * 700)
    h = lambda q: -(q * np.log(q) + (1 - q) * np.log(1 - q))  # noqa: E731
    exact = h(0.3 * 0.2 + 0.7 * 0.9) - (0.3 * h(0.2) + 0.7 * h(0.9))
    assert eig_binary(p) == pytest.approx(exact, abs=1e-12)


def test_count_sum_over_support_two_point_prior() -> None:
    lam = np.array([2.0] * 500 + [7.0] * 500)
    support = np.arange(0, 80)
    logpmf = stats.poisson.logpmf(support[None, :], lam[:, None])
    pa, pb = stats.poisson.pmf(support, 2.0), stats.poisson.pmf(support, 7.0)
    m = 0.5 * (pa + pb)
    exact = 0.5 * np.sum(pa * np.log(pa / m)) + 0.5 * np.sum(pb * np.log(pb / m))
    assert eig_counts(logpmf) == pytest.approx(exact, abs=1e-9)


def test_death_process_smc_posterior_matches_quadrature() -> None:
    env = DeathProcess(np.random.default_rng(0))
    data = [(0.5, 20), (1.2, 33)]
    post = posterior_samples(env, data, 4000, np.random.default_rng(4))
    prior = stats.truncnorm(-1, 1, loc=1, scale=1)

    def unnorm(t: float) -> float:
        return prior.pdf(t) * np.prod([stats.binom.pmf(y, 50, 1 - np.exp(-t * x)) for x, y in data])

    z = integrate.quad(unnorm, 0, 2)[0]
    mean = integrate.quad(lambda t: t * unnorm(t), 0, 2)[0] / z
    var = integrate.quad(lambda t: (t - mean) ** 2 * unnorm(t), 0, 2)[0] / z
    assert np.mean(post.theta["theta"]) == pytest.approx(mean, abs=0.01)
    assert np.std(post.theta["theta"]) == pytest.approx(np.sqrt(var), rel=0.05)


def test_death_count_eig_matches_nested_estimate() -> None:
    env = DeathProcess(np.random.default_rng(0))
    rng = np.random.default_rng(5)
    theta = env.sample_prior(rng, 3000)
    exact_given_samples = eig_counts(*count_logpmf_table(env, theta, 0.8))
    assert eig_nested(env, theta, 0.8, rng, n_outer=3000) == pytest.approx(exact_given_samples, abs=0.03)


def test_regret_of_known_optimal_design_is_not_positive_and_random_regret_is() -> None:
    """EIG of the toy rises with |d|, so d=1 beats every random design in [0, 1]."""
    env = GaussianToy(np.random.default_rng(0))
    settings = EIGSettings(n_posterior=1000, n_outer=500)
    optimal = [step_eig(env, [], 1.0, np.random.default_rng(s), settings, 20).regret for s in range(5)]
    assert np.mean(optimal) <= 0.02
    randoms = [step_eig(env, [], 0.3, np.random.default_rng(s), settings, 20).regret for s in range(5)]
    assert np.mean(randoms) > 0.2


def test_isolated_tail_draws_count_log_n_each() -> None:
    """A draw whose counts overlap no other draw's may be left out of the table: the sum is unchanged."""
    lam = np.array([2.0, 2.5, 3.0, 400.0])
    support = np.arange(0, 700)
    full = stats.poisson.logpmf(support[None, :], lam[:, None])
    body = stats.poisson.logpmf(np.arange(0, 40)[None, :], lam[:3, None])
    assert eig_counts(body, n_isolated=1) == pytest.approx(eig_counts(full), abs=1e-9)
