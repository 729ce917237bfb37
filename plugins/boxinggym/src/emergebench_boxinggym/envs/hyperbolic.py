"""Hyperbolic temporal discounting (spec 3.2): a person chooses between an immediate and a
delayed reward; the delayed value is discounted as dR / (1 + k D) and choices are noisy."""

from __future__ import annotations

from typing import Any

import lazy_loader as lazy
import numpy as np

from .base import (
    BernoulliEnvironment,
    BinaryGoal,
    DesignError,
    EvalPoint,
    Goal,
    Params,
    numbers,
    parse_float,
)
from .priors import HalfNormal, Normal

stats = lazy.load("scipy.stats", suppress_warning=True)  # scipy loads on first use: registering the plugin stays cheap

LOG_K_MEAN, LOG_K_SD = -4.25, 0.5
ALPHA_SCALE = 2.0
EPSILON = 0.01


def choice_prob(theta: Params, design: Any) -> np.ndarray:
    """P(choose the delayed reward) for every parameter draw."""
    ir, dr, days = design
    k = np.exp(theta["log_k"])
    v_delayed = dr / (1.0 + k * days)
    return EPSILON + (1 - 2 * EPSILON) * stats.norm.cdf((v_delayed - ir) / theta["alpha"])


class HyperbolicDiscounting(BernoulliEnvironment):
    key = "hyperbolic_discounting"
    title = "Hyperbolic temporal discounting"
    outcome = "binary"
    priors = {"log_k": Normal(LOG_K_MEAN, LOG_K_SD), "alpha": HalfNormal(ALPHA_SCALE)}

    def sample_prior(self, rng: np.random.Generator, n: int) -> Params:
        return {
            "log_k": rng.normal(LOG_K_MEAN, LOG_K_SD, n),
            "alpha": np.abs(rng.normal(0.0, ALPHA_SCALE, n)),
        }

    def prob_one(self, theta: Params, design: Any) -> np.ndarray:
        return choice_prob(theta, design)

    def validate(self, text: str) -> Any:
        values = numbers(text)
        names = "[iR, dR, D]" if self.include_prior else "[a, b, c]"
        if len(values) != 3 or any(v != int(v) for v in values):
            raise DesignError(f"Input must be a list of 3 integers {names}; got {text!r}.")
        ir, dr, days = (int(v) for v in values)
        if ir <= 0 or dr <= 0 or days <= 0:
            raise DesignError("All three values must be positive integers.")
        if ir > dr:
            if self.include_prior:
                raise DesignError("The immediate reward iR must not exceed the delayed reward dR.")
            raise DesignError("The first value must not exceed the second value.")
        return (ir, dr, days)

    def random_design(self, rng: np.random.Generator) -> Any:
        ir = int(rng.integers(1, 200))
        dr = int(rng.integers(ir + 1, 300))
        return (ir, dr, int(rng.integers(1, 365)))

    def format_design(self, design: Any) -> str:
        return f"[{design[0]}, {design[1]}, {design[2]}]"

    def format_observation(self, y: Any) -> str:
        return str(int(y))

    def description(self, include_prior: bool) -> str:
        if include_prior:
            return (
                "A person has to choose between a delayed reward dR dollars in D days and an immediate reward iR "
                "dollars today. The response is 1 if the person picks the delayed reward and 0 if they pick the "
                "immediate one. People's decisions are not deterministic."
            )
        return "The environment gives a binary response (0 or 1) for a tuple of three positive integer values."

    def design_instructions(self, include_prior: bool) -> str:
        if include_prior:
            return (
                "Make an observation by giving three positive integers [iR, dR, D] with iR <= dR, "
                "e.g. <observe>[10, 20, 30]</observe>."
            )
        return (
            "Make an observation by giving three positive integers [a, b, c] where a is not larger than b, "
            "e.g. <observe>[10, 20, 30]</observe>."
        )


class ChoiceGoal(BinaryGoal):
    name = "direct"
    kind = "class"
    paper_norm = (0.5, 0.4693)
    description = "predict which reward the person chooses"

    def eval_points(self, rng: np.random.Generator, n: int) -> list[EvalPoint]:
        points = []
        for i in range(n):
            want = i % 2  # labels alternate, so the set is balanced
            for _ in range(10000):
                ir = int(rng.uniform(1, 300))
                dr = int(rng.uniform(ir + 1, 300)) if ir + 1 < 300 else 300
                design = (ir, max(dr, ir + 1), int(rng.integers(1, 365)))
                label = int(rng.random() < choice_prob(self.env.theta, design)[0])
                if label == want:
                    break
            points.append(EvalPoint(design, label, self.question(design)))
        return points

    def question(self, design: Any) -> str:
        ir, dr, days = design
        if not self.include_prior:
            return f"Predict the binary response for the input [{ir}, {dr}, {days}]. Answer 0 or 1."
        return (
            f"Given the immediate reward iR = {ir}, the delayed reward dR = {dr} and the delay D = {days} days, "
            "what choice will the person make? Answer 1 for the delayed reward or 0 for the immediate one."
        )

    def goal_text(self, include_prior: bool) -> str:
        if include_prior:
            return "Your goal is to be able to predict the choice a person makes for a given iR, dR and D."
        return "Your goal is to be able to predict the binary response for any tuple of three integers."

    def baseline_prediction(self, query: Any, prior: Params, rng: np.random.Generator) -> Any:
        return int(np.mean(choice_prob(prior, query)) >= 0.5)


class DiscountGoal(Goal):
    """Recover the discount factor k (parameter recovery)."""

    name = "discount"
    kind = "squared"
    paper_norm = (0.25, 4.3)
    prior_only = True
    parameter_goal = True
    description = "infer the discount factor k"

    def eval_points(self, rng: np.random.Generator, n: int) -> list[EvalPoint]:
        truth = float(np.exp(self.env.theta["log_k"][0]))
        question = (
            "What is the discount factor k that characterizes the person's behavior? "
            "Respond with the float value for k."
        )
        return [EvalPoint(None, truth, question)]

    def goal_text(self, include_prior: bool) -> str:
        return (
            "Your goal is to estimate the discount factor k in the hyperbolic model V1 = dR / (1 + k * D), "
            "where V1 is the present value of the delayed reward."
        )

    def answer_format(self) -> str:
        return "a single number"

    def parse(self, text: str) -> Any | None:
        return parse_float(text)

    def baseline_prediction(self, query: Any, prior: Params, rng: np.random.Generator) -> Any:
        return float(np.mean(np.exp(prior["log_k"])))

    def item_error(self, prediction: Any, truth: Any) -> float:
        return float((prediction - truth) ** 2)


HyperbolicDiscounting.goals = {"direct": ChoiceGoal, "discount": DiscountGoal}
