"""Simulators against prior-predictive moments computed analytically or by an independent method.

Tolerances are 4-5 Monte Carlo standard errors (or stated otherwise), so a correct simulator
fails with probability well under 1e-4 and a wrong constant fails for sure.
"""

from __future__ import annotations

import numpy as np
import pytest
from emergebench_boxinggym.envs import ENVIRONMENTS
from emergebench_boxinggym.envs.death_process import DeathProcess
from emergebench_boxinggym.envs.dugongs import Dugongs
from emergebench_boxinggym.envs.emotion import EMOTIONS, Emotion
from emergebench_boxinggym.envs.hyperbolic import HyperbolicDiscounting
from emergebench_boxinggym.envs.irt import ItemResponse
from emergebench_boxinggym.envs.location_finding import LocationFinding, intensity
from emergebench_boxinggym.envs.lotka_volterra import LotkaVolterra, populations
from emergebench_boxinggym.envs.moral_machines import MoralMachines, attributes
from emergebench_boxinggym.envs.peregrines import Peregrines
from emergebench_boxinggym.envs.survival import SurvivalAnalysis
from scipy import integrate, stats
from scipy.integrate import odeint

N = 40000


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_all_ten_environments_registered() -> None:
    assert len(ENVIRONMENTS) == 10
    goals = {k: sorted(v.goals) for k, v in ENVIRONMENTS.items()}
    assert goals["location_finding"] == ["direct", "source"]
    assert goals["hyperbolic_discounting"] == ["direct", "discount"]
    assert goals["death_process"] == ["direct", "infection"]


def test_location_signal_mean_and_noise() -> None:
    env = LocationFinding(rng(1))
    theta = {"sources": np.repeat(env.theta["sources"], N, axis=0)}
    x = (0.3, -0.4)
    ys = env.simulate(theta, x, rng(2))
    exact = intensity(env.theta, np.array(x))[0]
    assert abs(ys.mean() - exact) < 5 * 0.5 / np.sqrt(N)
    assert abs(ys.var() - 0.25) < 0.01  # rounding to 2 dp adds 1e-4 / 12


def test_location_intensity_by_hand() -> None:
    theta = {"sources": np.array([[[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]]])}
    x = np.array([1.0, 1.0])
    by_hand = 0.1 + 1 / (1e-4 + 2.0) + 1 / (1e-4 + 1.0) + 1 / (1e-4 + 2.0)
    assert intensity(theta, x)[0] == pytest.approx(by_hand)


def quantile_grid(dist: stats.rv_continuous, n: int = 2000) -> np.ndarray:
    """Deterministic quadrature nodes: the distribution's quantiles at the midpoints of n equal-mass cells."""
    return dist.ppf((np.arange(n) + 0.5) / n)


def test_hyperbolic_prior_predictive_matches_quadrature() -> None:
    env = HyperbolicDiscounting(rng(0))
    design = (50, 100, 60)
    prior = env.sample_prior(rng(3), N)
    mc = env.simulate(prior, design, rng(4)).mean()
    log_k = quantile_grid(stats.norm(-4.25, 0.5))[:, None]
    alpha = quantile_grid(stats.halfnorm(scale=2.0))[None, :]
    exact = np.mean(0.01 + 0.98 * stats.norm.cdf((100 / (1 + np.exp(log_k) * 60) - 50) / alpha))
    assert abs(mc - exact) < 5 * np.sqrt(exact * (1 - exact) / N) + 1e-3
    assert abs(np.mean(prior["log_k"]) + 4.25) < 5 * 0.5 / np.sqrt(N)


def test_death_prior_predictive_mean_matches_quadrature() -> None:
    env = DeathProcess(rng(0))
    x = 0.7
    prior = env.sample_prior(rng(5), N)
    assert prior["theta"].min() >= 0 and prior["theta"].max() <= 2
    ys = env.simulate(prior, x, rng(6))
    dist = stats.truncnorm(-1, 1, loc=1, scale=1)
    exact, _ = integrate.quad(lambda t: 50 * (1 - np.exp(-t * x)) * dist.pdf(t), 0, 2)
    assert abs(ys.mean() - exact) < 5 * ys.std() / np.sqrt(N)


def test_irt_prior_predictive_is_one_half_and_table_is_fixed() -> None:
    env = ItemResponse(rng(0))
    prior = env.sample_prior(rng(7), N)
    ys = env.simulate(prior, (2, 3), rng(8))
    assert abs(ys.mean() - 0.5) < 5 * 0.5 / np.sqrt(N)  # gamma is symmetric about 0
    assert all(env.step((1, 1)) == env.step((1, 1)) for _ in range(5))


def test_survival_death_probability_is_at_least_half_and_matches_quadrature() -> None:
    env = SurvivalAnalysis(rng(0))
    prior = env.sample_prior(rng(9), N)
    p = env.prob_one(prior, 3)
    assert p.min() >= 0.5
    t, m = 2.0, 1
    lam = quantile_grid(stats.gamma(0.1, scale=10), 4000)[:, None]
    beta = quantile_grid(stats.halfnorm(scale=10), 4000)[None, :]
    exact = np.mean(1 / (1 + np.exp(-np.minimum(t * np.exp(np.minimum(beta * m, 50)) * lam, 50))))
    from emergebench_boxinggym.envs.survival import death_prob

    mc = death_prob(prior, t, m).mean()
    assert abs(mc - exact) < 5 * np.sqrt(0.25 / N) + 2e-3


