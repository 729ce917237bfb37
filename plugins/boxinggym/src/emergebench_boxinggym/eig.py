"""Expected information gain of a design from posterior samples, in NumPy.

The posterior given the data so far comes from self-normalised importance resampling (SIR) of
prior draws (spec 4.3: every model has at most ~10 observations and few parameters). Given
posterior draws theta_1..theta_N, EIG(d) = E[log p(y|theta,d) - log p(y|d)] is estimated

* for binary outcomes in closed form: H_b(mean_n p_n) - mean_n H_b(p_n);
* for Binomial/Poisson counts exactly over the (truncated) support of y;
* for continuous outcomes by nested Monte Carlo whose inner set contains the outer draw
  (a PCE-style lower bound that never exceeds log(M)), unlike the reference estimator;
* in paper mode by the reference's nested Monte Carlo with separate inner draws.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import gammaln, logsumexp, xlogy
from scipy.stats import poisson

from .envs.base import Environment, Params, batch_size, take


@dataclass(frozen=True)
class EIGSettings:
    """Sample counts. Defaults keep one design's EIG well under 100 ms in every environment."""

    n_posterior: int = 1000
    n_inner: int = 100
    n_prior: int = 20000
    paper: bool = False
    paper_inner: int = 10


@dataclass
class Posterior:
    theta: Params
    ess: float


def posterior_samples(
    env: Environment,
    data: list[tuple[Any, Any]],
    n: int,
    rng: np.random.Generator,
    n_prior: int,
    *,
    prior_only: bool = False,
) -> Posterior:
    """``n`` draws from p(theta | data) by importance resampling of ``n_prior`` prior draws."""
    if not data or prior_only:
        return Posterior(env.sample_prior(rng, n), float(n))
    prior = env.sample_prior(rng, n_prior)
    logw = np.zeros(n_prior)
    seen: set[str] = set()
    for design, y in data:
        if env.fixed_table and env.mode == "fixed":
            key = repr(design)
            if key in seen:  # a fixed table answers a repeated query with no new information
                continue
            seen.add(key)
        logw += env.log_lik(prior, design, y)
    logw -= logsumexp(logw)
    w = np.exp(logw)
    ess = float(1.0 / np.sum(w**2))
    # systematic resampling: lower variance than multinomial at the same cost
    positions = (rng.random() + np.arange(n)) / n
    index = np.minimum(np.searchsorted(np.cumsum(w), positions), n_prior - 1)
    return Posterior(take(prior, index), ess)


def binary_entropy(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 0.0, 1.0)
    return -(xlogy(p, p) + xlogy(1 - p, 1 - p))


def eig_binary(p: np.ndarray) -> float:
    """Closed form for a Bernoulli outcome: mutual information between y and theta."""
    return float(binary_entropy(np.mean(p)) - np.mean(binary_entropy(p)))


def eig_counts(logpmf: np.ndarray) -> float:
    """Exact sum over the support: ``logpmf`` has shape (n_theta, n_support)."""
    log_marg = logsumexp(logpmf, axis=0) - np.log(logpmf.shape[0])
    p = np.exp(logpmf)
    return float(np.mean(np.sum(p * (logpmf - log_marg[None, :]), axis=1)))


def eig_nested(env: Environment, theta: Params, design: Any, rng: np.random.Generator, n_inner: int) -> float:
    """NMC with the outer draw in its own inner set: inner draws for y_n are theta_n, theta_{n+1}, ..."""
    n = batch_size(theta)
    m = min(n_inner, n)
    ys = env.simulate(theta, design, rng)
    total = 0.0
    for start in range(0, n, 256):  # chunks bound memory for large n * m
        rows = np.arange(start, min(start + 256, n))
        cols = (rows[:, None] + np.arange(m)[None, :]) % n
        ll = _pairwise(env, theta, design, ys, rows, cols)
        total += float(np.sum(ll[:, 0] - (logsumexp(ll, axis=1) - np.log(m))))
    return total / n


def _pairwise(
    env: Environment,
    theta: Params,
    design: Any,
    ys: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    *,
    paper: bool = False,
) -> np.ndarray:
    """log p(ys[rows[i]] | theta[cols[i, j]]) as an array shaped like ``cols``."""
    uniq = np.unique(cols)
    sub = take(theta, uniq)
    lik = env.paper_log_lik_matrix if paper else env.log_lik_matrix
    full = lik(sub, design, ys[rows])  # (len(rows), len(uniq))
    pos = np.searchsorted(uniq, cols)
    return np.take_along_axis(full, pos, axis=1)


