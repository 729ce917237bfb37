"""What the scientist and the novice read: the prior=false condition never names the real-world setting,
the paper-mode novice gets only goal, format and explanation, and the death-process questions ask for the
right kind of number."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

import numpy as np
import pytest
from emergebench import GenerateConfig, Message
from emergebench_boxinggym import prompts
from emergebench_boxinggym.envs import ENVIRONMENTS, DesignError
from emergebench_boxinggym.trajectory import Config, Trajectory

# Words of each world's real-world framing, taken from what the reference's with-prior texts talk about
# (the subject matter, its units and its roles). Under prior=false none may reach the model.
DOMAIN_WORDS: dict[str, list[str]] = {
    "location_finding": [r"source", r"signal", r"intensit", r"emit", r"decay"],
    "hyperbolic_discounting": [
        r"reward",
        r"delay",
        r"immediate",
        r"person",
        r"people",
        r"dollar",
        r"\bdays?\b",
        r"discount",
        r"\bchoice",
        r"\bchoose",
        r"\biR\b",
        r"\bdR\b",
    ],
    "death_process": [r"disease", r"infect", r"population", r"individual", r"\btimes?\b", r"spread", r"healthy"],
    "irt": [r"student", r"correct", r"abilit", r"difficult", r"question_id", r"question id"],
    "survival": [r"patient", r"surg", r"cancer", r"metasta", r"\bdead\b", r"\balive\b", r"\bdied\b", r"surviv"],
    "dugongs": [r"sea cow", r"dugong", r"length", r"\bages?\b", r"grow"],
    "peregrines": [r"peregrine", r"falcon", r"population", r"\btimes?\b", r"bird"],
    "lotka_volterra": [r"predator", r"prey", r"population", r"\btimes?\b", r"species", r"animal"],
}
WORLDS_WITH_NO_PRIOR = [k for k, cls in ENVIRONMENTS.items() if not cls.prior_only]


def test_every_world_without_prior_only_condition_is_covered() -> None:
    assert sorted(DOMAIN_WORDS) == sorted(WORLDS_WITH_NO_PRIOR)


@dataclass
class Reply:
    text: str


class RecordingModel:
    """Answers like a scientist that first proposes a bad design, then a valid one; records every message."""

    def __init__(self, traj_ref: list[Trajectory]) -> None:
        self.seen: list[Message] = []
        self.traj_ref = traj_ref
        self.calls = 0

    async def generate(self, messages: list[Message], config: GenerateConfig, cache_salt: str = "") -> Reply:
        self.seen.extend(messages)
        self.calls += 1
        traj = self.traj_ref[0]
        last = messages[-1].content
        if "<answer>" in last or messages[0].content.find(prompts.NOVICE_HEADER) >= 0:
            return Reply("<answer>1</answer>")
        if "explain" in last.lower() and "user" in last.lower():
            return Reply("The output rises with the input.")
        if cache_salt.endswith("-0-0"):  # the first try of every experiment is out of range
            return Reply("<observe>999, 999, 999</observe>")
        design = traj.env.random_design(np.random.default_rng(self.calls))
        return Reply(f"<observe>{traj.env.format_design(design)}</observe>")


def texts_seen(key: str, mode: str, experiment: str) -> list[str]:
    cls = ENVIRONMENTS[key]
    env = cls(np.random.default_rng(3), mode, phrase=False, include_prior=False)  # type: ignore[arg-type]
    goal = env.goals["direct"](env)
    ref: list[Trajectory] = []
    scientist, novice = RecordingModel(ref), RecordingModel(ref)
    config = Config(mode=mode, include_prior=False, experiment=experiment, budgets=(0, 2), num_evals=3)  # type: ignore[arg-type]
    traj = Trajectory(env, goal, config, scientist, novice=novice, seed=5)  # type: ignore[arg-type]
    ref.append(traj)
    asyncio.run(traj.run())
    texts = [m.content for m in scientist.seen + novice.seen if m.role != "assistant"]
    assert any(t.startswith("Result: ") for t in texts)  # the rejected design's error reached the model
    return texts


def bad_design_errors(key: str) -> list[str]:
    env = ENVIRONMENTS[key](np.random.default_rng(0), include_prior=False)
    errors = []
    for text in ("999, 999, 999", "-7", "[30, 20, 10]", "[9, 9]", "1.5, 2.5", "abc 12.5"):
        try:
            env.validate(text)
        except DesignError as exc:
            errors.append(str(exc))
    assert errors
    return errors


@pytest.mark.parametrize("key", WORLDS_WITH_NO_PRIOR)
@pytest.mark.parametrize("mode", ["fixed", "paper"])
def test_no_prompt_under_prior_false_names_the_setting(key: str, mode: str) -> None:
    texts = texts_seen(key, mode, "oed") + texts_seen(key, mode, "discovery") + bad_design_errors(key)
    leaks = [(word, text[:120]) for text in texts for word in DOMAIN_WORDS[key] if re.search(word, text, re.IGNORECASE)]
    assert not leaks, leaks


@pytest.mark.parametrize("key", WORLDS_WITH_NO_PRIOR)
def test_with_prior_the_setting_is_named(key: str) -> None:
    """The word lists are not vacuous: the real-world prompts do use them."""
    env = ENVIRONMENTS[key](np.random.default_rng(0))
    goal = env.goals["direct"](env)
    text = prompts.scientist_system(env, goal, True) + " ".join(
        p.question for p in goal.eval_points(np.random.default_rng(1), 3)
    )
    assert any(re.search(w, text, re.IGNORECASE) for w in DOMAIN_WORDS[key])


@pytest.mark.parametrize("key", sorted(ENVIRONMENTS))
@pytest.mark.parametrize("prior", [True, False])
def test_paper_novice_reads_goal_format_and_explanation_only(key: str, prior: bool) -> None:
    cls = ENVIRONMENTS[key]
    if cls.prior_only and not prior:
        return
    env = cls(np.random.default_rng(0), "paper", include_prior=prior)
    goal = env.goals["direct"](env)
    text = prompts.novice_system(env, goal, prior, "EXPLANATION", "paper")
    assert env.description(prior) not in text
    assert text.endswith(prompts.NOVICE_HEADER + "EXPLANATION")
    if key not in prompts.PAPER_BARE_NOVICE:
        assert goal.naive_goal_text(prior) in text and goal.answer_format() in text
    fixed = prompts.novice_system(env, goal, prior, "EXPLANATION", "fixed")
    assert env.description(prior) in fixed  # fixed mode keeps the world description (a documented choice)


def test_death_process_paper_questions_ask_for_the_right_kind_of_number() -> None:
    env = ENVIRONMENTS["death_process"](np.random.default_rng(0), "paper")
    rate = env.goals["infection"](env).eval_points(np.random.default_rng(1), 1)[0]
    assert 0 < rate.truth < 2
    assert "real number" in rate.question and "integer" not in rate.question
    count = env.goals["direct"](env).eval_points(np.random.default_rng(1), 1)[0]
    assert "integer" in count.question
