"""One emergebench task per world, ``boxinggym/<env>``; each sample is one seeded trajectory."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any, ClassVar, Literal

import numpy as np
from emergebench import (
    GenerateConfig,
    MetricPair,
    Sample,
    SampleOutput,
    SampleScore,
    ScoreContext,
    SolveContext,
    Task,
)
from emergebench.metrics import MeanAccumulator
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .eig_replay import replay_eig
from .envs import ENVIRONMENTS, Environment
from .envs.base import Goal
from .norms import NORMS_FILE, fixed_norm
from .reference_texts import ReferenceTexts
from .refsource import ReferenceSourceError
from .scoring import score_trajectory
from .stored import decode_data
from .trajectory import Config, Trajectory, eval_rng

VERSION = "1"
DEFAULT_BUDGETS = (0, 1, 3, 5, 7, 10)


class BoxingGymArgs(BaseModel):
    """``-T`` options shared by every world."""

    model_config = ConfigDict(extra="forbid")

    goal: str = Field("direct", description="which goal to evaluate (each world lists its goals)")
    prior: bool = Field(True, description="describe the world with its real-world framing")
    mode: Literal["fixed", "paper"] = Field("fixed", description="fixed: corrected; paper: the reference's quirks")
    experiment: Literal["oed", "discovery"] = Field("oed", description="oed: predict; discovery: explain to a novice")
    budgets: list[int] = Field(list(DEFAULT_BUDGETS), description="checkpoints, in experiments, within one trajectory")
    seeds: int = Field(5, ge=1, le=1000, description="trajectories (samples) per run")
    num_evals: int = Field(10, ge=1, le=100, description="held-out questions per checkpoint")
    eig: bool = Field(True, description="compute EIG and EIG regret of every design")
    random_designs: int = Field(100, ge=0, le=10000, description="random designs the regret compares against")
    phrase: bool = Field(True, description="moral machines and emotion: a model phrases each outcome")
    max_tokens: int = Field(512, ge=1, description="token limit of every scientist and novice call")
    temperature: float = Field(0.0, ge=0.0, description="sampling temperature of the scientist and novice")
    explanation_words: int = Field(200, ge=1, description="discovery: word limit of the explanation")
    constrained: Literal["auto", "on", "off"] = Field(
        "off", description="predictions as JSON matching the goal's type (auto: fixed mode, where supported)"
    )
    reference_repo: str | None = Field(
        None,
        description="a local clone of kanishkg/boxing-gym: every prompt is read from its files (their sha256 "
        "go in the run's provenance) instead of this plugin's paraphrases",
    )

    @field_validator("budgets", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, int):
            return [value]
        if isinstance(value, str):
            try:
                return [int(v) for v in value.replace("[", "").replace("]", "").split(",") if v.strip()]
            except ValueError:
                raise ValueError(f"budgets must be comma-separated integers like 0,1,3,5,7,10; got {value!r}") from None
        return value

    @field_validator("budgets")
    @classmethod
    def _check_budgets(cls, value: list[int]) -> list[int]:
        if not value or any(b < 0 for b in value):
            raise ValueError(f"budgets must be non-negative integers, at least one; got {value}")
        if max(value) == 0:
            raise ValueError("budgets need at least one positive number of experiments, e.g. 0,1,3")
        return sorted(set(value))


def reference_texts(env_cls: type[Environment], args: BoxingGymArgs) -> ReferenceTexts:
    """The clone's texts for this world and goal, with every text rendered once so a misfit fails early."""
    assert args.reference_repo is not None
    env = env_cls(np.random.default_rng(0), args.mode, phrase=False, include_prior=args.prior)
    goal = env.goals[args.goal](env)
    try:
        texts = ReferenceTexts(args.reference_repo, env, goal)
        texts.scientist_system(env, goal, args.prior)
        point = goal.eval_points(np.random.default_rng(0), 1)[0]
        texts.question_prompt(env, goal, point, 1, "1", novice=False)
        if args.experiment == "discovery":
            texts.discovery_system(env, goal, args.prior)
            texts.comm_prompt(env, goal, args.prior, args.explanation_words)
            texts.novice_system(env, goal, args.prior, "", args.mode)
    except ReferenceSourceError as exc:
        raise ValueError(f"reference_repo: {exc}") from None
    return texts


def _args_for(env_cls: type[Environment]) -> type[BoxingGymArgs]:
    goals = sorted(env_cls.goals)

    class Args(BoxingGymArgs):
        @model_validator(mode="after")
        def _check_goal(self) -> Args:
            if self.goal not in env_cls.goals:
                raise ValueError(
                    f"goal {self.goal!r} does not exist for {env_cls.key}; choose one of {', '.join(goals)}"
                )
            goal_cls = env_cls.goals[self.goal]
            if not self.prior and (env_cls.prior_only or goal_cls.prior_only):
                raise ValueError(
                    f"{env_cls.key} goal {self.goal!r} exists only with the real-world prior, as in the paper; "
                    "drop prior=false"
                )
            if self.reference_repo is not None:
                reference_texts(env_cls, self)  # a clone that does not fit is refused before any model call
            return self

    Args.__name__ = f"{env_cls.__name__}Args"
    return Args


