"""Posterior draws given the data so far: adaptive tempered sequential Monte Carlo with MCMC moves.

Importance resampling of prior draws collapses once an observation is sharp (a location-finding
reading near a source keeps a handful of distinct draws), and every EIG computed from such a sample
is about 0. Here the likelihood of all data is brought in gradually: particles start at the prior,
each stage raises the likelihood's exponent tau just enough that the stage's importance weights keep
an effective sample size of ``ess_fraction * n``, resamples, and then moves every particle with
random-walk Metropolis steps that leave prior x likelihood^tau invariant. Moves run in an
unconstrained space (log for positive parameters, logit for bounded ones), with a proposal scaled
from the particles' own covariance, until almost every particle has moved.

The diagnostics (lowest stage ESS, distinct draws, stages, acceptance rate) go into the trajectory's
outputs per experiment so a reader can see the posterior was healthy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import lazy_loader as lazy
import numpy as np

from .envs.base import Environment, Params, batch_size, take
from .envs.priors import quasi_random_prior

special = lazy.load(
    "scipy.special", suppress_warning=True
)  # scipy loads on first use: registering the plugin stays cheap

ESS_FRACTION = 0.5  # each stage keeps at least this share of the particles as effective sample size
MIN_MOVES, MAX_MOVES = 3, 25
MOVED_FRACTION = 0.9  # keep moving until this share of particles has moved at least once in the stage


@dataclass
class Posterior:
    theta: Params
    ess: float  # lowest effective sample size over the tempering stages (n when there is no data)
    distinct: int = 0  # distinct draws among the returned ones
    stages: int = 0
    acceptance: float = float("nan")  # mean Metropolis acceptance rate of the moves
    data: list[tuple[Any, Any]] = field(default_factory=list)  # the informative observations conditioned on

    def summary(self) -> dict[str, float | None]:
        """JSON-ready diagnostics; acceptance is None when there was no data to condition on."""
        return {
            "n": batch_size(self.theta),
            "ess": round(self.ess, 1),
            "distinct": self.distinct,
            "stages": self.stages,
            "acceptance": round(self.acceptance, 3) if np.isfinite(self.acceptance) else None,
        }


def informative_data(env: Environment, data: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """The observations that carry information: a fixed table answers a repeated query identically."""
    if not (env.fixed_table and env.mode == "fixed"):
        return list(data)
    seen: set[str] = set()
    kept = []
    for design, y in data:
        if repr(design) not in seen:
            seen.add(repr(design))
            kept.append((design, y))
    return kept


def total_log_lik(env: Environment, data: list[tuple[Any, Any]], theta: Params) -> np.ndarray:
    out = np.zeros(batch_size(theta))
    for design, y in data:
        out += env.log_lik(theta, design, y)
    return np.where(np.isnan(out), -np.inf, out)


class FreeSpace:
    """Flattens a batch of parameters into an (n, D) matrix on the real line and back."""

    def __init__(self, env: Environment, theta: Params) -> None:
        missing = set(theta) - set(env.priors)
        if missing:
            raise ValueError(f"{env.key} declares no prior density for {sorted(missing)}")
        self.priors = env.priors
        self.shapes = {k: v.shape[1:] for k, v in theta.items()}
        self.keys = sorted(theta)

    def to_free(self, theta: Params) -> np.ndarray:
        n = batch_size(theta)
        return np.concatenate([self.priors[k].to_free(theta[k]).reshape(n, -1) for k in self.keys], axis=1)

    def from_free(self, z: np.ndarray) -> tuple[Params, np.ndarray]:
        """Parameters and the log prior density in free space (prior + log Jacobian)."""
        n = len(z)
        theta: Params = {}
        log_p = np.zeros(n)
        start = 0
        for k in self.keys:
            size = int(np.prod(self.shapes[k], dtype=int))
            block = z[:, start : start + size].reshape((n, *self.shapes[k]))
            start += size
            prior = self.priors[k]
            x = prior.from_free(block)
            theta[k] = x
            log_p += np.sum((prior.log_density(x) + prior.log_jacobian(block)).reshape(n, -1), axis=1)
        return theta, log_p


def prior_draws(env: Environment, n: int, rng: np.random.Generator) -> Params:
    if not env.priors:  # a world without declared densities (test doubles): independent draws
        return env.sample_prior(rng, n)
    shapes = {k: v.shape[1:] for k, v in env.sample_prior(np.random.default_rng(0), 1).items()}
    return quasi_random_prior(env.priors, shapes, n, rng)


def kish_ess(logw: np.ndarray) -> float:
    if not np.any(np.isfinite(logw)):
        return 0.0
    w = np.exp(logw - special.logsumexp(logw))
    return float(1.0 / np.sum(w**2))


def next_temperature(loglik: np.ndarray, tau: float, target: float) -> float:
    """The largest tau' <= 1 whose incremental weights (tau' - tau) * loglik keep ESS >= target (bisection)."""
    if kish_ess((1.0 - tau) * loglik) >= target:
        return 1.0
    lo, hi = tau, 1.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if kish_ess((mid - tau) * loglik) >= target:
            lo = mid
        else:
            hi = mid
    return max(lo, tau + 1e-12)


def systematic_resample(logw: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = len(logw)
    w = np.exp(logw - special.logsumexp(logw))
    positions = (rng.random() + np.arange(n)) / n
    return np.minimum(np.searchsorted(np.cumsum(w), positions), n - 1)


def move(
    env: Environment,
    old: list[tuple[Any, Any]],
    new: list[tuple[Any, Any]],
    space: FreeSpace,
    z: np.ndarray,
    base: np.ndarray,
    loglik: np.ndarray,
    tau: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Random-walk Metropolis moves in free space targeting prior x L(old) x L(new)^tau.

    ``base`` is log prior (free space) + log L(old) per particle, ``loglik`` is log L(new).
    """
    n, dim = z.shape
    cov = np.atleast_2d(np.cov(z, rowvar=False)) + 1e-10 * np.eye(dim)
    chol = np.linalg.cholesky(cov)
    scale = 2.38 / np.sqrt(dim)
    moved = np.zeros(n, dtype=bool)
    accepted = 0
    moves = 0
    while moves < MAX_MOVES and (moves < MIN_MOVES or moved.mean() < MOVED_FRACTION):
        proposal = z + scale * rng.standard_normal((n, dim)) @ chol.T
        theta_new, log_prior_new = space.from_free(proposal)
        base_new = log_prior_new + total_log_lik(env, old, theta_new) if old else log_prior_new
        loglik_new = total_log_lik(env, new, theta_new)
        with np.errstate(invalid="ignore"):
            log_ratio = (base_new + tau * loglik_new) - (base + tau * loglik)
            accept = np.log(rng.random(n)) < np.where(np.isnan(log_ratio), -np.inf, log_ratio)
        z = np.where(accept[:, None], proposal, z)
        base = np.where(accept, base_new, base)
        loglik = np.where(accept, loglik_new, loglik)
        moved |= accept
        rate = float(accept.mean())
        accepted += int(accept.sum())
        moves += 1
        # keep the acceptance rate in a useful range: small steps when most proposals fail
        scale *= 0.7 if rate < 0.15 else (1.3 if rate > 0.5 else 1.0)
    return z, base, loglik, accepted / (n * moves)


