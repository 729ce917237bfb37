"""Every world's prior EIG with the default settings against a high-precision value computed here.

The reference values never call the plugin's estimators: binary and count worlds integrate over a
quantile grid of the prior (1-D where the logit or log-rate is exactly Gaussian, 2-D otherwise); the
Gaussian-noise worlds take 2 million prior draws, bin them finely and integrate the marginal density
on a grid; emotion's 8 ratings have independent parameters a priori, so its EIG is the sum of 8
one-dimensional exact sums over the ratings with 200,000 draws each.

Target (issue 14.4): within 3% wherever the EIG is at least 0.02 nats, and within 0.0006 nats below that.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from emergebench_boxinggym.eig import EIGSettings, eig_needs_draws, expected_information_gain
from emergebench_boxinggym.envs import ENVIRONMENTS
from emergebench_boxinggym.envs.emotion import ALPHA, B_ABS_PE, B_PE, B_WIN
from emergebench_boxinggym.envs.moral_machines import PRIOR as MORAL_PRIOR
from emergebench_boxinggym.envs.moral_machines import attributes
from emergebench_boxinggym.posterior import posterior_samples
from scipy import integrate, signal, stats
from scipy.special import expit, xlogy

K = 4000  # quantile nodes per dimension


def nodes(dist: Any, k: int = K) -> np.ndarray:
    return dist.ppf((np.arange(k) + 0.5) / k)


def h_b(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 0, 1)
    return -(xlogy(p, p) + xlogy(1 - p, 1 - p))


def binary_eig(p: np.ndarray) -> float:
    """p: success probabilities at equally weighted prior nodes."""
    return float(h_b(np.mean(p)) - np.mean(h_b(p)))


def count_eig(pmf: np.ndarray) -> float:
    """pmf: (nodes, support) with equally weighted nodes."""
    marginal = pmf.mean(axis=0)
    return float(-np.sum(xlogy(marginal, marginal)) + np.mean(np.sum(xlogy(pmf, pmf), axis=1)))


def hyperbolic(design: tuple[int, int, int]) -> float:
    ir, dr, days = design
    k = np.exp(nodes(stats.norm(-4.25, 0.5), 600))[:, None]
    alpha = nodes(stats.halfnorm(scale=2.0), 600)[None, :]
    p = 0.01 + 0.98 * stats.norm.cdf((dr / (1 + k * days) - ir) / alpha)
    return binary_eig(p.ravel())


def survival(design: tuple[float, int]) -> float:
    t, m = design
    lam = nodes(stats.gamma(0.1, scale=10.0), 600)[:, None]
    beta = nodes(stats.halfnorm(scale=10.0), 600)[None, :]
    with np.errstate(over="ignore"):
        p = expit(t * np.exp(beta * m) * lam)
    return binary_eig(p.ravel())


def irt(design: tuple[int, int]) -> float:
    gap = nodes(stats.norm(0, np.sqrt(2.0)), 800)[:, None]  # ability - difficulty
    disc = nodes(stats.norm(0, 1.0), 800)[None, :]
    return binary_eig(expit(disc * gap).ravel())


def morals(design: Any) -> float:
    g1, g2, intervention = design
    d = attributes(g1) - attributes(g2)
    coef = {"count": d[0], "gender": d[1], "age": d[2], "status": d[3], "fitness": d[4], "species": d[5]}
    coef |= {"alpha": 1.0, "group": 1.0, "intervention": 1.0 if intervention == "swerve" else -1.0}
    mean = sum(MORAL_PRIOR[k][0] * c for k, c in coef.items())
    sd = np.sqrt(sum((MORAL_PRIOR[k][1] * c) ** 2 for k, c in coef.items()))
    return binary_eig(expit(nodes(stats.norm(mean, sd), 20000)))


def death(x: float) -> float:
    theta = nodes(stats.truncnorm(-1, 1, loc=1, scale=1), 20000)[:, None]
    y = np.arange(51)[None, :]
    return count_eig(stats.binom.pmf(y, 50, 1 - np.exp(-theta * x)))


def peregrines(t: float) -> float:
    mean = 4.5 + 1.2 * t + 0.07 * t**2 - 0.24 * t**3
    sd = np.sqrt(0.1**2 + (0.1 * t) ** 2 + (0.01 * t**2) ** 2 + (0.05 * t**3) ** 2)
    lam = np.exp(nodes(stats.norm(mean, sd), 4000))[:, None]
    y = np.arange(int(stats.poisson.isf(1e-12, lam.max())) + 2)[None, :]
    return count_eig(stats.poisson.pmf(y, lam))


def binned_marginal_entropy(mu: np.ndarray, sd: float, h: float, folded: bool) -> float:
    """Entropy of y = mu + N(0, sd^2) (or |y|) with mu given by many draws, by a Riemann sum on a fine grid."""
    reach = np.max(np.abs(mu)) + 9 * sd
    edges = np.arange(-reach, reach + h, h)
    counts, _ = np.histogram(mu, edges)
    centres = 0.5 * (edges[1:] + edges[:-1])
    offsets = np.arange(-9 * sd, 9 * sd + h / 2, h)
    kernel = stats.norm.pdf(offsets, scale=sd) * h
    density = np.maximum(signal.fftconvolve(counts / counts.sum(), kernel / kernel.sum(), mode="same"), 0) / h
    if folded:
        density = density + density[::-1]
        density = density[centres > 0]
    positive = density[density > 0]
    return float(-np.sum(positive * np.log(positive)) * h)


def location(design: tuple[float, float]) -> float:
    rng = np.random.default_rng(11)
    x = np.asarray(design)
    mu = []
    for _ in range(10):
        src = rng.standard_normal((200_000, 3, 2))
        mu.append(0.1 + np.sum(1.0 / (1e-4 + np.sum((src - x) ** 2, axis=-1)), axis=1))
    marginal = binned_marginal_entropy(np.concatenate(mu), 0.5, 0.01, folded=False)
    return marginal - 0.5 * np.log(2 * np.pi * np.e * 0.25)


def folded_normal_entropy(ms: np.ndarray, sd: float) -> np.ndarray:
    """Entropy of |N(m, sd^2)| for each m, by Simpson's rule on a fine grid of y >= 0."""
    y = np.linspace(0.0, float(np.max(ms)) + 12 * sd, 20001)
    p = stats.norm.pdf(y[None, :], ms[:, None], sd) + stats.norm.pdf(-y[None, :], ms[:, None], sd)
    return -integrate.simpson(xlogy(p, p), x=y, axis=1)


