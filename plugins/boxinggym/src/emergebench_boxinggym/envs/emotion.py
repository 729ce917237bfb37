"""Emotions from outcomes (spec 3.10): a player sees a three-prize lottery and what they won, and
rates 8 emotions on a 1-9 scale. A language model describes the ratings in words, without numbers."""

from __future__ import annotations

import re
from typing import Any

import lazy_loader as lazy
import numpy as np

from .base import ChatMessage, DesignError, Environment, EvalPoint, Goal, Params, numbers
from .priors import HalfNormal, Normal

special = lazy.load("scipy.special", suppress_warning=True)
stats = lazy.load("scipy.stats", suppress_warning=True)  # scipy loads on first use: registering the plugin stays cheap

EMOTIONS = ("happiness", "sadness", "anger", "surprise", "fear", "disgust", "contentment", "disappointment")
ALPHA = np.array([4.5, 3.5, 1.7, 3.3, 1.4, 1.8, 3.7, 2.0])
B_WIN = np.array([0.04, -0.025, -0.005, 0.02, 0.0, -0.005, 0.03, -0.03])
B_PE = np.array([0.035, -0.02, -0.025, 0.01, 0.0, -0.02, 0.02, -0.045])
B_ABS_PE = np.array([-0.015, 0.025, 0.025, 0.035, 0.005, 0.02, -0.01, 0.02])
ALPHA_SD, BETA_SD = 0.1, 0.01
PAPER_SMOOTHING = 1e-4
PROB_TOLERANCE = 1e-6


def mean_ratings(theta: Params, design: Any) -> np.ndarray:
    """Latent mean rating of each emotion, shape (n, 8). ``design`` carries the win value to use."""
    prizes, probs, _, win = design
    pe = win - float(np.dot(probs, prizes))
    return theta["alpha"] + theta["b_win"] * win + theta["b_pe"] * pe + theta["b_abs_pe"] * abs(pe)


