"""Location finding (spec 3.1): three hidden point sources; the signal at a point is the sum of
inverse-square contributions plus a background, observed with Gaussian noise."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from .base import DesignError, Environment, EvalPoint, Goal, Params, normal_logpdf, numbers, parse_float
from .priors import Normal

N_SOURCES = 3
DIM = 2
BACKGROUND = 0.1
MAX_SIGNAL = 1e-4  # m in I(x) = b + sum alpha / (m + |theta - x|^2)
STRENGTH = 1.0
NOISE_SD = 0.5


def intensity(theta: Params, x: np.ndarray, n_sources: int = N_SOURCES) -> np.ndarray:
    """Noise-free signal at point ``x`` for every draw of the source locations."""
    src = theta["sources"][:, :n_sources, :]
    sq = np.sum((src - np.asarray(x, dtype=float)[None, None, :]) ** 2, axis=-1)
    return BACKGROUND + np.sum(STRENGTH / (MAX_SIGNAL + sq), axis=1)


class LocationFinding(Environment):
    key = "location_finding"
    title = "Location finding"
    outcome = "continuous"
    priors = {"sources": Normal(0.0, 1.0)}

    def sample_prior(self, rng: np.random.Generator, n: int) -> Params:
        return {"sources": rng.standard_normal((n, N_SOURCES, DIM))}

    def simulate(self, theta: Params, design: Any, rng: np.random.Generator) -> np.ndarray:
        mean = intensity(theta, design)
        return np.round(rng.normal(mean, NOISE_SD), 2)

    def log_lik_matrix(self, theta: Params, design: Any, ys: np.ndarray) -> np.ndarray:
        return normal_logpdf(np.asarray(ys, float).reshape(-1, 1), intensity(theta, design)[None, :], NOISE_SD)

    def gaussian_outcome(self, theta: Params, design: Any) -> tuple[np.ndarray, float, bool]:
        return intensity(theta, design), NOISE_SD, False

    def paper_log_lik_matrix(self, theta: Params, design: Any, ys: np.ndarray) -> np.ndarray:
        # the reference's likelihood loops over range(dim) == 2 sources instead of all 3
        mean = intensity(theta, design, n_sources=DIM)
        return normal_logpdf(np.asarray(ys, float).reshape(-1, 1), mean[None, :], NOISE_SD)

    def validate(self, text: str) -> Any:
        values = numbers(text)
        if len(values) != DIM:
            raise DesignError(
                f"Input must be a list of {DIM} numbers, the coordinates of a point, e.g. [0.5, -1.2]; got {text!r}."
            )
        return (values[0], values[1])

    def random_design(self, rng: np.random.Generator) -> Any:
        x = rng.uniform(-2, 2, DIM)
        return (float(x[0]), float(x[1]))

    def format_design(self, design: Any) -> str:
        return f"[{design[0]:.2f}, {design[1]:.2f}]"

    def format_observation(self, y: Any) -> str:
        return f"{float(y):.2f}"

    def description(self, include_prior: bool) -> str:
        if include_prior:
            return (
                f"The intensity at any point in a {DIM}-dimensional space is the superposition of signals from "
                f"{N_SOURCES} sources. Each source emits a signal of the same strength that decays with the squared "
                "distance from it, and there is a small background signal. Measurements are noisy. The locations "
                "of the sources are unknown."
            )
        return f"Each point on a grid (a {DIM}-dimensional vector) has an associated floating-point number."

    def design_instructions(self, include_prior: bool) -> str:
        return (
            f"Make an observation by giving a point as a list of {DIM} numbers, e.g. <observe>[0.5, 1]</observe>. "
            "Any real coordinates are allowed."
        )


class SignalGoal(Goal):
    """Predict the noise-free signal at a new point."""

    name = "direct"
    kind = "squared"
    paper_norm = (12.59, 38.03)
    description = "predict the signal intensity at new points"
    paper_clip = (0.0, 10000.0)
    # fixed mode caps each squared error: the signal is heavy-tailed near a source (up to 1/m = 1e4),
    # so without a cap one lucky query point decides both the score and its normalisation
    item_cap = 10000.0

    def eval_points(self, rng: np.random.Generator, n: int) -> list[EvalPoint]:
        points = []
        for _ in range(n):
            loc = rng.standard_normal(DIM)
            truth = float(intensity(self.env.theta, loc)[0])
            points.append(EvalPoint(tuple(float(v) for v in loc), truth, self.question(loc)))
        return points

    def question(self, loc: np.ndarray) -> str:
        where = f"[{loc[0]:.2f}, {loc[1]:.2f}]"
        if self.include_prior:
            return f"Predict the intensity at {where}. Answer up to two decimal places."
        return f"Predict the number associated with the vector {where}. Answer up to two decimal places."

    def goal_text(self, include_prior: bool) -> str:
        if include_prior:
            return "Your goal is to be able to predict the signal intensity at any given point."
        return f"Your goal is to be able to predict the number associated with any given {DIM}-dimensional vector."

    def answer_format(self) -> str:
        return "a single number"

    def parse(self, text: str) -> Any | None:
        return parse_float(text)

    def baseline_prediction(self, query: Any, prior: Params, rng: np.random.Generator) -> Any:
        return float(np.mean(intensity(prior, np.asarray(query))))

    def item_error(self, prediction: Any, truth: Any) -> float:
        error = float((prediction - truth) ** 2)
        return min(error, self.item_cap) if self.mode == "fixed" else error


class SourceGoal(Goal):
    """Recover the source coordinates (the parameter-recovery goal)."""

    name = "source"
    kind = "squared"
    paper_norm = (1.57, 1.15385)
    prior_only = True
    parameter_goal = True
    description = "locate the three sources"

    def eval_points(self, rng: np.random.Generator, n: int) -> list[EvalPoint]:
        truth = self.env.theta["sources"][0].copy()
        question = (
            f"What are the locations of the {N_SOURCES} sources? Answer with a nested list of "
            f"{N_SOURCES} points, e.g. [[x1, y1], [x2, y2], [x3, y3]]."
        )
        return [EvalPoint(None, truth, question)]

    def goal_text(self, include_prior: bool) -> str:
        return f"Your goal is to find the locations of the {N_SOURCES} sources."

    def answer_format(self) -> str:
        return f"a nested list of {N_SOURCES} points [[x1, y1], [x2, y2], [x3, y3]]"

    def parse(self, text: str) -> Any | None:
        values = numbers(text)
        if len(values) != N_SOURCES * DIM:
            return None
        return np.array(values).reshape(N_SOURCES, DIM)

    def format_prediction(self, prediction: Any) -> str:
        return str(np.round(prediction, 3).tolist())

    def baseline_prediction(self, query: Any, prior: Params, rng: np.random.Generator) -> Any:
        return prior["sources"].mean(axis=0)

    def item_error(self, prediction: Any, truth: Any) -> float:
        """Mean squared coordinate error under the best matching of predicted to true sources."""
        pred = np.asarray(prediction)
        return float(min(np.mean((pred[list(p)] - truth) ** 2) for p in itertools.permutations(range(N_SOURCES))))


LocationFinding.goals = {"direct": SignalGoal, "source": SourceGoal}