def test_dugongs_folded_normal_mean() -> None:
    env = Dugongs(rng(0))
    theta = {k: np.repeat(v, N) for k, v in env.theta.items()}
    age = 1.5
    mu = float(env.theta["a"][0] - env.theta["b"][0] * abs(env.theta["lam"][0]) ** age)
    sd = 0.25
    exact = sd * np.sqrt(2 / np.pi) * np.exp(-(mu**2) / (2 * sd**2)) + mu * (1 - 2 * stats.norm.cdf(-mu / sd))
    ys = env.simulate(theta, age, rng(10))
    assert ys.min() >= 0
    assert abs(ys.mean() - exact) < 5 * ys.std() / np.sqrt(N)
    # the folded-normal likelihood integrates to 1 over y >= 0
    grid = np.linspace(0, 6, 6001)
    dens = np.exp(env.log_lik_matrix(env.theta, age, grid)[:, 0])
    assert integrate.trapezoid(dens, grid) == pytest.approx(1.0, abs=1e-3)


def test_peregrines_prior_predictive_mean_is_lognormal_mean() -> None:
    env = Peregrines(rng(0))
    t = 1.2
    prior = env.sample_prior(rng(11), N)
    ys = env.simulate(prior, t, rng(12))
    mean_log = 4.5 + 1.2 * t + 0.07 * t**2 - 0.24 * t**3
    var_log = 0.1**2 + (0.1 * t) ** 2 + (0.01 * t**2) ** 2 + (0.05 * t**3) ** 2
    exact = np.exp(mean_log + var_log / 2)
    assert abs(ys.mean() - exact) < 5 * ys.std() / np.sqrt(N)


def test_lotka_volterra_rk4_matches_odeint() -> None:
    env = LotkaVolterra(rng(0))
    th = {k: float(v[0]) for k, v in env.theta.items()}

    def rhs(s: np.ndarray, _t: float) -> list[float]:
        prey, pred = s
        return [th["alpha"] * prey - th["beta"] * prey * pred, th["delta"] * prey * pred - th["gamma"] * pred]

    for t in (0.5, 3.7, 20.0, 50.0):
        ref = odeint(rhs, [40.0, 9.0], [0.0, t], rtol=1e-10, atol=1e-10)[-1]
        assert populations(env.theta, t)[0] == pytest.approx(ref, rel=1e-5, abs=1e-5)
    assert env.step(10.0).tolist() == env.step(10.0).tolist()  # deterministic


def test_moral_machines_choice_frequency_and_attributes() -> None:
    assert attributes(("boy", "dog")).tolist() == [1, 0, 1, 0, 0, 0]
    assert attributes(("pregnant_woman", "large_man")).tolist() == [2, -1, 0, 1.5, -1, 2]
    env = MoralMachines(rng(0))
    design = (("boy", "girl"), ("old_man",), "swerve")
    theta = {k: np.repeat(v, N) for k, v in env.theta.items()}
    ys = env.simulate(theta, design, rng(13))
    assert set(np.unique(ys)) <= {1, 2}
    p1 = env.prob_one(env.theta, design)[0]
    assert abs(np.mean(ys == 1) - p1) < 5 * np.sqrt(p1 * (1 - p1) / N)


def test_emotion_rating_distribution_matches_interval_likelihood() -> None:
    env = Emotion(rng(0))
    design = ((10.0, 50.0, 90.0), (0.2, 0.5, 0.3), 2, 90.0)
    theta = {k: np.repeat(v, N, axis=0) for k, v in env.theta.items()}
    ys = env.simulate(theta, design, rng(14))
    assert ys.min() >= 1 and ys.max() <= 9
    # per-emotion frequencies equal the interval masses the likelihood uses
    for j in range(len(EMOTIONS)):
        for v in range(1, 10):
            probe = np.full((1, len(EMOTIONS)), 5)
            probe[0, j] = v
            others = [k for k in range(len(EMOTIONS)) if k != j]
            freq_others = np.mean(np.all(ys[:, others] == 5, axis=1))
            if freq_others < 0.02:
                continue
            joint = np.exp(env.log_lik_matrix(env.theta, design, probe)[0, 0])
            freq = np.mean(np.all(ys == probe[0], axis=1))
            assert abs(freq - joint) < 5 * np.sqrt(joint * (1 - joint) / N) + 1e-3


@pytest.mark.parametrize("key", sorted(ENVIRONMENTS))
def test_same_seed_same_world_and_data(key: str) -> None:
    cls = ENVIRONMENTS[key]
    a, b = cls(rng(42), phrase=False), cls(rng(42), phrase=False)
    for k in a.theta:
        assert np.array_equal(a.theta[k], b.theta[k])
    da, db = a.random_design(rng(1)), b.random_design(rng(1))
    assert repr(da) == repr(db)
    assert np.array_equal(np.asarray(a.step(da)), np.asarray(b.step(db)))
    ga, gb = cls.goals["direct"](a), cls.goals["direct"](b)
    pa, pb = ga.eval_points(rng(3), 5), gb.eval_points(rng(3), 5)
    assert [p.question for p in pa] == [p.question for p in pb]