def rating_bounds(ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Latent interval that int() truncation and clipping to [1, 9] map onto each rating."""
    lo = np.where(ys <= 1, -np.inf, ys)
    hi = np.where(ys >= 9, np.inf, ys + 1.0)
    return lo, hi


class Emotion(Environment):
    key = "emotion"
    title = "Emotions from outcomes"
    outcome = "continuous"
    prior_only = True
    paper_eig_outer = 100
    priors = {
        "alpha": Normal(ALPHA, ALPHA_SD),
        "b_win": Normal(B_WIN, BETA_SD),
        "b_pe": Normal(B_PE, BETA_SD),
        "b_abs_pe": Normal(B_ABS_PE, BETA_SD),
        "sigma": HalfNormal(1.0),
    }

    def sample_prior(self, rng: np.random.Generator, n: int) -> Params:
        k = len(EMOTIONS)
        return {
            "alpha": rng.normal(ALPHA, ALPHA_SD, (n, k)),
            "b_win": rng.normal(B_WIN, BETA_SD, (n, k)),
            "b_pe": rng.normal(B_PE, BETA_SD, (n, k)),
            "b_abs_pe": rng.normal(B_ABS_PE, BETA_SD, (n, k)),
            "sigma": np.abs(rng.normal(0.0, 1.0, (n, k))),
        }

    def simulate(self, theta: Params, design: Any, rng: np.random.Generator) -> np.ndarray:
        latent = rng.normal(mean_ratings(theta, design), theta["sigma"])
        return np.clip(np.trunc(latent), 1, 9).astype(int)

    def log_lik_matrix(self, theta: Params, design: Any, ys: np.ndarray) -> np.ndarray:
        """Exact probability of the integer ratings: the Gaussian mass of each rating's interval."""
        mu = mean_ratings(theta, design)[None, :, :]
        sd = np.maximum(theta["sigma"], 1e-9)[None, :, :]
        ys = np.asarray(ys, float).reshape(-1, 1, len(EMOTIONS))
        lo, hi = rating_bounds(ys)
        upper = special.log_ndtr((hi - mu) / sd)
        lower = special.log_ndtr((lo - mu) / sd)
        log_mass = upper + np.log1p(-np.exp(np.minimum(lower - upper, -1e-12)))
        return np.sum(log_mass, axis=-1)

    def component_pmf(self, theta: Params, design: Any) -> np.ndarray:
        """P(rating = r) for r = 1..9 per draw and emotion: each emotion has its own parameters.

        int() truncation and clipping make rating r the latent interval [r, r+1), widened to (-inf, 2)
        for 1 and [9, inf) for 9, so the 9 masses are differences of the normal CDF at 2, 3, ..., 9.
        """
        mu = mean_ratings(theta, design)[:, :, None]
        sd = np.maximum(theta["sigma"], 1e-9)[:, :, None]
        cdf = special.ndtr((np.arange(2.0, 10.0)[None, None, :] - mu) / sd)
        masses = np.empty((*cdf.shape[:2], 9))
        masses[:, :, 0] = cdf[:, :, 0]
        masses[:, :, 1:8] = cdf[:, :, 1:] - cdf[:, :, :-1]
        masses[:, :, 8] = 1.0 - cdf[:, :, -1]
        return np.maximum(masses, 0.0)

    def paper_log_lik_matrix(self, theta: Params, design: Any, ys: np.ndarray) -> np.ndarray:
        mu = mean_ratings(theta, design)[None, :, :]
        ys = np.asarray(ys, float).reshape(-1, 1, len(EMOTIONS))
        return np.sum(np.log(stats.norm.pdf(ys, mu, theta["sigma"][None, :, :]) + PAPER_SMOOTHING), axis=-1)

    def validate(self, text: str) -> Any:
        prizes_m = re.search(r"prizes\s*:\s*\[([^\]]*)\]", text, re.IGNORECASE)
        probs_m = re.search(r"probs\s*:\s*\[([^\]]*)\]", text, re.IGNORECASE)
        win_m = re.search(r"win\s*:\s*(\d+)", text, re.IGNORECASE)
        if not (prizes_m and probs_m and win_m):
            raise DesignError(
                f"Write the lottery as 'prizes: [v1, v2, v3], probs: [p1, p2, p3], win: index'; got {text!r}."
            )
        prizes, probs = numbers(prizes_m.group(1)), numbers(probs_m.group(1))
        if len(prizes) != 3 or len(probs) != 3:
            raise DesignError("There must be exactly 3 prizes and 3 probabilities.")
        if any(p < 0 or p > 100 or p != int(p) for p in prizes):
            raise DesignError(f"Prize values must be integers from 0 to 100; got {prizes}.")
        if any(p < 0 for p in probs):
            raise DesignError(f"Probabilities must not be negative; got {probs}.")
        total = sum(probs)
        ok = total == 1.0 if self.mode == "paper" else abs(total - 1.0) <= PROB_TOLERANCE
        if not ok:
            raise DesignError(f"The probabilities must sum to 1; they sum to {total}.")
        idx = int(win_m.group(1))
        if not 0 <= idx < 3:
            raise DesignError(f"win is the index (0, 1 or 2) of the prize won; got {idx}.")
        return (tuple(prizes), tuple(probs), idx, float(prizes[idx]))

    def lottery(self, rng: np.random.Generator) -> Any:
        """A random lottery; paper mode keeps the reference's bug of using the prize index as the win value."""
        prizes = tuple(float(v) for v in rng.integers(0, 101, 3))
        raw = rng.dirichlet(np.ones(3))
        probs = np.round(raw, 2)
        probs[-1] = round(1.0 - probs[0] - probs[1], 2)
        if probs[-1] < 0:
            probs = np.array([0.34, 0.33, 0.33])
        idx = int(rng.integers(0, 3))
        win = float(idx) if self.mode == "paper" else prizes[idx]
        return (prizes, tuple(float(p) for p in probs), idx, win)

    def random_design(self, rng: np.random.Generator) -> Any:
        return self.lottery(rng)

    def format_design(self, design: Any) -> str:
        prizes, probs, idx, _ = design
        prize_text = ", ".join(f"{p:g}" for p in prizes)
        prob_text = ", ".join(f"{p:g}" for p in probs)
        return f"prizes: [{prize_text}], probs: [{prob_text}], win: {idx}"

    def format_observation(self, y: Any) -> str:
        return ", ".join(f"{name.capitalize()}: {int(v)}/9" for name, v in zip(EMOTIONS, y, strict=True))

    def needs_phrasing(self) -> bool:
        return self.phrase

    def phrasing_messages(self, design: Any, y: Any) -> list[ChatMessage]:
        prizes, probs, idx, _ = design
        system = "You describe how a player of a lottery game feels, in words only. Never mention numbers or ratings."
        user = (
            f"The lottery had prizes {list(prizes)} with probabilities {list(probs)}; the player won {prizes[idx]:g}. "
            f"On a 1-9 scale they rated: {self.format_observation(y)}. In one or two sentences starting 'The player "
            "might be feeling', describe these feelings and why, without any numbers."
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def observation_text(self, y: Any, phrased: str | None) -> str:
        if phrased is None:
            return "The participant responded with: " + self.format_observation(y)
        return "The participant responded with: " + phrased.strip()

    def description(self, include_prior: bool) -> str:
        return (
            "A player plays a lottery with three possible prizes, each with a probability, and then sees what they "
            "won. Afterwards they report how they feel: " + ", ".join(EMOTIONS) + ", each on a scale from 1 to 9."
        )

    def design_instructions(self, include_prior: bool) -> str:
        return (
            "Make an observation by choosing a lottery and the prize won: three integer prizes from 0 to 100, three "
            "probabilities that sum to 1, and the index of the prize won, e.g. "
            "<observe>prizes: [10, 50, 90], probs: [0.2, 0.5, 0.3], win: 2</observe>."
        )


class FeelingsGoal(Goal):
    name = "direct"
    kind = "absolute"
    paper_norm = (1.58509, 0.72371)
    prior_only = True
    description = "predict the player's 8 emotion ratings"

    def eval_points(self, rng: np.random.Generator, n: int) -> list[EvalPoint]:
        points = []
        for _ in range(n):
            design = self.env.lottery(rng)  # type: ignore[attr-defined]
            truth = self.env.simulate(self.env.theta, design, rng)[0]
            points.append(EvalPoint(design, truth, self.question(design)))
        return points

    def question(self, design: Any) -> str:
        prizes, probs, idx, _ = design
        return (
            f"The lottery has prizes {[int(p) for p in prizes]} with probabilities {list(probs)}, and the player won "
            f"{prizes[idx]:g}. How does the player rate each emotion from 1 to 9? Answer with 8 lines, "
            + "; ".join(f"{e.capitalize()}: v/9" for e in EMOTIONS)
            + "."
        )

    def goal_text(self, include_prior: bool) -> str:
        return "Your goal is to be able to predict how a player feels (8 ratings from 1 to 9) after a lottery outcome."

    def answer_format(self) -> str:
        return "8 lines of the form Emotion: v/9"

    def parse(self, text: str) -> Any | None:
        values = {}
        for name in EMOTIONS:
            m = re.search(rf"{name}\s*:\s*([-+]?\d+(?:\.\d+)?)", text, re.IGNORECASE)
            if m:
                values[name] = float(m.group(1))
        if self.mode == "paper":  # the reference accepts only a complete answer
            return np.array([values[e] for e in EMOTIONS]) if len(values) == len(EMOTIONS) else None
        if not values:
            return None
        return np.array([values.get(e, 5.0) for e in EMOTIONS])  # missing ratings read as the midpoint

    def format_prediction(self, prediction: Any) -> str:
        return "\n".join(f"{e.capitalize()}: {float(v):.2f}/9" for e, v in zip(EMOTIONS, prediction, strict=True))

    def baseline_prediction(self, query: Any, prior: Params, rng: np.random.Generator) -> Any:
        return self.env.simulate(prior, query, rng).mean(axis=0)

    def item_error(self, prediction: Any, truth: Any) -> float:
        return float(np.mean(np.abs(np.asarray(prediction, float) - np.asarray(truth, float))))


Emotion.goals = {"direct": FeelingsGoal}
