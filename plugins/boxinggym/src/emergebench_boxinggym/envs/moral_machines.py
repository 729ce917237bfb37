"""Moral Machines (spec 3.9): a participant decides which of two groups an autonomous car saves;
a logistic model over attribute differences (group 1 minus group 2). A language model phrases the
decision as a sentence, and that sentence is what the scientist reads."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from .base import ChatMessage, DesignError, Environment, EvalPoint, Goal, Params, bernoulli_log_lik, sigmoid
from .priors import Normal

CHARACTERS = (
    "stroller", "boy", "girl", "pregnant_woman", "male_doctor", "female_doctor", "female_athlete",
    "male_athlete", "female_executive", "male_executive", "large_woman", "large_man", "homeless",
    "old_man", "old_woman", "criminal", "dog", "cat",
)  # fmt: skip
FEMALE = {"girl", "pregnant_woman", "female_doctor", "female_athlete", "female_executive", "large_woman", "old_woman"}
YOUNG = {"boy", "girl"}
STATUS = {"male_doctor": 1.0, "female_doctor": 1.0, "male_executive": 1.0, "female_executive": 1.0}
STATUS["pregnant_woman"] = 1.5
FITNESS = {"female_athlete": 1.0, "male_athlete": 1.0, "large_woman": -1.0, "large_man": -1.0}
ANIMALS = {"dog", "cat"}
# (prior mean, prior sd) of each preference weight
PRIOR = {
    "intervention": (-0.3, 0.1),
    "group": (0.4, 0.1),
    "gender": (-0.3, 0.1),
    "fitness": (0.4, 0.1),
    "status": (0.1, 0.1),
    "age": (0.1, 0.1),
    "count": (0.7, 0.1),
    "species": (0.6, 0.1),
    "alpha": (0.0, 0.3),
}
GROUP_RE = re.compile(r"group\s*([12])\s*:\s*\[([^\]]*)\]", re.IGNORECASE)
INTERVENTION_RE = re.compile(r"intervention\s*:\s*\W*(swerve|stay)", re.IGNORECASE)


def attributes(group: tuple[str, ...]) -> np.ndarray:
    """[humans, gender, age, status, fitness, species] summed over a group's characters."""
    humans = sum(c not in ANIMALS for c in group)
    gender = -float(sum(c in FEMALE for c in group))
    age = float(sum(c in YOUNG for c in group))
    status = sum(STATUS.get(c, 0.0) for c in group)
    fitness = sum(FITNESS.get(c, 0.0) for c in group)
    species = sum(-1.0 if c in ANIMALS else 1.0 for c in group)
    return np.array([humans, gender, age, status, fitness, species], dtype=float)


def save_group1_prob(theta: Params, design: Any, *, with_count: bool = True) -> np.ndarray:
    g1, g2, intervention = design
    d = attributes(g1) - attributes(g2)
    count = theta["count"] * d[0] if with_count else d[0]  # the reference's PyMC model drops beta_count
    logit = (
        theta["alpha"]
        + count
        + theta["group"]
        + theta["gender"] * d[1]
        + theta["age"] * d[2]
        + theta["status"] * d[3]
        + theta["fitness"] * d[4]
        + theta["species"] * d[5]
        + theta["intervention"] * (1.0 if intervention == "swerve" else -1.0)
    )
    return sigmoid(logit)


def format_scenario(design: Any) -> str:
    g1, g2, intervention = design
    return f"Group 1: [{', '.join(g1)}]\nGroup 2: [{', '.join(g2)}]\nIntervention: {intervention}"


