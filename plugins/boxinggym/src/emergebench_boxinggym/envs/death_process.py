"""Death process (spec 3.3): a disease spreads in a population of 50; the number infected at
time x is Binomial(50, 1 - exp(-theta x)), each query an independent draw."""

from __future__ import annotations

from typing import Any

import lazy_loader as lazy
import numpy as np

from .base import DesignError, Environment, EvalPoint, Goal, Params, numbers, parse_float
from .priors import TruncatedNormal

stats = lazy.load("scipy.stats", suppress_warning=True)  # scipy loads on first use: registering the plugin stays cheap

POPULATION = 50
THETA_MEAN, THETA_SD, THETA_LOW, THETA_HIGH = 1.0, 1.0, 0.0, 2.0
# the reference overwrites both questions with their answer format only (its bug, kept in paper mode)
PAPER_QUESTION = " Respond with a positive integer."
PAPER_RATE_QUESTION = " Respond with a positive real number."


def infected_fraction(theta: Params, x: float) -> np.ndarray:
    return 1.0 - np.exp(-theta["theta"] * x)


class DeathProcess(Environment):
    key = "death_process"
    title = "Death process"
    outcome = "count"
    priors = {"theta": TruncatedNormal(THETA_MEAN, THETA_SD, THETA_LOW, THETA_HIGH)}

    def sample_prior(self, rng: np.random.Generator, n: int) -> Params:
        a = (THETA_LOW - THETA_MEAN) / THETA_SD
        b = (THETA_HIGH - THETA_MEAN) / THETA_SD
        return {"theta": stats.truncnorm.rvs(a, b, loc=THETA_MEAN, scale=THETA_SD, size=n, random_state=rng)}

    def count_distribution(self, theta: Params, design: Any) -> tuple[str, Any]:
        return "binomial", (POPULATION, infected_fraction(theta, design))

    def simulate(self, theta: Params, design: Any, rng: np.random.Generator) -> np.ndarray:
        return rng.binomial(POPULATION, infected_fraction(theta, design))

    def log_lik_matrix(self, theta: Params, design: Any, ys: np.ndarray) -> np.ndarray:
        p = np.clip(infected_fraction(theta, design), 1e-12, 1 - 1e-12)
        return stats.binom.logpmf(np.asarray(ys).reshape(-1, 1), POPULATION, p[None, :])

    def paper_log_lik_matrix(self, theta: Params, design: Any, ys: np.ndarray) -> np.ndarray:
        # the reference scores the mean per-individual Bernoulli log-likelihood, not the Binomial pmf
        p = np.clip(infected_fraction(theta, design), 1e-12, 1 - 1e-12)[None, :]
        y = np.asarray(ys, float).reshape(-1, 1)
        return (y * np.log(p) + (POPULATION - y) * np.log1p(-p)) / POPULATION

    def validate(self, text: str) -> Any:
        values = numbers(text)
        what = "time" if self.include_prior else "input"
        if len(values) != 1:
            raise DesignError(f"Input must be a single number, a {what} between 0 and 2; got {text!r}.")
        x = values[0]
        if not 0 < x < 2:
            raise DesignError(f"The {what} must be greater than 0 and less than 2; got {x}.")
        return float(x)

    def random_design(self, rng: np.random.Generator) -> Any:
        return float(rng.uniform(0, 2))

    def format_design(self, design: Any) -> str:
        return f"{design:.3f}"

    def format_observation(self, y: Any) -> str:
        return str(int(y))

    def description(self, include_prior: bool) -> str:
        if include_prior:
            return (
                f"There is a disease spreading in a population of {POPULATION} individuals. You can observe how many "
                "are infected at a chosen time t, with 0 < t < 2. Each observation is a fresh sample."
            )
        return (
            f"The environment returns a positive integer (with a maximum value of {POPULATION}) for a positive real "
            "input between 0 and 2."
        )

    def design_instructions(self, include_prior: bool) -> str:
        return "Make an observation by giving one number strictly between 0 and 2, e.g. <observe>0.5</observe>."


class InfectedGoal(Goal):
    name = "direct"
    kind = "squared"
    paper_norm = (222.2998, 189.7685)
    description = "predict the number infected at a given time"

    def eval_points(self, rng: np.random.Generator, n: int) -> list[EvalPoint]:
        points = []
        for _ in range(n):
            x = float(rng.uniform(0.001, 2))
            truth = int(self.env.simulate(self.env.theta, x, rng)[0])
            points.append(EvalPoint(x, truth, self.question(x)))
        return points

    def question(self, x: float) -> str:
        if self.mode == "paper":  # the reference overwrites the question, hiding the time
            return PAPER_QUESTION
        if not self.include_prior:
            return f"What is the output of the environment for the input {x:.3f}? Respond with a positive integer."
        return f"How many individuals are infected at time {x:.3f}? Respond with a positive integer."

    def goal_text(self, include_prior: bool) -> str:
        if include_prior:
            return "Your goal is to be able to predict the number of infected individuals at a given time."
        return "Your goal is to be able to predict the integer response for a given input."

    def answer_format(self) -> str:
        return "an integer"

    def parse(self, text: str) -> Any | None:
        return parse_float(text)

    def baseline_prediction(self, query: Any, prior: Params, rng: np.random.Generator) -> Any:
        return float(POPULATION * np.mean(infected_fraction(prior, query)))

    def item_error(self, prediction: Any, truth: Any) -> float:
        return float((prediction - truth) ** 2)


class InfectionRateGoal(Goal):
    name = "infection"
    kind = "squared"
    paper_norm = (0.29028, 1.75699)
    prior_only = True
    parameter_goal = True
    description = "infer the infection rate theta"
    # the reference's EIG branch is inverted, so its "posterior" is always the prior
    paper_eig_posterior_is_prior = True

    def eval_points(self, rng: np.random.Generator, n: int) -> list[EvalPoint]:
        truth = float(self.env.theta["theta"][0])
        if self.mode == "paper":
            question = PAPER_RATE_QUESTION  # theta lies in (0, 2): a real number, as the reference asks
        else:
            question = "What is the infection rate theta? Respond with a positive number."
        return [EvalPoint(None, truth, question)]

    def goal_text(self, include_prior: bool) -> str:
        return (
            "Your goal is to estimate the infection rate theta, where the chance that an individual is infected "
            "by time t is 1 - exp(-theta * t)."
        )

    def answer_format(self) -> str:
        return "a single number"

    def parse(self, text: str) -> Any | None:
        return parse_float(text)

    def baseline_prediction(self, query: Any, prior: Params, rng: np.random.Generator) -> Any:
        return float(np.mean(prior["theta"]))

    def item_error(self, prediction: Any, truth: Any) -> float:
        return float((prediction - truth) ** 2)


DeathProcess.goals = {"direct": InfectedGoal, "infection": InfectionRateGoal}
