"""The reference's own prompt wording, read at run time from the user's clone (``-T reference_repo=PATH``).

This project ships only paraphrases; a researcher who wants the exact wording points the task at a
local clone of kanishkg/boxing-gym, and every text the scientist and the novice read is rendered from
the clone's source (see ``refsource.py``). The files read and their sha256 go into the run's
provenance. The interaction loop stays this plugin's (tags, retries, checkpoints), so only wording
changes, not the protocol.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .envs.base import Environment, EvalPoint, Goal, Mode
from .refsource import Clone, Namespace, ReferenceSourceError

REPO = "kanishkg/boxing-gym"
ENVS_DIR = "src/boxing_gym/envs/"
AGENT = "src/boxing_gym/agents/agent.py"
LOOP = "run_experiment.py"

# world -> (file under ENVS_DIR, environment class, {goal: (goal class, discovery-mode class or None)})
WORLDS: dict[str, tuple[str, str, dict[str, tuple[str, str | None]]]] = {
    "location_finding": (
        "location_finding.py",
        "Signal",
        {"direct": ("DirectGoal", "DirectGoalNaive"), "source": ("SourceGoal", None)},
    ),
    "hyperbolic_discounting": (
        "hyperbolic_temporal_discount.py",
        "TemporalDiscount",
        {"direct": ("DirectGoal", "DirectGoalNaive"), "discount": ("DiscountGoal", None)},
    ),
    "death_process": (
        "death_process.py",
        "DeathProcess",
        {"direct": ("DirectDeath", "DirectDeathNaive"), "infection": ("InfectionRate", None)},
    ),
    "irt": ("irt.py", "IRT", {"direct": ("DirectCorrectness", "DirectCorrectnessNaive")}),
    "survival": ("survival_analysis.py", "SurvivalAnalysis", {"direct": ("DirectGoal", "DirectGoalNaive")}),
    "dugongs": ("dugongs.py", "Dugongs", {"direct": ("DirectGoal", "DirectGoalNaive")}),
    "peregrines": ("peregrines.py", "Peregrines", {"direct": ("DirectGoal", "DirectGoalNaive")}),
    "lotka_volterra": ("lotka_volterra.py", "LotkaVolterra", {"direct": ("DirectGoal", "DirectGoalNaive")}),
    "moral_machines": ("moral_machines.py", "MoralMachine", {"direct": ("DirectPrediction", "DirectPredictionNaive")}),
    "emotion": (
        "emotion.py",
        "EmotionFromOutcome",
        {"direct": ("DirectEmotionPrediction", "DirectEmotionNaive")},
    ),
}


def env_attributes(env: Environment) -> dict[str, Any]:
    """The attributes the reference's environment templates read, with this world's values."""
    from .envs.moral_machines import CHARACTERS

    known: dict[str, dict[str, Any]] = {
        "location_finding": {"num_sources": 3, "dim": 2},
        "death_process": {"N": 50, "lower_bound": 0, "upper_bound": 2},
        "irt": {"num_students": 6, "num_questions": 6},
        "survival": {"num_patients": 100, "time_upper_bound": 10},
        "dugongs": {"lower_limit": 0, "upper_limit": 5},
        "peregrines": {"lower_limit": 0, "upper_limit": 5},
        "lotka_volterra": {"lower_limit": 0, "upper_limit": 50},
        "moral_machines": {"characters": list(CHARACTERS)},
    }
    return dict(known.get(env.key, {}))


def pinned_for_system(env: Environment) -> dict[str, Any]:
    """Locals the templates build with loops over world state, supplied ready-made."""
    if env.key == "survival":
        lines = "".join(
            f"{i}: {env.times[i]:0.2f}, {env.metastasized[i]}\n"  # type: ignore[attr-defined]
            for i in range(len(env.times))  # type: ignore[attr-defined]
        )
        return {"filtered_patients_txt": lines}
    return {}


def question_locals(env: Environment, goal: Goal, point: EvalPoint) -> dict[str, Any]:
    """The question's variables under the names the reference's ``get_goal_eval_question`` uses."""
    q = point.query
    match env.key, goal.name:
        case "location_finding", "direct":
            return {"loc": np.asarray(q, dtype=float)}
        case "hyperbolic_discounting", "direct":
            return {"ir": q[0], "dr": q[1], "days": q[2]}
        case "death_process", "direct":
            return {"time": q}
        case "irt", _:
            return {"student_id": q[0], "question": q[1]}
        case "survival", _:
            return {"time_since_surgery": q[0], "metastasized": q[1]}
        case "dugongs", _:
            return {"age": q}
        case "peregrines", _:
            return {"ti": q}
        case "lotka_volterra", _:
            return {"time": q}
        case "moral_machines", _:
            return {"group1": np.array(q[0]), "group2": np.array(q[1]), "intervention": q[2]}
        case "emotion", _:
            return {"prizes": np.asarray(q[0]), "probs": np.asarray(q[1]), "win": q[2]}
    return {}  # parameter goals ask one fixed question


class ReferenceTexts:
    """Every text of one world and goal rendered from the clone; same interface as ``prompts.BUILTIN``."""

    def __init__(self, root: str | Path, env: Environment, goal: Goal) -> None:
        self.clone = Clone(Path(root))
        file, env_class, goals = WORLDS[env.key]
        self.env_file = ENVS_DIR + file
        self.goal_class, self.naive_class = goals[goal.name]
        source = self.clone.file(self.env_file)
        for cls in (env_class, self.goal_class):
            if not source.has_class(cls):
                raise ReferenceSourceError(
                    f"{self.env_file} has no class {cls}; is this a clone of kanishkg/boxing-gym?"
                )
        self.env_ns = Namespace(env_attributes(env))
        self.goal_ns = Namespace({"env": self.env_ns})
        self.methods = {
            f"self.env.{name}": (self.env_file, f"{env_class}.{name}")
            for name in ("generate_system_message", "get_system_message")
        } | {f"self.{name}": (self.env_file, f"{env_class}.{name}") for name in ("generate_system_message",)}
        self.system_pins = pinned_for_system(env)
        # read every fixed text now, so a clone that does not fit fails before any model call
        self.observe_reminder = self._agent("prompt_llm_and_parse", {"is_observation": True}, "request_prompt")
        self.answer_reminder = self._agent("prompt_llm_and_parse", {"is_observation": False}, "request_prompt")
        self.answer_suffix = self._agent("generate_predictions", {"request_prompt": ""}, "request_prompt")
        self.first_request = self._agent("generate_actions", {"experiment_results": None}, "follow_up_prompt")
        self.no_data_prefix = self._loop([0])

    def _agent(self, method: str, args: dict[str, Any], result: str) -> str:
        pinned = {"response": None} if method == "prompt_llm_and_parse" else {}
        return self.clone.render(AGENT, f"LMExperimenter.{method}", args, pinned=pinned, result=result)

    def _loop(self, budgets: list[int], observation: str | None = None) -> str:
        pinned: dict[str, Any] = {"i": 0, "num_experiments": budgets, "use_ppl": False, "naive_agent": None}
        if observation is not None:
            pinned["observation"] = observation
        return self.clone.render(LOOP, "iterative_experiment", {}, pinned=pinned, result="final_results")

    def _goal(
        self,
        cls: str | None,
        method: str,
        args: dict[str, Any],
        pinned: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
    ) -> str:
        if cls is None:
            raise ReferenceSourceError(f"the reference has no discovery-mode class for this goal in {self.env_file}")
        return self.clone.render(
            self.env_file,
            f"{cls}.{method}",
            args,
            self_ns=self.goal_ns,
            methods=self.methods,
            pinned=pinned,
            inputs=inputs,
        )

    # -- the interface the trajectory calls -------------------------------------------------------------
    def scientist_system(self, env: Environment, goal: Goal, include_prior: bool) -> str:
        return self._goal(self.goal_class, "get_system_message", {"include_prior": include_prior}, self.system_pins)

    def discovery_system(self, env: Environment, goal: Goal, include_prior: bool) -> str:
        return self._goal(self.naive_class, "get_system_message", {"include_prior": include_prior}, self.system_pins)

    def experiment_prompt(self, last_result: str | None) -> str:
        if last_result is None:
            return self.first_request
        return self._agent("generate_actions", {"experiment_results": last_result}, "follow_up_prompt")

    def question_prompt(
        self, env: Environment, goal: Goal, point: EvalPoint, budget: int, last_result: str | None, *, novice: bool
    ) -> str:
        """The reference shows the novice the same "final result" line as the scientist (its quirk, kept)."""
        args = {"include_prior": env.include_prior}
        question = self._goal(self.goal_class, "get_goal_eval_question", args, inputs=question_locals(env, goal, point))
        prefix = self.no_data_prefix if budget == 0 or last_result is None else self._loop([0, 1], last_result)
        return prefix + "\n" + question + self.answer_suffix

    def comm_prompt(self, env: Environment, goal: Goal, include_prior: bool, words: int) -> str:
        args = {"include_prior": include_prior, "com_limit": words, "use_ppl": False}
        return self._goal(self.naive_class, "get_comm_prompt", args)

    def novice_system(self, env: Environment, goal: Goal, include_prior: bool, explanation: str, mode: Mode) -> str:
        return self._goal(self.naive_class, "get_naive_system_message", {"include_prior": include_prior}) + explanation

    def provenance(self) -> dict[str, str]:
        return self.clone.hashes()
