"""The texts of the interaction protocol (spec 2 and 4.5). Paper mode keeps the reference's
quirks: the "final result" line before every question (the novice sees it too) and the bare
novice prompt of location finding and hyperbolic discounting."""

from __future__ import annotations

import re

from .envs.base import Environment, EvalPoint, Goal, Mode

OBSERVE_RE = re.compile(r"<observe>(.*?)</observe>", re.DOTALL)
ANSWER_RE = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
DIGIT_RE = re.compile(r"[0-9]")

EXPERIMENT_REQUEST = (
    "Think about where to observe next. Articulate your strategy for choosing measurements in <thought>.\n"
    "Provide a new measurement point in the format:\n"
    "Thought: <thought> your thought </thought>\n"
    "<observe> your observation </observe>\n"
    "Make an observation now."
)
OBSERVE_REMINDER = (
    "Please stick to the specified format and respond using <observe> tags. Continue experimenting and make an "
    "observation now."
)
ANSWER_REMINDER = "Please stick to the specified format and respond using <answer> tags with your prediction."
NO_DATA_PREFIX = (
    "You cannot make observations now. Make assumptions and provide your best guess to the following query."
)
ANSWER_SUFFIX = "\nAnswer in the following format:\n<answer>your answer</answer>."
NOVICE_HEADER = "Here is what you know about the environment:\n"
PAPER_BARE_NOVICE = {"location_finding", "hyperbolic_discounting"}
LOOP_RULES = (
    "You run experiments one by one: each turn, write your reasoning in <thought> tags and exactly one "
    "experiment in <observe> tags. Now and then you will be asked to make a prediction instead; answer it in "
    "<answer> tags."
)


def extract(pattern: re.Pattern[str], text: str) -> str | None:
    """The tagged content the reference accepts: present, containing a digit, and not saying "done"."""
    m = pattern.search(text)
    if m is None:
        return None
    content = m.group(1).strip()
    if not DIGIT_RE.search(content) or "done" in content.lower():
        return None
    return content


def scientist_system(env: Environment, goal: Goal, include_prior: bool) -> str:
    return "\n\n".join(
        [
            env.description(include_prior),
            goal.goal_text(include_prior),
            env.design_instructions(include_prior),
            LOOP_RULES,
        ]
    )


def discovery_system(env: Environment, goal: Goal, include_prior: bool) -> str:
    task = (
        "Your goal is to conduct experiments and explain the environment to the user so that they can achieve their "
        "goal. The user's goal: " + goal.naive_goal_text(include_prior)
    )
    return "\n\n".join([env.description(include_prior), task, env.design_instructions(include_prior), LOOP_RULES])


def experiment_prompt(last_result: str | None) -> str:
    return EXPERIMENT_REQUEST if last_result is None else f"Result: {last_result}\n{EXPERIMENT_REQUEST}"


def question_prompt(question: str, budget: int, last_result: str | None, mode: Mode, *, novice: bool = False) -> str:
    if budget == 0 or last_result is None:
        prefix = NO_DATA_PREFIX if not novice else ""
    elif mode == "paper":
        prefix = f"The final result is {last_result}."
    elif novice:
        prefix = ""  # the novice never saw any data; fixed mode does not leak the last observation
    else:
        prefix = f"The result of the latest experiment you ran to make observations is {last_result}."
    body = question + ANSWER_SUFFIX
    return f"{prefix}\n{body}" if prefix else body


def comm_prompt(env: Environment, goal: Goal, include_prior: bool, words: int) -> str:
    text = (
        "Now explain what you have learned to a user. Assume that the user has no prior knowledge, and will not be "
        "able to run any experiments before making predictions. They will make predictions based solely on your "
        "explanation, so give the details that matter for their goal: "
        + goal.naive_goal_text(include_prior)
        + " You cannot provide your own experiments or observations. "
        f"Limit your explanation to {words} words."
    )
    if env.key == "location_finding" and include_prior and goal.name == "direct":
        text += " Help them predict the intensity at a point without knowing the source locations."
    return text


def novice_system(env: Environment, goal: Goal, include_prior: bool, explanation: str, mode: Mode) -> str:
    """The novice's only context. Paper mode follows the reference: the user's goal, the answer format and the
    explanation, never the world description; fixed mode also describes the world."""
    if mode == "paper" and env.key in PAPER_BARE_NOVICE:
        return NOVICE_HEADER + explanation  # the reference overwrites the goal text for these two worlds
    task = (
        f"{goal.naive_goal_text(include_prior)} You will be asked questions; answer each in the format "
        f"<answer>your answer</answer>, where your answer is {goal.answer_format()}."
    )
    intro = task if mode == "paper" else f"{env.description(include_prior)}\n\n{task}"
    return f"{intro}\n{NOVICE_HEADER}{explanation}"


def truncate_words(text: str, limit: int) -> tuple[str, int]:
    words = text.split()
    return (" ".join(words[:limit]) if len(words) > limit else text.strip()), len(words)


class BuiltinTexts:
    """This plugin's own wording (paraphrases of the reference); ``reference_texts.ReferenceTexts`` has the
    same interface and reads the reference's wording from a local clone instead."""

    observe_reminder = OBSERVE_REMINDER
    answer_reminder = ANSWER_REMINDER

    def scientist_system(self, env: Environment, goal: Goal, include_prior: bool) -> str:
        return scientist_system(env, goal, include_prior)

    def discovery_system(self, env: Environment, goal: Goal, include_prior: bool) -> str:
        return discovery_system(env, goal, include_prior)

    def experiment_prompt(self, last_result: str | None) -> str:
        return experiment_prompt(last_result)

    def question_prompt(
        self, env: Environment, goal: Goal, point: EvalPoint, budget: int, last_result: str | None, *, novice: bool
    ) -> str:
        return question_prompt(point.question, budget, last_result, env.mode, novice=novice)

    def comm_prompt(self, env: Environment, goal: Goal, include_prior: bool, words: int) -> str:
        return comm_prompt(env, goal, include_prior, words)

    def novice_system(self, env: Environment, goal: Goal, include_prior: bool, explanation: str, mode: Mode) -> str:
        return novice_system(env, goal, include_prior, explanation, mode)

    def provenance(self) -> dict[str, str]:
        return {}


BUILTIN = BuiltinTexts()