def dugongs(age: float) -> float:
    rng = np.random.default_rng(12)
    n = 2_000_000
    mu = rng.normal(2.0, 0.2, n) - rng.normal(1.5, 0.5, n) * np.abs(rng.normal(0.4, 0.5, n)) ** age
    marginal = binned_marginal_entropy(mu, 0.25, 0.002, folded=True)
    # E H[y | mu]: the folded entropy varies only where |mu| < 2.5 (10 sd); tabulate and average
    grid = np.linspace(0, 2.5, 251)
    table = folded_normal_entropy(grid, 0.25)
    plain = 0.5 * np.log(2 * np.pi * np.e * 0.25**2)
    conditional = np.where(np.abs(mu) >= 2.5, plain, np.interp(np.abs(mu), grid, table))
    return marginal - float(np.mean(conditional))


def emotion(design: Any) -> float:
    prizes, probs, _, win = design
    pe = win - float(np.dot(probs, prizes))
    rng = np.random.default_rng(13)
    n = 200_000
    total = 0.0
    for k in range(8):
        mean = (
            rng.normal(ALPHA[k], 0.1, n)
            + rng.normal(B_WIN[k], 0.01, n) * win
            + rng.normal(B_PE[k], 0.01, n) * pe
            + rng.normal(B_ABS_PE[k], 0.01, n) * abs(pe)
        )
        sd = np.abs(rng.normal(0, 1, n))
        cuts = np.concatenate([[-np.inf], np.arange(2.0, 10.0), [np.inf]])  # int() then clip to 1..9
        cdf = stats.norm.cdf((cuts[None, :] - mean[:, None]) / sd[:, None])
        total += count_eig(np.diff(cdf, axis=1))
    return total


ORACLES = {
    "hyperbolic_discounting": hyperbolic,
    "survival": survival,
    "irt": irt,
    "moral_machines": morals,
    "death_process": death,
    "peregrines": peregrines,
    "location_finding": location,
    "dugongs": dugongs,
    "emotion": emotion,
}
DESIGNS: dict[str, list[Any]] = {
    "hyperbolic_discounting": [(50, 100, 30), (150, 160, 10), (20, 290, 300)],
    "survival": [12, 47, 80],  # patient ids; resolved to (time, metastasized) per world
    "irt": [(0, 0)],  # every pair has the same prior EIG
    "moral_machines": [
        (("boy", "girl"), ("old_man",), "swerve"),
        (("dog",), ("criminal", "homeless"), "stay"),
    ],
    "death_process": [0.1, 0.7, 1.9],
    "peregrines": [0.2, 1.5, 4.5],
    "location_finding": [(0.0, 0.0), (1.0, -0.5), (1.8, 1.8)],
    "dugongs": [0.5, 2.0, 4.5],
    "emotion": [((10.0, 50.0, 90.0), (0.2, 0.5, 0.3), 2, 90.0), ((0.0, 100.0, 40.0), (0.6, 0.1, 0.3), 0, 0.0)],
}
CASES = [(key, i) for key in ORACLES for i in range(len(DESIGNS[key]))]


def plugin_prior_eig(key: str, design: Any) -> float:
    env = ENVIRONMENTS[key](np.random.default_rng(0), phrase=False)
    settings = EIGSettings()
    rng = np.random.default_rng(1)
    prior = posterior_samples(env, [], eig_needs_draws(env, settings, prior=True), rng)
    return expected_information_gain(env, prior.theta, design, rng, settings)


@pytest.mark.parametrize(("key", "i"), CASES, ids=[f"{k}-{i}" for k, i in CASES])
def test_prior_eig_within_three_percent(key: str, i: int) -> None:
    design = DESIGNS[key][i]
    if key == "survival":
        env = ENVIRONMENTS[key](np.random.default_rng(0), phrase=False)
        exact = survival((float(env.times[design]), int(env.metastasized[design])))  # type: ignore[attr-defined]
    else:
        exact = ORACLES[key](design)
    estimate = plugin_prior_eig(key, design)
    assert exact > 0
    if exact >= 0.02:
        assert estimate == pytest.approx(exact, rel=0.03)
    else:
        assert estimate == pytest.approx(exact, abs=0.0006)
