"""Emergence diagnostics on synthetic curves whose answer is known in closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest
from emergebench_report.diagnostics import B_CAP, big_bench_measures, diagnose, pair_verdict

X = np.linspace(7.0, 11.0, 9)  # log10(parameters) of nine models, 10M to 100B


def binomial_se(y: np.ndarray, n: int = 400) -> np.ndarray:
    return np.sqrt(np.clip(y * (1 - y), 1e-6, None) / n)


def test_a_straight_line_is_smooth_with_linearity_one() -> None:
    y = 0.1 + 0.2 * (X - 7.0)
    d = diagnose(X, y, binomial_se(y))
    assert d.verdict == "smooth"
    assert d.linearity == pytest.approx(1.0)
    # every consecutive step is 0.1: B = (0.9 - 0.1) / 0.1 = 8 by hand
    assert d.breakthroughness == pytest.approx(8.0)
    assert d.delta_aic is not None and d.delta_aic < 10


def test_a_single_jump_is_sharp_and_located() -> None:
    # flat at 0.05 up to 10^9 parameters, then 0.85: the jump lies between x = 9.0 and x = 9.5
    y = np.where(X <= 9.0, 0.05, 0.85)
    d = diagnose(X, y, binomial_se(y))
    assert d.verdict == "sharp"
    assert d.breakpoint_low is not None and d.breakpoint_high is not None
    assert d.breakpoint_low >= 8.99 and d.breakpoint_high <= 9.51
    # one jump among 8 steps: L = 0.8 * 0.5 / sqrt(0.8^2 * 8 * 0.5^2) = 1 / sqrt(8)
    assert d.linearity == pytest.approx(1 / math.sqrt(8))
    # median squared step is 0: breakthroughness hits its cap
    assert d.breakthroughness == B_CAP


def test_a_logistic_recovers_its_midpoint_and_width() -> None:
    x = np.linspace(7.0, 11.0, 17)
    y = 0.02 + 0.9 / (1 + np.exp(-(x - 9.3) / 0.15))
    d = diagnose(x, y, binomial_se(y, 2000))
    assert d.verdict == "sharp"
    step = 0.04  # the breakpoint grid's resolution on this span
    assert d.breakpoint_low - step <= 9.3 <= d.breakpoint_high + step
    assert d.breakpoint_high - d.breakpoint_low < 0.3
    assert d.width == pytest.approx(2 * math.log(9) * 0.15, rel=0.25)


def test_a_decreasing_curve_has_negative_sign() -> None:
    y = 0.9 - 0.2 * (X - 7.0)
    linearity, breakthrough = big_bench_measures(X, y)
    assert linearity == pytest.approx(-1.0)
    assert breakthrough == pytest.approx(-8.0)


def test_mirage_exact_match_looks_sharp_per_token_looks_smooth() -> None:
    """Schaeffer et al. 2023: per-token accuracy p rising linearly in log-parameters gives an
    exact-match rate p^L over L tokens that stays near zero and then shoots up."""
    tokens = 40
    p = 0.6 + 0.39 * (X - 7.0) / 4.0  # linear: 0.60 at 10M parameters to 0.99 at 100B
    exact = p**tokens
    per_token = diagnose(X, p, binomial_se(p))
    exact_match = diagnose(X, exact, binomial_se(exact))
    assert per_token.verdict == "smooth"
    assert per_token.linearity == pytest.approx(1.0)
    assert exact_match.verdict == "sharp"
    # exact match crosses 1/2 where p = 2^(-1/L): the analytic point lies in the breakpoint interval
    crossing = 7.0 + 4.0 * (0.5 ** (1 / tokens) - 0.6) / 0.39
    assert exact_match.breakpoint_low <= crossing <= exact_match.breakpoint_high + 0.25
    assert exact_match.breakthroughness > 5 * per_token.breakthroughness
    assert pair_verdict(exact_match, per_token) == "sharp under the headline metric only: likely a metric artifact"


def test_too_few_models_gives_no_fit() -> None:
    d = diagnose(X[:3], X[:3] / 10)
    assert d.verdict == "too few models"
    assert d.breakpoint is None
    assert d.linearity == pytest.approx(1.0)