class MoralMachines(Environment):
    key = "moral_machines"
    title = "Moral Machines"
    outcome = "binary"
    prior_only = True
    paper_eig_outer = 100
    priors = {name: Normal(mu, sd) for name, (mu, sd) in PRIOR.items()}

    def sample_prior(self, rng: np.random.Generator, n: int) -> Params:
        return {name: rng.normal(mu, sd, n) for name, (mu, sd) in PRIOR.items()}

    def prob_one(self, theta: Params, design: Any) -> np.ndarray:
        return save_group1_prob(theta, design)

    def simulate(self, theta: Params, design: Any, rng: np.random.Generator) -> np.ndarray:
        """The group saved: 1 or 2."""
        saves_1 = rng.random(len(theta["alpha"])) < self.prob_one(theta, design)
        return np.where(saves_1, 1, 2)

    def log_lik_matrix(self, theta: Params, design: Any, ys: np.ndarray) -> np.ndarray:
        return bernoulli_log_lik(self.prob_one(theta, design), 2 - np.asarray(ys))

    def paper_log_lik_matrix(self, theta: Params, design: Any, ys: np.ndarray) -> np.ndarray:
        return bernoulli_log_lik(save_group1_prob(theta, design, with_count=False), 2 - np.asarray(ys))

    def validate(self, text: str) -> Any:
        groups: dict[str, tuple[str, ...]] = {}
        for number, members in GROUP_RE.findall(text):
            names = tuple(m.strip().strip("'\"").strip().lower().replace(" ", "_") for m in members.split(","))
            names = tuple(n for n in names if n)
            unknown = [n for n in names if n not in CHARACTERS]
            if unknown:
                raise DesignError(f"Unknown characters {unknown}; choose from {', '.join(CHARACTERS)}.")
            if not names:
                raise DesignError(f"Group {number} is empty; each group needs at least one character.")
            groups[number] = names
        intervention = INTERVENTION_RE.search(text)
        if set(groups) != {"1", "2"} or intervention is None:
            raise DesignError(
                "Describe the scenario as 'Group 1: [characters]', 'Group 2: [characters]' and "
                f"'Intervention: swerve' or 'Intervention: stay'; got {text!r}."
            )
        return (groups["1"], groups["2"], intervention.group(1).lower())

    def random_design(self, rng: np.random.Generator) -> Any:
        def group() -> tuple[str, ...]:
            k = int(rng.integers(1, 5))
            return tuple(CHARACTERS[int(i)] for i in rng.integers(0, len(CHARACTERS), k))

        return (group(), group(), "swerve" if rng.random() < 0.5 else "stay")

    def format_design(self, design: Any) -> str:
        return format_scenario(design).replace("\n", " ")

    def format_observation(self, y: Any) -> str:
        return f"The participant chose to save group {int(y)}."

    def needs_phrasing(self) -> bool:
        return self.phrase

    def phrasing_messages(self, design: Any, y: Any) -> list[ChatMessage]:
        weights = ", ".join(f"{k}: {float(v[0]):.2f}" for k, v in self.theta.items())
        system = (
            "You are a participant in a moral dilemma study about autonomous cars. An out-of-control car must "
            "either stay on course or swerve, and one of two groups of characters will die. Your preferences, as "
            f"weights of a logistic choice model (positive favours saving group 1), are: {weights}."
        )
        user = (
            f"Scenario:\n{format_scenario(design)}\nYou decided to save group {int(y)}. In one sentence that starts "
            f"'I choose to save group {int(y)} because', explain your decision in plain words without numbers."
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def observation_text(self, y: Any, phrased: str | None) -> str:
        if phrased is None:
            return self.format_observation(y)
        if self.mode == "paper":
            return phrased.strip()
        # fixed mode always states the outcome, so a bad phrasing cannot hide or change it
        return f"{self.format_observation(y)} {phrased.strip()}"

    def description(self, include_prior: bool) -> str:
        return (
            "An autonomous car's brakes have failed. It can stay on course or swerve, and one of two groups of "
            "characters will die. A participant decides which group to save. Characters: "
            + ", ".join(CHARACTERS)
            + ". You can present a scenario and observe the participant's decision with their reason."
        )

    def design_instructions(self, include_prior: bool) -> str:
        return (
            "Make an observation by describing a scenario, e.g. <observe>Group 1: [boy, dog]\nGroup 2: [old_man]\n"
            "Intervention: swerve</observe>. Swerving means the car changes course (an intervention); staying means "
            "it keeps its course."
        )


class JudgementGoal(Goal):
    name = "direct"
    kind = "class"
    paper_norm = (0.424, 0.49419)
    prior_only = True
    description = "predict which group a participant saves"

    def eval_points(self, rng: np.random.Generator, n: int) -> list[EvalPoint]:
        points = []
        for i in range(n):
            want = 1 + i % 2
            for _ in range(10000):
                design = self.env.random_design(rng)
                label = int(self.env.simulate(self.env.theta, design, rng)[0])
                if label == want:
                    break
            points.append(EvalPoint(design, label, self.question(design)))
        return points

    def question(self, design: Any) -> str:
        return f"{format_scenario(design)}\nWhich group would the participant save? Answer 1 or 2."

    def goal_text(self, include_prior: bool) -> str:
        return "Your goal is to be able to predict which group a participant chooses to save in a given scenario."

    def answer_format(self) -> str:
        return "1 or 2"

    def parse(self, text: str) -> Any | None:
        stripped = text.strip()
        if self.mode == "paper":
            return 2 if "2" in stripped else 1 if "1" in stripped else None
        found = {t for t in re.findall(r"\d+", stripped) if t in ("1", "2")}
        return int(found.pop()) if len(found) == 1 else None

    def baseline_prediction(self, query: Any, prior: Params, rng: np.random.Generator) -> Any:
        return 1 if np.mean(save_group1_prob(prior, query)) >= 0.5 else 2

    def item_error(self, prediction: Any, truth: Any) -> float:
        return float(int(prediction) != int(truth))


MoralMachines.goals = {"direct": JudgementGoal}
