"""Dugongs (spec 3.6): sea-cow length grows towards an asymptote with age,
|N(a - b |lambda|^x, 0.25)|."""

from __future__ import annotations

from typing import Any

import lazy_loader as lazy
import numpy as np

from .base import DesignError, Environment, EvalPoint, Goal, Params, normal_logpdf, numbers, parse_float
from .priors import Normal

stats = lazy.load("scipy.stats", suppress_warning=True)  # scipy loads on first use: registering the plugin stays cheap

NOISE_SD = 0.25
MAX_AGE = 5.0
PAPER_SMOOTHING = 0.001


def mean_length(theta: Params, age: float) -> np.ndarray:
    return theta["a"] - theta["b"] * np.abs(theta["lam"]) ** age


class Dugongs(Environment):
    key = "dugongs"
    title = "Dugongs"
    outcome = "continuous"
    priors = {"a": Normal(2.0, 0.2), "b": Normal(1.5, 0.5), "lam": Normal(0.4, 0.5)}

    def sample_prior(self, rng: np.random.Generator, n: int) -> Params:
        return {
            "a": rng.normal(2.0, 0.2, n),
            "b": rng.normal(1.5, 0.5, n),
            "lam": rng.normal(0.4, 0.5, n),
        }

    def simulate(self, theta: Params, design: Any, rng: np.random.Generator) -> np.ndarray:
        return np.abs(rng.normal(mean_length(theta, design), NOISE_SD))

    def log_lik_matrix(self, theta: Params, design: Any, ys: np.ndarray) -> np.ndarray:
        """The folded normal: the simulator returns the absolute value of a Gaussian draw."""
        mu = mean_length(theta, design)[None, :]
        y = np.abs(np.asarray(ys, float).reshape(-1, 1))
        return np.logaddexp(normal_logpdf(y, mu, NOISE_SD), normal_logpdf(-y, mu, NOISE_SD))

    def gaussian_outcome(self, theta: Params, design: Any) -> tuple[np.ndarray, float, bool]:
        return mean_length(theta, design), NOISE_SD, True

    def paper_log_lik_matrix(self, theta: Params, design: Any, ys: np.ndarray) -> np.ndarray:
        mu = mean_length(theta, design)[None, :]
        return np.log(stats.norm.pdf(np.asarray(ys, float).reshape(-1, 1), mu, NOISE_SD) + PAPER_SMOOTHING)

    def validate(self, text: str) -> Any:
        values = numbers(text)
        what = "an age" if self.include_prior else "an input"
        if len(values) != 1:
            raise DesignError(f"Input must be a single number, {what} between 0 and {MAX_AGE:g}; got {text!r}.")
        if not 0 <= values[0] <= MAX_AGE:
            raise DesignError(f"The {what.split()[1]} must be between 0 and {MAX_AGE:g}; got {values[0]}.")
        return float(values[0])

    def random_design(self, rng: np.random.Generator) -> Any:
        return float(rng.uniform(0, MAX_AGE))

    def format_design(self, design: Any) -> str:
        return f"{design:.2f}"

    def format_observation(self, y: Any) -> str:
        return f"{float(y):.4f}"

    def description(self, include_prior: bool) -> str:
        if include_prior:
            return (
                "Sea cows (dugongs) are different lengths at different ages. You can measure a dugong of a given age."
            )
        return "The environment gives a float response to a float input."

    def design_instructions(self, include_prior: bool) -> str:
        what = "an age" if include_prior else "an input"
        return f"Make an observation by giving {what} between 0 and {MAX_AGE:g}, e.g. <observe>2.5</observe>."


class LengthGoal(Goal):
    name = "direct"
    kind = "squared"
    paper_norm = (0.90587, 9.23419)
    description = "predict the length of a dugong of a given age"

    def eval_points(self, rng: np.random.Generator, n: int) -> list[EvalPoint]:
        points = []
        for _ in range(n):
            age = float(4 * rng.beta(2, 5))
            truth = float(self.env.simulate(self.env.theta, age, rng)[0])
            points.append(EvalPoint(age, truth, self.question(age)))
        return points

    def question(self, age: float) -> str:
        if not self.include_prior:
            return f"Predict the float response to the input {age:.2f}. Respond with a number."
        return f"Predict the length of a sea cow at age {age:.2f}. Respond with a number."

    def goal_text(self, include_prior: bool) -> str:
        if include_prior:
            return "Your goal is to be able to predict the length of a sea cow given its age."
        return "Your goal is to be able to predict the float response for a given input."

    def answer_format(self) -> str:
        return "a single number"

    def parse(self, text: str) -> Any | None:
        return parse_float(text)

    def baseline_prediction(self, query: Any, prior: Params, rng: np.random.Generator) -> Any:
        return float(np.mean(self.env.simulate(prior, query, rng)))

    def item_error(self, prediction: Any, truth: Any) -> float:
        return float((prediction - truth) ** 2)


Dugongs.goals = {"direct": LengthGoal}
