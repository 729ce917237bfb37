"""EIG of a scalar outcome y = m(theta) + N(0, sd^2) (or its absolute value) from draws of m, on a grid.

Given N draws, p(y) is the mixture of N Gaussians of width sd. Its entropy is computed by quadrature
instead of nested Monte Carlo: the draws are binned on a grid of step sd/10, convolved with the
Gaussian kernel by FFT, and -p log p is summed. This removes the outer-sample noise of nested MC (which
was +-15% for location finding at 1000 outer draws) and its log(M) cap, so the only error left is that of
the N draws themselves. EIG = H[y] - E H[y | theta]; the second term is exact (folded: tabulated).
"""

from __future__ import annotations

from functools import cache

import lazy_loader as lazy
import numpy as np

signal = lazy.load(
    "scipy.signal", suppress_warning=True
)  # scipy loads on first use: registering the plugin stays cheap

STEP = 0.1  # grid step in units of sd: binning moves a mean by at most sd/20
SPAN = 8.0  # kernel half-width in units of sd
GAUSS_ENTROPY = 0.5 * np.log(2 * np.pi * np.e)  # entropy of N(0, 1)


def mixture_density(mu: np.ndarray, sd: float, lo: float, n_nodes: int) -> np.ndarray:
    """Density of the equal-weight mixture of N(mu_i, sd^2) at nodes lo + k * STEP * sd."""
    h = STEP * sd
    index = np.clip(np.rint((mu - lo) / h).astype(np.int64), 0, n_nodes - 1)
    weights = np.bincount(index, minlength=n_nodes) / len(mu)
    offsets = np.arange(-SPAN / STEP, SPAN / STEP + 1) * STEP
    kernel = np.exp(-0.5 * offsets**2)
    kernel /= kernel.sum()
    return np.maximum(signal.fftconvolve(weights, kernel, mode="same"), 0.0) / h


def entropy_on_grid(p: np.ndarray, h: float, *, edge_at_start: bool = False) -> float:
    """-sum p log p h; with ``edge_at_start`` the first node is the support's edge (trapezoid half weight)."""
    terms = np.zeros_like(p)
    positive = p > 1e-300
    terms[positive] = p[positive] * np.log(p[positive])
    if edge_at_start:
        terms[0] *= 0.5
    return float(-np.sum(terms) * h)


@cache
def folded_entropy_table() -> tuple[np.ndarray, np.ndarray]:
    """Entropy of |N(m, 1)| for m = 0 .. 10 (beyond, folding is negligible and it equals GAUSS_ENTROPY)."""
    ms = np.linspace(0.0, 10.0, 501)
    y = np.arange(0.0, 22.0, 0.002)
    values = []
    for m in ms:
        p = (np.exp(-0.5 * (y - m) ** 2) + np.exp(-0.5 * (y + m) ** 2)) / np.sqrt(2 * np.pi)
        w = np.full_like(y, 0.002)
        w[0] = 0.001  # trapezoid: y = 0 is the edge of the support
        positive = p > 1e-300
        values.append(float(-np.sum(w[positive] * p[positive] * np.log(p[positive]))))
    return ms, np.array(values)


def folded_entropy(m: np.ndarray) -> np.ndarray:
    ms, values = folded_entropy_table()
    m = np.abs(m)
    return np.where(m >= ms[-1], GAUSS_ENTROPY, np.interp(m, ms, values))


def mixture_eig(mu: np.ndarray, sd: float, folded: bool) -> float:
    """I(y; theta) for y = mu(theta) + N(0, sd^2), or |.| of it, with ``mu`` the draws of the mean."""
    mu = np.asarray(mu, dtype=float)
    h = STEP * sd
    if folded:
        # a grid symmetric about 0, so the density of |y| is g(y) + g(-y) read from mirrored nodes
        half = int(np.ceil((np.max(np.abs(mu)) + SPAN * sd) / h))
        g = mixture_density(mu, sd, -half * h, 2 * half + 1)
        marginal = entropy_on_grid(g[half:] + g[half::-1], h, edge_at_start=True)
        conditional = float(np.mean(folded_entropy(mu / sd))) + np.log(sd)
    else:
        lo = float(mu.min()) - SPAN * sd
        n_nodes = int(np.ceil((float(mu.max()) + SPAN * sd - lo) / h)) + 1
        marginal = entropy_on_grid(mixture_density(mu, sd, lo, n_nodes), h)
        conditional = GAUSS_ENTROPY + np.log(sd)
    return max(marginal - conditional, 0.0)
