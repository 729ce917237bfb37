"""Prior densities of the world parameters, with a map to unconstrained space.

The worlds draw their priors with NumPy in ``sample_prior``; the posterior sampler also needs the log
density (up to a constant) and, for random-walk moves, a bijection from each parameter's support to the
real line. Each distribution here gives both, so a move never proposes a value outside the support.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Protocol

import lazy_loader as lazy
import numpy as np

special = lazy.load("scipy.special", suppress_warning=True)
stats = lazy.load("scipy.stats", suppress_warning=True)  # scipy loads on first use: registering the plugin stays cheap


class Prior(Protocol):
    def log_density(self, x: np.ndarray) -> np.ndarray:
        """Elementwise log density up to a constant (finite inside the support)."""
        ...

    def to_free(self, x: np.ndarray) -> np.ndarray: ...

    def from_free(self, z: np.ndarray) -> np.ndarray: ...

    def log_jacobian(self, z: np.ndarray) -> np.ndarray:
        """log |dx/dz| at free value z, elementwise."""
        ...

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Quantile function, for quasi-random prior draws."""
        ...


@dataclass(frozen=True)
class Normal:
    mean: float | np.ndarray
    sd: float | np.ndarray

    def log_density(self, x: np.ndarray) -> np.ndarray:
        return -0.5 * ((x - self.mean) / self.sd) ** 2

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return stats.norm.ppf(u, self.mean, self.sd)

    def to_free(self, x: np.ndarray) -> np.ndarray:
        return x

    def from_free(self, z: np.ndarray) -> np.ndarray:
        return z

    def log_jacobian(self, z: np.ndarray) -> np.ndarray:
        return np.zeros_like(z)


@dataclass(frozen=True)
class _Positive:
    """Base of the distributions on (0, inf): free value z = log x."""

    def to_free(self, x: np.ndarray) -> np.ndarray:
        return np.log(np.maximum(x, 1e-300))

    def from_free(self, z: np.ndarray) -> np.ndarray:
        return np.exp(z)

    def log_jacobian(self, z: np.ndarray) -> np.ndarray:
        return z


@dataclass(frozen=True)
class HalfNormal(_Positive):
    scale: float

    def log_density(self, x: np.ndarray) -> np.ndarray:
        return -0.5 * (x / self.scale) ** 2

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return stats.halfnorm.ppf(u, scale=self.scale)


@dataclass(frozen=True)
class Gamma(_Positive):
    shape: float
    rate: float

    def log_density(self, x: np.ndarray) -> np.ndarray:
        return (self.shape - 1.0) * np.log(np.maximum(x, 1e-300)) - self.rate * x

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return stats.gamma.ppf(u, self.shape, scale=1.0 / self.rate)


@dataclass(frozen=True)
class TruncatedNormal:
    mean: float
    sd: float
    low: float
    high: float

    def log_density(self, x: np.ndarray) -> np.ndarray:
        inside = (x > self.low) & (x < self.high)
        return np.where(inside, -0.5 * ((x - self.mean) / self.sd) ** 2, -np.inf)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        a, b = (self.low - self.mean) / self.sd, (self.high - self.mean) / self.sd
        return stats.truncnorm.ppf(u, a, b, loc=self.mean, scale=self.sd)

    def to_free(self, x: np.ndarray) -> np.ndarray:
        u = np.clip((x - self.low) / (self.high - self.low), 1e-15, 1 - 1e-15)
        return np.log(u) - np.log1p(-u)

    def from_free(self, z: np.ndarray) -> np.ndarray:
        return self.low + (self.high - self.low) * special.expit(z)

    def log_jacobian(self, z: np.ndarray) -> np.ndarray:
        return np.log(self.high - self.low) + special.log_expit(z) + special.log_expit(-z)


def quasi_random_prior(
    priors: dict[str, Prior], shapes: dict[str, tuple[int, ...]], n: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """``n`` prior draws from a scrambled Sobol sequence pushed through each parameter's quantile function.

    Expectations over the prior (the EIG before any data) then converge much faster than with
    independent draws; the scrambling keeps them unbiased and seeded by ``rng``.
    """
    keys = sorted(priors)
    sizes = [int(np.prod(shapes[k], dtype=int)) for k in keys]
    sobol = stats.qmc.Sobol(d=sum(sizes), scramble=True, seed=rng)
    with warnings.catch_warnings():  # n need not be a power of 2; balance then holds approximately
        warnings.simplefilter("ignore", UserWarning)
        u = sobol.random(n)
    u = np.clip(u, 1e-12, 1 - 1e-12)
    out = {}
    start = 0
    for k, size in zip(keys, sizes, strict=True):
        out[k] = priors[k].ppf(u[:, start : start + size].reshape((n, *shapes[k])))
        start += size
    return out
