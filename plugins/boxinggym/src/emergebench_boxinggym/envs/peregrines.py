"""Peregrines (spec 3.7): falcon counts over time, Poisson with a cubic log-rate."""

from __future__ import annotations

from typing import Any

import lazy_loader as lazy
import numpy as np

from .base import DesignError, Environment, EvalPoint, Goal, Params, numbers, parse_float
from .priors import Normal

stats = lazy.load("scipy.stats", suppress_warning=True)  # scipy loads on first use: registering the plugin stays cheap

MAX_TIME = 5.0
PAPER_SMOOTHING = 1e-4


def rate(theta: Params, t: float) -> np.ndarray:
    return np.exp(theta["alpha"] + theta["beta1"] * t + theta["beta2"] * t**2 + theta["beta3"] * t**3)


class Peregrines(Environment):
    key = "peregrines"
    title = "Peregrine falcons"
    outcome = "count"
    # the prior spreads the Poisson rate over ~1500 counts: 2048 quasi-random draws keep the exact sum
    # over that support fast and its EIG within 2% (tests/test_boxinggym_eig_accuracy.py)
    eig_prior_draws = 2048
    priors = {
        "alpha": Normal(4.5, 0.1),
        "beta1": Normal(1.2, 0.1),
        "beta2": Normal(0.07, 0.01),
        "beta3": Normal(-0.24, 0.05),
    }

    def sample_prior(self, rng: np.random.Generator, n: int) -> Params:
        return {
            "alpha": rng.normal(4.5, 0.1, n),
            "beta1": rng.normal(1.2, 0.1, n),
            "beta2": rng.normal(0.07, 0.01, n),
            "beta3": rng.normal(-0.24, 0.05, n),
        }

    def count_distribution(self, theta: Params, design: Any) -> tuple[str, Any]:
        return "poisson", rate(theta, design)

    def simulate(self, theta: Params, design: Any, rng: np.random.Generator) -> np.ndarray:
        return rng.poisson(rate(theta, design))

    def log_lik_matrix(self, theta: Params, design: Any, ys: np.ndarray) -> np.ndarray:
        return stats.poisson.logpmf(np.asarray(ys).reshape(-1, 1), rate(theta, design)[None, :])

    def paper_log_lik_matrix(self, theta: Params, design: Any, ys: np.ndarray) -> np.ndarray:
        return np.log(stats.poisson.pmf(np.asarray(ys).reshape(-1, 1), rate(theta, design)[None, :]) + PAPER_SMOOTHING)

    def validate(self, text: str) -> Any:
        values = numbers(text)
        what = "a time" if self.include_prior else "an input"
        if len(values) != 1:
            raise DesignError(f"Input must be a single number, {what} between 0 and {MAX_TIME:g}; got {text!r}.")
        if not 0 <= values[0] <= MAX_TIME:
            raise DesignError(f"The {what.split()[1]} must be between 0 and {MAX_TIME:g}; got {values[0]}.")
        return float(values[0])

    def random_design(self, rng: np.random.Generator) -> Any:
        return float(rng.uniform(0, MAX_TIME))

    def format_design(self, design: Any) -> str:
        return f"{design:.2f}"

    def format_observation(self, y: Any) -> str:
        return str(int(y))

    def description(self, include_prior: bool) -> str:
        if include_prior:
            return "The population count of peregrine falcons varies at different times. You can count them at a time."
        return "The environment gives an integer-valued response to a float-valued input."

    def design_instructions(self, include_prior: bool) -> str:
        what = "a time" if include_prior else "an input"
        return f"Make an observation by giving {what} between 0 and {MAX_TIME:g}, e.g. <observe>1.5</observe>."


class PopulationGoal(Goal):
    name = "direct"
    kind = "squared"
    paper_norm = (10991.5464, 15725.1157)
    description = "predict the falcon count at a given time"

    def eval_points(self, rng: np.random.Generator, n: int) -> list[EvalPoint]:
        points = []
        for _ in range(n):
            t = round(float(4 * rng.beta(2, 5)), 1)
            truth = int(self.env.simulate(self.env.theta, t, rng)[0])
            points.append(EvalPoint(t, truth, self.question(t)))
        return points

    def question(self, t: float) -> str:
        if not self.include_prior:
            return f"Predict the integer response to the input {t}. Respond with an integer."
        return f"What is the population count of peregrine falcons at time {t}? Respond with an integer."

    def goal_text(self, include_prior: bool) -> str:
        if include_prior:
            return "Your goal is to be able to predict the population count of peregrine falcons at a given time."
        return "Your goal is to be able to predict the integer response for a given input."

    def answer_format(self) -> str:
        return "an integer"

    def parse(self, text: str) -> Any | None:
        value = parse_float(text)
        return None if value is None else int(value)

    def baseline_prediction(self, query: Any, prior: Params, rng: np.random.Generator) -> Any:
        return float(np.mean(rate(prior, query)))

    def item_error(self, prediction: Any, truth: Any) -> float:
        return float((prediction - truth) ** 2)


Peregrines.goals = {"direct": PopulationGoal}
