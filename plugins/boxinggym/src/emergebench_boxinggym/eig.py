"""Expected information gain of a design from posterior samples, in NumPy.

Posterior draws given the data so far come from ``posterior.py`` (tempered SMC with Metropolis moves).
Given draws theta_1..theta_N, EIG(d) = E[log p(y|theta,d) - log p(y|d)] is estimated

* for binary outcomes in closed form: H_b(mean_n p_n) - mean_n H_b(p_n);
* for Binomial/Poisson counts exactly over the (truncated) support of y;
* for outcomes made of independent discrete components whose parameters are a priori independent
  (the 8 emotion ratings), as the sum of each component's exact EIG: prior and likelihood factorise,
  so the posterior does too and the mutual information is additive;
* for a scalar outcome with Gaussian noise (location finding; dugongs, folded) as the entropy of the
  N-component Gaussian mixture computed on a grid (``mixture.py``), minus the noise entropy;
* for other continuous outcomes by nested Monte Carlo: ``n_outer`` simulated outcomes, each scored
  against all N draws as the inner set (the outer draw included, a PCE-style bound never above log N);
* in paper mode by the reference's nested Monte Carlo with separate inner draws.

The defaults (4000 draws, 1000 outer) put every world's prior EIG within 3% of a high-precision value
(tests/test_boxinggym_eig_accuracy.py) at well under 100 ms per design (docs/benchmarks.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import lazy_loader as lazy
import numpy as np

from .envs.base import Environment, Params, batch_size, take
from .mixture import mixture_eig
from .posterior import Posterior, posterior_samples

special = lazy.load("scipy.special", suppress_warning=True)
stats = lazy.load("scipy.stats", suppress_warning=True)  # scipy loads on first use: registering the plugin stays cheap


@dataclass(frozen=True)
class EIGSettings:
    """Sample counts of the fixed-mode estimators, and the paper-mode switch."""

    n_posterior: int = 4096  # a power of 2 keeps the Sobol prior draws balanced
    n_outer: int = 1000
    paper: bool = False
    paper_inner: int = 10


def logsumexp(a: np.ndarray, axis: int) -> np.ndarray:
    """log(sum(exp(a))) along ``axis``; scipy's version costs several times more on these matrices."""
    peak = np.max(a, axis=axis, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(np.sum(np.exp(a - peak), axis=axis)) + np.squeeze(peak, axis=axis)


def binary_entropy(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 0.0, 1.0)
    return -(special.xlogy(p, p) + special.xlogy(1 - p, 1 - p))


def eig_binary(p: np.ndarray) -> float:
    """Closed form for a Bernoulli outcome: mutual information between y and theta."""
    return float(binary_entropy(np.mean(p)) - np.mean(binary_entropy(p)))


def eig_counts(logpmf: np.ndarray, n_isolated: int = 0) -> float:
    """Exact sum over the support: ``logpmf`` has shape (n_theta, n_support).

    EIG = H[marginal] - mean_n H[p_n]. ``n_isolated`` more draws put all their mass far beyond this
    support (Poisson rates in the prior's extreme tail); each overlaps no other draw, so its term is
    exactly log N.
    """
    n = logpmf.shape[0] + n_isolated
    p = np.exp(logpmf)
    marginal = np.sum(p, axis=0) / n
    with np.errstate(invalid="ignore"):
        conditional = -float(np.sum(np.where(p > 0, p * logpmf, 0.0))) / n  # body draws' entropy, summed / n
    marginal_entropy = -float(np.sum(special.xlogy(marginal, marginal)))
    # an isolated draw adds its own entropy + log N to H[y] and its entropy to H[y | theta]
    return marginal_entropy - conditional + n_isolated / n * float(np.log(n))


def eig_nested(env: Environment, theta: Params, design: Any, rng: np.random.Generator, n_outer: int) -> float:
    """NMC whose inner set is every draw, the outer draw included; draws must be in random order."""
    n = batch_size(theta)
    k = min(n_outer, n)
    ys = env.simulate(take(theta, np.arange(k)), design, rng)
    total = 0.0
    for start in range(0, k, 256):  # chunks bound memory: 256 x n log-likelihoods at a time
        rows = np.arange(start, min(start + 256, k))
        ll = env.log_lik_matrix(theta, design, ys[rows])  # (len(rows), n)
        own = ll[np.arange(len(rows)), rows]
        total += float(np.sum(own - (logsumexp(ll, axis=1) - np.log(n))))
    return total / k


def eig_components(pmf: np.ndarray) -> float:
    """Sum of exact per-component EIGs: ``pmf`` is p(y_k = s | theta_n), shape (n, K, S)."""
    marginal = pmf.mean(axis=0)
    return float(-np.sum(special.xlogy(marginal, marginal)) + np.sum(special.xlogy(pmf, pmf)) / pmf.shape[0])


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
        return eig_counts(*count_logpmf_table(env, theta, design))
    gaussian = env.gaussian_outcome(theta, design)
    if gaussian is not None:
        return mixture_eig(*gaussian)
    table = env.component_pmf(theta, design)
    if table is not None:
        return eig_components(table)
    return eig_nested(env, theta, design, rng, settings.n_outer)


POISSON_SUPPORT_LIMIT = 5000  # counts beyond this come only from rates in the prior's far tail


def count_logpmf_table(env: Environment, theta: Params, design: Any) -> tuple[np.ndarray, int]:
    """log p(y | theta_n) over the support of y that carries practically all the mass, and how many
    draws (Poisson rates far beyond ``POISSON_SUPPORT_LIMIT``) are left out as isolated."""
    kind, param = env.count_distribution(theta, design)  # type: ignore[attr-defined]
    if kind == "binomial":
        n_trials, p = param
        k = np.arange(n_trials + 1)[None, :]
        p = np.clip(p, 1e-300, 1 - 1e-16)[:, None]
        log_choose = special.gammaln(n_trials + 1) - special.gammaln(k + 1) - special.gammaln(n_trials - k + 1)
        return log_choose + k * np.log(p) + (n_trials - k) * np.log1p(-p), 0
    lam = np.maximum(param, 1e-12)
    body = lam + 12 * np.sqrt(lam) + 20 <= POISSON_SUPPORT_LIMIT
    lam = lam[body]
    lo = max(0, int(np.floor(stats.poisson.ppf(1e-9, lam.min()))))
    hi = int(np.ceil(stats.poisson.isf(1e-9, lam.max()))) + 1
    k = np.arange(lo, hi)[None, :]
    return k * np.log(lam)[:, None] - lam[:, None] - special.gammaln(k + 1), int(np.sum(~body))


def eig_needs_draws(env: Environment, settings: EIGSettings, *, prior: bool = False) -> int:
    """How many posterior draws one EIG estimate uses (``prior``: when there is no data yet)."""
    if settings.paper:
        return env.paper_eig_outer * (settings.paper_inner + 1)
    if prior and env.eig_prior_draws is not None:
        return env.eig_prior_draws
    return settings.n_posterior


@dataclass
class StepEIG:
    """EIG of the scientist's design and of the random designs it is compared with."""

    eig: float
    eig_random_max: float
    eig_random_mean: float
    best_random_design: str
    posterior: Posterior  # the SMC particles; pass as ``previous`` to the next step

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
    previous: Posterior | None = None,
) -> StepEIG:
    """EIG regret of one experiment: the best of ``n_random`` random designs minus the agent's EIG.

    All designs are scored on the same posterior draws (common random numbers), so the regret's
    noise comes from the estimator, not from different posteriors.
    """
    prior = posterior_is_prior or not data
    needed = eig_needs_draws(env, settings, prior=prior)
    # prior draws are cheap, posterior particles are not: SMC runs at most n_posterior of them
    n_draws = needed if prior else min(needed, settings.n_posterior)
    post = posterior_samples(env, data, n_draws, rng, prior_only=posterior_is_prior, previous=previous)
    theta = post.theta
    if needed > batch_size(theta):  # paper mode's separate inner draws: resample the SMC particles
        theta = take(theta, rng.integers(0, batch_size(theta), needed))
    seen = {repr(d) for d, _ in data} if env.fixed_table and env.mode == "fixed" else set()

    def score(d: Any) -> float:
        if repr(d) in seen:  # re-reading a fixed table entry teaches nothing
            return 0.0
        return expected_information_gain(env, theta, d, rng, settings)

    agent = score(design)
    randoms = [env.random_design(rng) for _ in range(n_random)]
    if not randoms:
        return StepEIG(
            eig=agent, eig_random_max=float("nan"), eig_random_mean=float("nan"), best_random_design="", posterior=post
        )
    values = np.array([score(d) for d in randoms])
    best = int(np.argmax(values))
    return StepEIG(
        eig=agent,
        eig_random_max=float(values[best]),
        eig_random_mean=float(np.mean(values)),
        best_random_design=env.format_design(randoms[best]),
        posterior=post,
    )
