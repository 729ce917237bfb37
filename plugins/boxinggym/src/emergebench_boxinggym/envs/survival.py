"""Survival analysis, "mastectomy" (spec 3.5): 100 breast-cancer patients with a time since
surgery and a metastasis flag; P(dead) = sigmoid(t exp(beta m) lambda0). Outcomes are drawn once."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import (
    BernoulliEnvironment,
    BinaryGoal,
    DesignError,
    EvalPoint,
    Params,
    numbers,
    sigmoid,
)
from .priors import Gamma, HalfNormal

N_PATIENTS = 100
MAX_TIME = 10.0
PAPER_SMOOTHING = 1e-4


def death_prob(theta: Params, time: float | np.ndarray, metastasized: int | np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # a huge hazard saturates at P(dead) = 1
        return sigmoid(time * np.exp(theta["beta"] * metastasized) * theta["lambda0"])


class SurvivalAnalysis(BernoulliEnvironment):
    key = "survival"
    title = "Survival analysis (mastectomy)"
    outcome = "binary"
    fixed_table = True
    priors = {"lambda0": Gamma(0.1, 0.1), "beta": HalfNormal(10.0)}

    def sample_prior(self, rng: np.random.Generator, n: int) -> Params:
        return {
            "lambda0": rng.gamma(0.1, 1 / 0.1, n),  # Gamma(shape 0.1, rate 0.1)
            "beta": np.abs(rng.normal(0.0, 10.0, n)),
        }

    def setup(self, rng: np.random.Generator) -> None:
        self.times = np.round(rng.uniform(0, MAX_TIME, N_PATIENTS), 2)
        self.metastasized = (rng.random(N_PATIENTS) < 0.5).astype(int)
        p = death_prob(self.theta, self.times, self.metastasized)  # theta batch of 1 broadcasts
        self.outcomes = (rng.random(N_PATIENTS) < p).astype(int)

    def step(self, design: Any) -> Any:
        return int(self.outcomes[design])

    def prob_one(self, theta: Params, design: Any) -> np.ndarray:
        return death_prob(theta, self.times[design], self.metastasized[design])

    def paper_log_lik_matrix(self, theta: Params, design: Any, ys: np.ndarray) -> np.ndarray:
        p = self.prob_one(theta, design)[None, :]
        y = np.asarray(ys, float).reshape(-1, 1)
        return np.log(np.where(y == 1, p, 1 - p) + PAPER_SMOOTHING)

    def validate(self, text: str) -> Any:
        values = numbers(text)
        what = "a patient id" if self.include_prior else "an index"
        if len(values) != 1 or values[0] != int(values[0]):
            raise DesignError(f"Input must be one integer, {what} from 0 to {N_PATIENTS - 1}; got {text!r}.")
        idx = int(values[0])
        if not 0 <= idx < N_PATIENTS:
            raise DesignError(f"The {what[what.index(' ') + 1 :]} must be from 0 to {N_PATIENTS - 1}; got {idx}.")
        return idx

    def random_design(self, rng: np.random.Generator) -> Any:
        return int(rng.integers(0, N_PATIENTS))

    def format_design(self, design: Any) -> str:
        return str(design)

    def format_observation(self, y: Any) -> str:
        return str(int(y))

    def patient_list(self) -> str:
        return "\n".join(f"{i}: {self.times[i]:.2f}, {self.metastasized[i]}" for i in range(N_PATIENTS))

    def description(self, include_prior: bool) -> str:
        if include_prior:
            head = (
                "You are studying breast cancer patients. For each patient, some amount of time has passed since "
                "they received surgery, and their cancer has either metastasized (1) or not (0). Observing a patient "
                "tells you whether they died (1) or are alive (0). The patients, as 'id: time since surgery, "
                "metastasized', are:"
            )
        else:
            head = (
                "The environment gives a binary response for a tuple of two values, one real number and one binary "
                "value. The tuples, as 'id: real value, binary value', are:"
            )
        return head + "\n" + self.patient_list()

    def design_instructions(self, include_prior: bool) -> str:
        return f"Make an observation by giving one id from 0 to {N_PATIENTS - 1}, e.g. <observe>12</observe>."


class SurvivalGoal(BinaryGoal):
    name = "direct"
    kind = "class"
    paper_norm = (0.2604, 0.4389)
    description = "predict whether a patient is alive or dead"

    def eval_points(self, rng: np.random.Generator, n: int) -> list[EvalPoint]:
        points = []
        for i in range(n):
            want = i % 2
            for _ in range(10000):
                time = round(float(rng.uniform(0, MAX_TIME)), 2)
                met = int(rng.random() < 0.5)
                label = int(rng.random() < death_prob(self.env.theta, time, met)[0])
                if label == want:
                    break
            points.append(EvalPoint((time, met), label, self.question(time, met)))
        return points

    def question(self, time: float, met: int) -> str:
        if not self.include_prior:
            return f"Predict the binary response for the input ({time:.2f}, {met}). Answer 0 or 1."
        return (
            f"A patient had surgery {time:.2f} time units ago and their metastasized status is {met}. Is the patient "
            "alive or dead? Answer 1 for dead or 0 for alive."
        )

    def goal_text(self, include_prior: bool) -> str:
        if include_prior:
            return "Your goal is to be able to predict whether a patient is alive or dead given their time and status."
        return "Your goal is to be able to predict the binary response for any tuple of values."

    def baseline_prediction(self, query: Any, prior: Params, rng: np.random.Generator) -> Any:
        return int(np.mean(death_prob(prior, query[0], query[1])) >= 0.5)


SurvivalAnalysis.goals = {"direct": SurvivalGoal}