class BoxingGymTask(Task[BoxingGymArgs]):
    """Base of the ten generated tasks; ``env_cls`` picks the world."""

    env_cls: ClassVar[type[Environment]]
    main_metric = "z_final"
    format_failure_metric = "unparsed_rate"
    # standardised and raw errors (per budget, final, after communication), EIG regret and the share of
    # unreadable answers: smaller is better (Gandhi et al. 2025 rank models by lowest error)
    lower_is_better = frozenset(
        {"z", "err", "z_final", "err_final", "z_comm", "err_comm", "eig_regret", "unparsed_rate"}
    )
    # "solved": the final standardised error is at or below the normalising baseline's (z <= 0)
    metric_pairs = (MetricPair(headline="solved", continuous="z_final", lower_is_better=True, threshold=0.0),)
    # scores come from a whole trajectory (errors at checkpoints, EIG regret): no generic grader applies
    answer_gradable: ClassVar[bool] = False

    def dataset(self, seed: int) -> list[Sample]:
        a = self.args
        return [
            Sample(
                id=f"{a.goal}-{'prior' if a.prior else 'noprior'}-{a.experiment}-{i}",
                input={"env": self.env_cls.key, "goal": a.goal, "prior": a.prior, "trajectory": i},
            )
            for i in range(1, a.seeds + 1)
        ]

    def config(self) -> Config:
        a = self.args
        return Config(
            mode=a.mode,
            include_prior=a.prior,
            experiment=a.experiment,
            budgets=tuple(a.budgets),
            num_evals=a.num_evals,
            generate=GenerateConfig(temperature=a.temperature, max_tokens=a.max_tokens),
            explanation_words=a.explanation_words,
            constrained=a.constrained,
        )

    def world(self, seed: int) -> tuple[Environment, Goal]:
        """The sample's world and goal, rebuilt exactly from its seed (before any experiment)."""
        a = self.args
        env = self.env_cls(np.random.default_rng(seed), a.mode, phrase=a.phrase, include_prior=a.prior)
        return env, env.goals[a.goal](env)

    async def solve(self, sample: Sample, ctx: SolveContext) -> SampleOutput:
        """Run the trajectory; the designs, observations, each design's EIG and the answers are the output."""
        env, goal = self.world(ctx.seed)
        # the novice is the user's --grader-model when given, else the subject model in a fresh conversation
        novice = ctx.with_model(ctx.grader_model if ctx.grader_model is not None else ctx.model, "novice")
        traj = Trajectory(
            env,
            goal,
            self.config(),
            ctx.model,
            novice=novice,
            phraser=ctx.with_model(ctx.model, "environment"),
            seed=ctx.seed,
        )
        ctx.state["boxinggym"] = traj  # the baseline models read the running world from here
        if self.args.reference_repo is not None:
            traj.texts = ReferenceTexts(self.args.reference_repo, env, goal)
        await traj.run()
        return SampleOutput(answer=traj.explanation, data=traj.output())

    async def score(self, sample: Sample, output: SampleOutput, ctx: ScoreContext) -> SampleScore:
        """Errors (raw and standardized) per checkpoint and EIG regret, from the stored trajectory."""
        _, goal = self.world(ctx.seed)
        # drawn from a fresh world, as the trajectory drew them before its first experiment
        points = goal.eval_points(eval_rng(ctx.seed), self.args.num_evals)
        steps = None
        if self.args.eig and goal.env.outcome != "deterministic" and "data" in output.data:
            data = decode_data(output.data["data"])
            # numpy work off the event loop, so other samples' scoring and model calls keep flowing
            steps = await asyncio.to_thread(replay_eig, goal, data, ctx.seed, self.args.random_designs)
        scores, details = score_trajectory(goal, points, output.data, self.args.mode, steps)
        return SampleScore(scores=scores, metadata=details)

    def metric_accumulator(self) -> MeanAccumulator:
        """Means over trajectories; per-budget scores are grouped as ``z``/``err`` with group budget=N."""
        return MeanAccumulator(key=_budget_key, order=_budget_order)

    def provenance(self) -> dict[str, Any]:
        from importlib import resources

        data = resources.files(__package__).joinpath(NORMS_FILE).read_bytes()
        out: dict[str, Any] = {"norms_sha256": hashlib.sha256(data).hexdigest()}
        if self.args.mode == "fixed":
            mu, sigma = fixed_norm(self.env_cls.key, self.args.goal)
            out["norm"] = f"{mu:.6g},{sigma:.6g}"
        if self.args.reference_repo is not None:
            texts = reference_texts(self.env_cls, self.args)
            out.update({f"reference:{path}": digest for path, digest in texts.provenance().items()})
        return out


def _budget_key(name: str) -> tuple[str, str | None]:
    base, _, budget = name.partition("@")
    return (base, f"budget={budget}") if budget else (name, None)


def _budget_order(key: tuple[str, str | None]) -> tuple[str, int]:
    name, group = key
    return name, int(group.split("=")[1]) if group else -1


def make_task(env_cls: type[Environment]) -> type[BoxingGymTask]:
    goals = ", ".join(f"{name} ({g.description})" for name, g in env_cls.goals.items())
    attrs = {
        "name": f"boxinggym/{env_cls.key}",
        "version": VERSION,
        "description": f"BoxingGym {env_cls.title}: design experiments, then predict. Goals: {goals}.",
        "Args": _args_for(env_cls),
        "env_cls": env_cls,
        "__module__": __name__,
    }
    return type(f"{env_cls.__name__}Task", (BoxingGymTask,), attrs)


TASKS: dict[str, type[BoxingGymTask]] = {key: make_task(cls) for key, cls in ENVIRONMENTS.items()}
# the demo: a small count world, two checkpoints, two questions, short replies
TASKS["peregrines"].demo_args = {
    "budgets": "0,1",
    "num_evals": 2,
    "seeds": 1,
    "max_tokens": 48,
    "random_designs": 20,
    "constrained": "auto",
}
TASKS["peregrines"].demo_limit = 1