def posterior_samples(
    env: Environment,
    data: list[tuple[Any, Any]],
    n: int,
    rng: np.random.Generator,
    *,
    prior_only: bool = False,
    ess_fraction: float = ESS_FRACTION,
    previous: Posterior | None = None,
) -> Posterior:
    """``n`` draws from p(theta | data) by adaptive tempered SMC with Metropolis moves.

    The particles start as quasi-random prior draws (scrambled Sobol), which with no data are returned
    as they are: the prior EIG then has far less Monte Carlo error than with independent draws.
    ``previous``, the posterior given a prefix of ``data`` with the same ``n``, is the starting point when
    given: only the new observations are tempered in, a few stages instead of a run from the prior.
    """
    data = [] if prior_only else informative_data(env, data)
    if not data:
        return Posterior(prior_draws(env, n, rng), float(n), n)
    if previous is not None and batch_size(previous.theta) == n and _is_prefix(previous.data, data):
        theta, old, new = previous.theta, previous.data, data[len(previous.data) :]
        if not new:
            return previous
    else:
        theta, old, new = prior_draws(env, n, rng), [], data
    space = FreeSpace(env, theta)
    z = space.to_free(theta)
    theta, log_prior = space.from_free(z)
    base = log_prior + total_log_lik(env, old, theta) if old else log_prior
    loglik = total_log_lik(env, new, theta)
    tau, stages, lowest_ess, rates = 0.0, 0, float(n), []
    target = ess_fraction * n
    while tau < 1.0:
        new_tau = next_temperature(loglik, tau, target)
        logw = (new_tau - tau) * loglik
        lowest_ess = min(lowest_ess, kish_ess(logw))
        index = systematic_resample(logw, rng)
        z, base, loglik = z[index], base[index], loglik[index]
        tau = new_tau
        z, base, loglik, rate = move(env, old, new, space, z, base, loglik, tau, rng)
        rates.append(rate)
        stages += 1
    theta, _ = space.from_free(z)
    order = rng.permutation(n)  # resampling sorts the particles; callers take the first draws as a subset
    theta = take(theta, order)
    distinct = len(np.unique(z, axis=0))
    return Posterior(theta, lowest_ess, distinct, stages, float(np.mean(rates)), data)


def _is_prefix(short: list[tuple[Any, Any]], long: list[tuple[Any, Any]]) -> bool:
    return len(short) <= len(long) and repr(short) == repr(long[: len(short)])
