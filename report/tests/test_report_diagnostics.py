"""Emergence diagnostics on synthetic curves whose answer is known in closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest
from emergebench_report.diagnostics import B_CAP, big_bench_measures, diagnose, pair_verdict

X = np.linspace(7.0, 11.0, 9)  # log10(parameters) of nine models, 10M to 100B


def binomial_se(y: np.ndarray, n: int = 400) -> np.ndarray:
    return np.sqrt(np.clip(y * (1 - y), 1e-6, None) / n)


def test_a_straight_line_is_smooth_and_its_linearity_is_its_number_of_steps() -> None:
    y = 0.1 + 0.2 * (X - 7.0)
    d = diagnose(X, y, binomial_se(y))
    assert d.verdict == "smooth"
    # every consecutive step is 0.1: L = (0.9 - 0.1) / RootMeanSquare(0.1, ...) = 8 by hand
    assert d.linearity == pytest.approx(8.0)
    # and B = (0.9 - 0.1) / RootMedianSquare(0.1, ...) = 8
    assert d.breakthroughness == pytest.approx(8.0)
    assert d.delta_aic is not None and d.delta_aic < 10


def test_a_single_jump_is_sharp_and_located() -> None:
    # flat at 0.05 up to 10^9 parameters, then 0.85: the jump lies between x = 9.0 and x = 9.5
    y = np.where(X <= 9.0, 0.05, 0.85)
    d = diagnose(X, y, binomial_se(y))
    assert d.verdict == "sharp"
    assert d.breakpoint_low is not None and d.breakpoint_high is not None
    assert d.breakpoint_low >= 8.99 and d.breakpoint_high <= 9.51
    # one jump of 0.8 among 8 steps: L = 0.8 / sqrt(0.8^2 / 8) = sqrt(8)
    assert d.linearity == pytest.approx(math.sqrt(8))
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
    assert linearity == pytest.approx(-8.0)
    assert breakthrough == pytest.approx(-8.0)


@pytest.mark.parametrize("m", [4, 10, 25])
def test_linearity_of_a_parabola_in_closed_form(m: int) -> None:
    """y_i = (i/m)^2, i = 0..m: steps (2i + 1)/m^2, I(y) = 1, mean squared step (4m^2 - 1)/(3m^4),
    so L = m^2 sqrt(3 / (4m^2 - 1)) (m = 4: 16 sqrt(3/63) = 3.4915)."""
    x = np.linspace(7.0, 11.0, m + 1)
    y = (np.arange(m + 1) / m) ** 2
    linearity, breakthrough = big_bench_measures(x, y)
    assert linearity == pytest.approx(m**2 * math.sqrt(3 / (4 * m**2 - 1)))
    steps = (2 * np.arange(m) + 1) / m**2
    assert breakthrough == pytest.approx(1 / math.sqrt(np.median(steps**2)))


def test_measures_by_hand_on_an_uneven_and_a_non_monotone_curve() -> None:
    x = np.array([7.0, 7.5, 9.0, 9.2, 11.0])  # unevenly spaced: only the order of x matters
    linearity, breakthrough = big_bench_measures(x, np.array([0.0, 0.1, 0.3, 0.6, 1.0]))
    # steps 0.1, 0.2, 0.3, 0.4: mean square 0.075, median square (0.04 + 0.09) / 2 = 0.065
    assert linearity == pytest.approx(1 / math.sqrt(0.075))  # 3.6515
    assert breakthrough == pytest.approx(1 / math.sqrt(0.065))  # 3.9223
    # best model (0.5, 2nd) is smaller than the worst (0.1, 3rd): I(y) = -(0.5 - 0.1) = -0.4
    linearity, breakthrough = big_bench_measures(x[:4], np.array([0.2, 0.5, 0.1, 0.4]))
    assert linearity == pytest.approx(-0.4 / math.sqrt((0.09 + 0.16 + 0.09) / 3))  # -1.1882
    assert breakthrough == pytest.approx(-0.4 / 0.3)


def test_mirage_exact_match_looks_sharp_per_token_looks_smooth() -> None:
    """Schaeffer et al. 2023: per-token accuracy p rising linearly in log-parameters gives an
    exact-match rate p^L over L tokens that stays near zero and then shoots up."""
    tokens = 40
    p = 0.6 + 0.39 * (X - 7.0) / 4.0  # linear: 0.60 at 10M parameters to 0.99 at 100B
    exact = p**tokens
    per_token = diagnose(X, p, binomial_se(p))
    exact_match = diagnose(X, exact, binomial_se(exact))
    assert per_token.verdict == "smooth"
    assert per_token.linearity == pytest.approx(8.0)  # equal steps: L = number of steps
    assert exact_match.linearity < per_token.linearity / 2
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
    assert d.linearity == pytest.approx(2.0)  # two equal steps