def eig_paper(
    env: Environment, theta: Params, design: Any, rng: np.random.Generator, n_outer: int, n_inner: int
) -> float:
    """The reference estimator: outer draws, separate inner draws, max-trick log-mean-exp."""
    n = batch_size(theta)
    n_outer = min(n_outer, n // (n_inner + 1))
    ys = env.simulate(take(theta, np.arange(n_outer)), design, rng)
    total = 0.0
    for start in range(0, n_outer, 128):
        rows = np.arange(start, min(start + 128, n_outer))
        own = _pairwise(env, theta, design, ys, rows, rows[:, None], paper=True)[:, 0]
        cols = n_outer + rows[:, None] * n_inner + np.arange(n_inner)[None, :]
        ll = _pairwise(env, theta, design, ys, rows, cols, paper=True)
        total += float(np.sum(own - (logsumexp(ll, axis=1) - np.log(n_inner))))
    return total / n_outer


def expected_information_gain(
    env: Environment, theta: Params, design: Any, rng: np.random.Generator, settings: EIGSettings
) -> float:
    """EIG of ``design`` about all parameters, given posterior draws ``theta``."""
    if env.outcome == "deterministic":
        raise ValueError(f"{env.key} has no observation noise, so its EIG is not defined")
    if settings.paper:
        return eig_paper(env, theta, design, rng, env.paper_eig_outer, settings.paper_inner)
    if env.outcome == "binary":
        return eig_binary(env.prob_one(theta, design))  # type: ignore[attr-defined]
    if env.outcome == "count":
        return eig_counts(count_logpmf_table(env, theta, design))
    return eig_nested(env, theta, design, rng, env_draws(env, settings)[1])


def count_logpmf_table(env: Environment, theta: Params, design: Any) -> np.ndarray:
    """log p(y | theta_n) over the support of y that carries practically all the mass."""
    kind, param = env.count_distribution(theta, design)  # type: ignore[attr-defined]
    if kind == "binomial":
        n_trials, p = param
        k = np.arange(n_trials + 1)[None, :]
        p = np.clip(p, 1e-300, 1 - 1e-16)[:, None]
        log_choose = gammaln(n_trials + 1) - gammaln(k + 1) - gammaln(n_trials - k + 1)
        return log_choose + k * np.log(p) + (n_trials - k) * np.log1p(-p)
    lam = np.maximum(param, 1e-12)
    lo = max(0, int(np.floor(poisson.ppf(1e-9, lam.min()))))
    hi = int(np.ceil(poisson.isf(1e-9, lam.max()))) + 1
    k = np.arange(lo, hi)[None, :]
    return k * np.log(lam)[:, None] - lam[:, None] - gammaln(k + 1)


def env_draws(env: Environment, settings: EIGSettings) -> tuple[int, int]:
    """(posterior draws, inner draws): the settings, capped by what the environment can afford."""
    n, m = env.eig_draws
    return min(n, settings.n_posterior), min(m, settings.n_inner)


def eig_needs_draws(env: Environment, settings: EIGSettings) -> int:
    """How many posterior draws one EIG estimate uses."""
    if settings.paper:
        return env.paper_eig_outer * (settings.paper_inner + 1)
    return env_draws(env, settings)[0]


@dataclass
class StepEIG:
    """EIG of the scientist's design and of the random designs it is compared with."""

    eig: float
    eig_random_max: float
    eig_random_mean: float
    best_random_design: str
    ess: float

    @property
    def regret(self) -> float:
        return self.eig_random_max - self.eig


def step_eig(
    env: Environment,
    data: list[tuple[Any, Any]],
    design: Any,
    rng: np.random.Generator,
    settings: EIGSettings,
    n_random: int,
    *,
    posterior_is_prior: bool = False,
) -> StepEIG:
    """EIG regret of one experiment: the best of ``n_random`` random designs minus the agent's EIG.

    All designs are scored on the same posterior draws (common random numbers), so the regret's
    noise comes from the estimator, not from different posteriors.
    """
    post = posterior_samples(
        env, data, eig_needs_draws(env, settings), rng, settings.n_prior, prior_only=posterior_is_prior
    )
    seen = {repr(d) for d, _ in data} if env.fixed_table and env.mode == "fixed" else set()

    def score(d: Any) -> float:
        if repr(d) in seen:  # re-reading a fixed table entry teaches nothing
            return 0.0
        return expected_information_gain(env, post.theta, d, rng, settings)

    agent = score(design)
    randoms = [env.random_design(rng) for _ in range(n_random)]
    if not randoms:
        return StepEIG(
            eig=agent, eig_random_max=float("nan"), eig_random_mean=float("nan"), best_random_design="", ess=post.ess
        )
    values = np.array([score(d) for d in randoms])
    best = int(np.argmax(values))
    return StepEIG(
        eig=agent,
        eig_random_max=float(values[best]),
        eig_random_mean=float(np.mean(values)),
        best_random_design=env.format_design(randoms[best]),
        ess=post.ess,
    )
