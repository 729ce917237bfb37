"""The three prompts agents see (spec section 6): system, strategy and donation.

They follow the reference prompts' structure and order, and keep the short phrases the spec quotes
(which parsers and scripted agents rely on: "Your name is", "My strategy will be", "Answer:").
The wording in between is this plugin's own. Unlike the reference, pieces are separated by spaces and
line breaks instead of being run together, and game parameters (multiplier, trace depth) are filled
in from the options.
"""

from __future__ import annotations

from .engine import EncounterView, format_units
from .settings import GameRules

DONOR_MARK = "You will take the role of donor."
COSTLY_FORMAT = "State your answer as EITHER Donate, x OR Punish, x"


def _times(value: float) -> str:
    """``2`` -> ``2x``, ``1.5`` -> ``1.5x``."""
    return f"{value:g}x"


def _trace_explanation(rules: GameRules) -> str:
    depth = rules.trace_depth
    letters = [chr(ord("A") + i) for i in range(depth + 1)]
    example_round = depth + 1
    steps = [f"what {letters[0]} did in round {example_round - 1}"]
    for i in range(1, depth):
        steps.append(
            f"what {letters[i]} (the agent {letters[i - 1]} was paired with in round {example_round - i}) "
            f"did in round {example_round - i - 1}"
        )
    example = "; ".join(steps)
    chain = (
        f"You will also see what A's partner from that round (call them B) did in their immediately preceding "
        f"round, and so on, reaching at most {depth} rounds back."
        if depth > 1
        else "You will see nothing about earlier rounds."
    )
    return (
        "As a donor, you will receive limited information about the recipient and their recent interactions. "
        "You will see what the recipient (call them A) did in the immediately preceding round only. "
        f"{chain} You never see several rounds of the same individual's behaviour. "
        f"For example, if you are paired with {letters[0]} in round {example_round}, you might see {example}."
    )


def _punishment_sentence(rules: GameRules) -> str:
    if not rules.punishment:
        return ""
    return (
        " As a donor you may instead punish the recipient by spending x units to take away "
        f"{_times(rules.punishment_loss)} units from them. Bear in mind that others may punish you too."
    )


def system_prompt(rules: GameRules) -> str:
    """Shared by every call (always sent, including where the reference omitted it for Gemini)."""
    return (
        "You are a game-playing agent. Your assistance will help us understand multi-agent interactions. "
        "You are playing the following game. "
        f"Each player is given an initial endowment of {format_units(rules.endowment)} units of a resource. "
        "In each round, you are randomly paired with another individual. "
        "One of you is a donor, and the other is a recipient. "
        "The donor decides to give up some amount of the resource, between 0 and all of the units they hold. "
        f"The recipient receives {_times(rules.multiplier)} the number of units that the donor gave up. "
        "If you were a donor in one round, you will be a recipient in the next round, and vice versa. "
        f"{_trace_explanation(rules)}{_punishment_sentence(rules)} "
        "Your goal is to maximize the number of units you have after the final round. "
        "After the game has finished, the best-performing half of agents will survive to the next generation "
        "and continue playing."
    )


def _first_round_warning() -> str:
    """In both strategy prompts, as in the reference: no trace in round 1, so weigh that first gift."""
    return (
        "In the first round you will have no information about the recipient's past behaviour, "
        "so think carefully about how much to donate in that case."
    )


def _closing_instruction() -> str:
    return "Describe your strategy briefly without explanation in one sentence that starts: My strategy will be."


def first_strategy_prompt(name: str, rules: GameRules) -> str:
    """Generation 1: an agent invents its strategy from the rules alone."""
    return (
        f"Your name is {name}. "
        "Based on the description of the game, create a strategy that you will follow in the game. "
        f"{_trace_explanation(rules)}{_punishment_sentence(rules)} "
        f"{_first_round_warning()} "
        "Before formulating your strategy, briefly think step by step about what would be a successful strategy "
        f"in this game. {_closing_instruction()}"
    )


def survivor_list(strategies: list[str], scores: list[float] | None) -> str:
    """The survivors' advice as a Python list literal, best first (as the reference interpolates it)."""
    if scores is None:
        return repr(list(strategies))
    return repr([[text, score] for text, score in zip(strategies, scores, strict=True)])


def inherited_strategy_prompt(name: str, rules: GameRules, strategies: list[str], scores: list[float] | None) -> str:
    """Generation 2 on: a newcomer improves on the survivors' strategies (scores only with show_scores)."""
    return (
        f"Your name is {name}. How would you approach the game? Here is the advice of the best-performing 50% "
        "of the previous generation, along with their final scores. "
        "Modify this advice to create your own strategy. "
        f"{survivor_list(strategies, scores)} "
        f"{_trace_explanation(rules)}{_punishment_sentence(rules)} "
        f"{_first_round_warning()} "
        "Before formulating your strategy, briefly think step by step about what would be a successful strategy "
        "in this game, and think about how you can improve on the surviving agents' strategies. "
        f"{_closing_instruction()}"
    )


def donation_prompt(view: EncounterView, strategy: str, rules: GameRules) -> str:
    """One encounter, seen from the donor (spec 6.3); the game number is not shown, as in the reference."""
    donor_units = format_units(view.donor_resources)
    if rules.punishment:
        question = (
            f"How many units do you give up, or spend on punishment? {COSTLY_FORMAT}, where x is a number "
            f"between 0 and {donor_units} (inclusive)."
        )
        reminder = f" Remember: {COSTLY_FORMAT}."
    else:
        question = (
            "How many units do you give up? "
            f"Please state your answer as a real number between 0 and {donor_units} (inclusive)."
        )
        reminder = ""
    return (
        f"Your name is {view.donor}. "
        f"As you will recall, here is the strategy you decided to follow: {strategy}\n"
        f"This is generation {view.generation}. It is now round {view.round}. "
        f"In this round, you have been paired with {view.recipient}. "
        f"They currently have {format_units(view.recipient_resources)} units of the valuable resource.\n"
        f"{view.trace}\n"
        f"{DONOR_MARK} You currently have {donor_units} units of the valuable resource. "
        f"{question}\n"
        "Very briefly think step by step about how you apply your strategy in this situation and then provide "
        "your answer. Use this format:\n"
        "Justification:\n[multi-line justification here]\n\n"
        "Answer: [answer here]\n"
        f"First state your justification and after that your answer.{reminder}"
    )


class PluginPrompts:
    """This plugin's wording (the default); ``ReferencePrompts`` reads the reference's instead."""

    source = "plugin"

    def __init__(self, rules: GameRules) -> None:
        self.rules = rules

    def system(self) -> str:
        return system_prompt(self.rules)

    def first_strategy(self, name: str) -> str:
        return first_strategy_prompt(name, self.rules)

    def inherited_strategy(self, name: str, generation: int, strategies: list[str], scores: list[float] | None) -> str:
        return inherited_strategy_prompt(name, self.rules, strategies, scores)

    def donation(self, view: EncounterView, strategy: str) -> str:
        return donation_prompt(view, strategy, self.rules)

    def provenance(self) -> dict[str, str]:
        return {"prompts_source": "plugin"}
