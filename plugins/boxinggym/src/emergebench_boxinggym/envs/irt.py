"""Item response theory (spec 3.4): a 2PL model of 6 students answering 6 questions. One response
table is drawn when the world is made, so asking the same pair again returns the same answer."""

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
    parse_binary,
    sigmoid,
)
from .priors import Normal

N_STUDENTS = 6
N_QUESTIONS = 6


def correct_prob(theta: Params, design: Any) -> np.ndarray:
    s, q = design
    return sigmoid(theta["discrimination"][:, q] * (theta["ability"][:, s] - theta["difficulty"][:, q]))


class ItemResponse(BernoulliEnvironment):
    key = "irt"
    title = "Item response theory"
    outcome = "binary"
    fixed_table = True
    priors = {"ability": Normal(0.0, 1.0), "difficulty": Normal(0.0, 1.0), "discrimination": Normal(0.0, 1.0)}

    def sample_prior(self, rng: np.random.Generator, n: int) -> Params:
        return {
            "ability": rng.standard_normal((n, N_STUDENTS)),
            "difficulty": rng.standard_normal((n, N_QUESTIONS)),
            "discrimination": rng.standard_normal((n, N_QUESTIONS)),
        }

    def setup(self, rng: np.random.Generator) -> None:
        p = np.array([[correct_prob(self.theta, (s, q))[0] for q in range(N_QUESTIONS)] for s in range(N_STUDENTS)])
        self.table = (rng.random(p.shape) < p).astype(int)
        self.forbidden: set[tuple[int, int]] = set()

    def step(self, design: Any) -> Any:
        return int(self.table[design])

    def prob_one(self, theta: Params, design: Any) -> np.ndarray:
        return correct_prob(theta, design)

    def validate(self, text: str) -> Any:
        values = numbers(text)
        names = "[student_id, question_id]" if self.include_prior else "[integer 1, integer 2]"
        if len(values) != 2 or any(v != int(v) for v in values):
            raise DesignError(f"Input must be two integers {names}; got {text!r}.")
        s, q = int(values[0]), int(values[1])
        if not (0 <= s < N_STUDENTS and 0 <= q < N_QUESTIONS):
            if self.include_prior:
                raise DesignError(
                    f"Student ids are 0-{N_STUDENTS - 1} and question ids are 0-{N_QUESTIONS - 1}; got [{s}, {q}]."
                )
            raise DesignError(
                f"The first integer is 0-{N_STUDENTS - 1} and the second 0-{N_QUESTIONS - 1}; got [{s}, {q}]."
            )
        if (s, q) in self.forbidden:
            raise DesignError("You cannot query this observation, try again.")
        return (s, q)

    def random_design(self, rng: np.random.Generator) -> Any:
        allowed = [
            (s, q)
            for s in range(N_STUDENTS)
            for q in range(N_QUESTIONS)
            if self.mode == "paper" or (s, q) not in self.forbidden
        ]
        return allowed[int(rng.integers(len(allowed)))]

    def format_design(self, design: Any) -> str:
        return f"[{design[0]}, {design[1]}]"

    def format_observation(self, y: Any) -> str:
        return str(int(y))

    def description(self, include_prior: bool) -> str:
        if include_prior:
            return (
                f"There are {N_STUDENTS} students and {N_QUESTIONS} questions. You can query a student-question pair "
                "to learn whether that student answered that question correctly (1) or not (0)."
            )
        return (
            f"The environment maps two integers to a boolean value (0 or 1). The first integer ranges from 0 to "
            f"{N_STUDENTS - 1} and the second from 0 to {N_QUESTIONS - 1}."
        )

    def design_instructions(self, include_prior: bool) -> str:
        if include_prior:
            return (
                f"Make an observation by giving [student_id, question_id] with ids 0-{N_STUDENTS - 1}, "
                "e.g. <observe>[1, 3]</observe>. Some pairs are held out and cannot be queried."
            )
        return (
            "Make an observation by giving an input [integer 1, integer 2], e.g. <observe>[1, 3]</observe>. "
            "Some inputs are held out and cannot be queried."
        )


class CorrectnessGoal(BinaryGoal):
    name = "direct"
    kind = "class"
    paper_norm = (0.5, 0.5)
    paper_reports_accuracy = False  # the reference reports 1 - accuracy here
    description = "predict whether a student answers a question correctly"

    def eval_points(self, rng: np.random.Generator, n: int) -> list[EvalPoint]:
        env = self.env
        table = env.table  # type: ignore[attr-defined]
        points: list[EvalPoint] = []
        for label, count in ((1, (n + 1) // 2), (0, n // 2)):
            cells = [(int(s), int(q)) for s, q in np.argwhere(table == label)]
            if not cells:
                cells = [(int(s), int(q)) for s, q in np.argwhere(table != label)]
            replace = self.mode == "paper" or len(cells) < count
            picks = rng.choice(len(cells), size=count, replace=replace)
            for i in picks:
                cell = cells[int(i)]
                env.forbidden.add(cell)  # type: ignore[attr-defined]
                points.append(EvalPoint(cell, int(table[cell]), self.question(cell)))
        order = rng.permutation(len(points))
        return [points[int(i)] for i in order]

    def question(self, cell: tuple[int, int]) -> str:
        s, q = cell
        if not self.include_prior:
            return f"What is the output of the environment for the input [{s}, {q}]? Answer 0 or 1."
        return f"Will student {s} answer question {q} correctly? Answer 1 for correct or 0 for incorrect."

    def goal_text(self, include_prior: bool) -> str:
        if include_prior:
            return "Your goal is to be able to predict whether a student will answer a question correctly."
        return "Your goal is to be able to predict the boolean output for any pair of integers."

    def parse(self, text: str) -> Any | None:
        if self.mode == "paper":  # the last integer in the answer
            values = [int(v) for v in numbers(text) if v == int(v)]
            return int(values[-1] != 0) if values else None
        return parse_binary(text, self.mode)

    def baseline_prediction(self, query: Any, prior: Params, rng: np.random.Generator) -> Any:
        return int(np.mean(correct_prob(prior, query)) >= 0.5)


ItemResponse.goals = {"direct": CorrectnessGoal}
