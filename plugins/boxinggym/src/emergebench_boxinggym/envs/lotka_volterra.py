"""Lotka-Volterra predator-prey (spec 3.8): deterministic ODE from (40 prey, 9 predators), with
no observation noise, so the information gain of a design is not defined (as in the reference)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import DesignError, Environment, EvalPoint, Goal, Params, numbers
from .priors import Normal

INITIAL = (40.0, 9.0)
MAX_TIME = 50.0
DT = 0.01
CAP = 1e9  # prior draws with a negative predation rate explode; the cap keeps them finite


def populations(theta: Params, t: float, dt: float = DT) -> np.ndarray:
    """Prey and predator counts at time ``t`` for every draw: classical RK4, vectorised over draws."""
    n = len(theta["alpha"])
    state = np.tile(np.array(INITIAL, dtype=float), (n, 1))
    if t <= 0:
        return state
    steps = int(np.ceil(t / dt))
    h = t / steps
    a, b, g, d = theta["alpha"], theta["beta"], theta["gamma"], theta["delta"]

    def deriv(s: np.ndarray) -> np.ndarray:
        prey, pred = s[:, 0], s[:, 1]
        return np.stack([a * prey - b * prey * pred, d * prey * pred - g * pred], axis=1)

    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            k1 = deriv(state)
            k2 = deriv(state + 0.5 * h * k1)
            k3 = deriv(state + 0.5 * h * k2)
            k4 = deriv(state + h * k3)
            state = np.clip(np.nan_to_num(state + (h / 6.0) * (k1 + 2 * k2 + 2 * k3 + k4), nan=CAP), 0.0, CAP)
    return state


def observe(theta: Params, t: float) -> np.ndarray:
    """What the scientist sees: populations rounded to integers and clipped at zero."""
    return np.maximum(np.round(populations(theta, t)), 0).astype(int)


class LotkaVolterra(Environment):
    key = "lotka_volterra"
    title = "Lotka-Volterra predator-prey"
    outcome = "deterministic"
    priors = {
        "alpha": Normal(0.1, 0.01),
        "beta": Normal(0.02, 0.01),
        "gamma": Normal(0.4, 0.04),
        "delta": Normal(0.01, 0.001),
    }

    def sample_prior(self, rng: np.random.Generator, n: int) -> Params:
        return {
            "alpha": rng.normal(0.1, 0.01, n),
            "beta": rng.normal(0.02, 0.01, n),
            "gamma": rng.normal(0.4, 0.04, n),
            "delta": rng.normal(0.01, 0.001, n),
        }

    def simulate(self, theta: Params, design: Any, rng: np.random.Generator) -> np.ndarray:
        return observe(theta, design)

    def log_lik_matrix(self, theta: Params, design: Any, ys: np.ndarray) -> np.ndarray:
        """0 where a draw reproduces the observation exactly, -inf elsewhere (no noise)."""
        sim = observe(theta, design)
        ys = np.asarray(ys).reshape(-1, 2)
        match = np.all(ys[:, None, :] == sim[None, :, :], axis=-1)
        return np.where(match, 0.0, -np.inf)

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
        return f"[{int(y[0])}, {int(y[1])}]"

    def description(self, include_prior: bool) -> str:
        if include_prior:
            return (
                "You are observing the populations of predators and prey at different times. An observation "
                "returns [prey, predator] at the time you choose."
            )
        return "The environment gives two nonnegative floating numbers as a response to a float input."

    def design_instructions(self, include_prior: bool) -> str:
        what = "a time" if include_prior else "an input"
        return f"Make an observation by giving {what} between 0 and {MAX_TIME:g}, e.g. <observe>2.5</observe>."


class PopulationsGoal(Goal):
    name = "direct"
    kind = "absolute"
    paper_norm = (8.32745, 17.54829)
    description = "predict the prey and predator populations at a given time"

    def eval_points(self, rng: np.random.Generator, n: int) -> list[EvalPoint]:
        points = []
        for _ in range(n):
            t = round(float(4 * rng.beta(2, 5)), 1)
            truth = observe(self.env.theta, t)[0]
            points.append(EvalPoint(t, truth, self.question(t)))
        return points

    def question(self, t: float) -> str:
        if not self.include_prior:
            return f"Predict the response (two nonnegative numbers) to the input {t}. Answer as [a, b]."
        return f"What are the populations of prey and predators at time {t}? Answer as [prey, predator]."

    def goal_text(self, include_prior: bool) -> str:
        if include_prior:
            return "Your goal is to be able to predict the populations of predators and prey at a given time."
        return "Your goal is to be able to predict the two numbers returned for a given input."

    def answer_format(self) -> str:
        return "a list of two numbers [prey, predator]" if self.include_prior else "a list of two numbers [a, b]"

    def parse(self, text: str) -> Any | None:
        values = numbers(text)
        return np.array(values[:2]) if len(values) >= 2 else None

    def format_prediction(self, prediction: Any) -> str:
        return str(np.round(prediction, 3).tolist())

    def baseline_prediction(self, query: Any, prior: Params, rng: np.random.Generator) -> Any:
        return observe(prior, query).mean(axis=0)

    def item_error(self, prediction: Any, truth: Any) -> float:
        return float(np.mean(np.abs(np.asarray(prediction, float) - np.asarray(truth, float))))


LotkaVolterra.goals = {"direct": PopulationsGoal}
