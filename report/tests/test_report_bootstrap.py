"""Bootstrap intervals against the bootstrap's closed-form variance: the mean of n draws with
replacement from x has variance sum((x - mean)^2) / n^2, whatever path computes it."""

from __future__ import annotations

import numpy as np
import pytest
from emergebench_report.bootstrap import binary_estimates, bootstrap_means, shared_weight_estimates


def exact_sd(x: np.ndarray) -> float:
    return float(np.sqrt(((x - x.mean()) ** 2).sum()) / len(x))


def test_multinomial_path_has_the_closed_form_variance() -> None:
    values, counts = np.array([0.0, 0.5, 1.0]), np.array([30, 50, 20])
    means = bootstrap_means(values, counts, np.random.default_rng(1), resamples=20_000)
    assert means.std() == pytest.approx(exact_sd(np.repeat(values, counts)), rel=0.03)
    assert means.mean() == pytest.approx(0.45, abs=0.003)


def test_shared_weights_give_each_sample_its_own_closed_form_interval() -> None:
    rng = np.random.default_rng(2)
    samples = [rng.random(200), rng.random(200) ** 3, rng.normal(5, 2, 150)]
    estimates = shared_weight_estimates(samples, np.random.default_rng(3), resamples=20_000)
    for x, est in zip(samples, estimates, strict=True):
        assert est.mean == pytest.approx(x.mean()) and est.n == len(x)
        half = 1.959963984540054 * exact_sd(x)  # n >= 150: the bootstrap mean is close to normal
        assert est.ci_low == pytest.approx(x.mean() - half, abs=0.08 * half)
        assert est.ci_high == pytest.approx(x.mean() + half, abs=0.08 * half)


def test_binary_path_equals_a_brute_force_bootstrap() -> None:
    successes, totals = np.array([30.0, 0.0, 7.0]), np.array([100.0, 40.0, 9.0])
    mean, low, high = binary_estimates(successes, totals)
    assert mean.tolist() == [0.3, 0.0, 7 / 9]
    rng = np.random.default_rng(4)
    for k, n, lo, hi in zip(successes, totals, low, high, strict=True):
        data = np.r_[np.ones(int(k)), np.zeros(int(n - k))]
        means = data[rng.integers(0, len(data), size=(40_000, len(data)))].mean(axis=1)
        brute_low, brute_high = np.quantile(means, [0.025, 0.975])
        step = 1 / n  # both are quantiles of a lattice with this spacing
        assert abs(lo - brute_low) <= step + 1e-12 and abs(hi - brute_high) <= step + 1e-12
    assert low[1] == high[1] == 0.0  # an all-zero sample resamples to zero every time


def test_binomial_quantile_equals_scipy_stats() -> None:
    from emergebench_report.bootstrap import binomial_quantile
    from scipy.stats import binom

    rng = np.random.default_rng(0)
    n = rng.integers(1, 3000, 3000).astype(float)
    p = rng.random(3000)
    p[:50], p[50:100], p[100:200] = 0.0, 1.0, 1.0 / n[100:200]
    for q in (0.025, 0.5, 0.975):
        assert np.array_equal(binomial_quantile(q, n, p), binom.ppf(q, n, p))
