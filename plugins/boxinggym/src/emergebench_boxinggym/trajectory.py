"""One BoxingGym trajectory: a seeded world, a scientist running experiments, and answers at the
checkpoints (OED) or an explanation read by a novice (discovery).

The solve loop lives here so the Task stays a thin adapter and the loop can be driven from tests
with any model handle. The trajectory records what happened (designs, observations, the exact data
the world produced, the answers given); turning the answers into errors and the data into each
design's EIG and regret is the scoring's job (``scoring.score_trajectory``, ``eig_replay``), which
reads only that record, so ``emergebench score`` recomputes both without a model call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from emergebench import GenerateConfig, Message, ModelHandle

from . import constrained, prompts
from .envs.base import DesignError, Environment, EvalPoint, Goal, Mode
from .posterior import Posterior, posterior_samples
from .reference_texts import ReferenceTexts
from .stored import encode

MAX_FORMAT_TRIES = 4  # model calls per experiment or answer until the tags are right
MAX_ENV_TRIES = 3  # designs the environment may reject per experiment
PromptKind = Literal["experiment", "predict", "novice", "explain", "phrase"]


@dataclass
class Config:
    mode: Mode = "fixed"
    include_prior: bool = True
    experiment: Literal["oed", "discovery"] = "oed"
    budgets: tuple[int, ...] = (0, 1, 3, 5, 7, 10)
    num_evals: int = 10
    generate: GenerateConfig = field(default_factory=lambda: GenerateConfig(temperature=0.0, max_tokens=512))
    explanation_words: int = 200
    constrained: Literal["auto", "on", "off"] = "off"  # JSON-schema predictions (see constrained.py)


@dataclass
class Checkpoint:
    """The answers given after ``budget`` experiments: each the <answer> text that parsed, or None."""

    budget: int
    answers: list[str | None]
    unparsed: int


@dataclass
class Experiment:
    index: int
    design: str | None
    observation: str | None
    success: bool
    attempts: int


def eval_rng(seed: int) -> np.random.Generator:
    """The stream the held-out questions are drawn from, so scoring can rebuild them from the seed."""
    return np.random.default_rng(np.random.SeedSequence(seed).spawn(3)[0])


def eig_rng(seed: int) -> np.random.Generator:
    """The stream the posteriors and EIG estimates draw from (scoring replays it from the seed)."""
    return np.random.default_rng(np.random.SeedSequence(seed).spawn(3)[1])


class Trajectory:
    """Runs the protocol of spec 2 against a scientist model; baselines read it from ctx.state."""

    def __init__(
        self,
        env: Environment,
        goal: Goal,
        config: Config,
        scientist: ModelHandle,
        *,
        novice: ModelHandle | None = None,
        phraser: ModelHandle | None = None,
        seed: int,
        texts: prompts.BuiltinTexts | ReferenceTexts = prompts.BUILTIN,
    ) -> None:
        self.env, self.goal, self.config = env, goal, config
        self.scientist, self.novice, self.phraser = scientist, novice, phraser
        self.texts = texts  # the wording: this plugin's, or the reference's read from a local clone
        streams = np.random.SeedSequence(seed).spawn(3)
        self.eval_rng = np.random.default_rng(streams[0])  # the same stream as eval_rng(seed)
        # streams[1] is eig_rng(seed): scoring's, for the posterior and EIG of each design
        self.baseline_rng = np.random.default_rng(streams[2])  # used by the baseline models only
        self.data: list[tuple[Any, Any]] = []
        self.experiments: list[Experiment] = []
        self.checkpoints: list[Checkpoint] = []
        self.prompts: dict[str, tuple[PromptKind, Any]] = {}
        self.last_result: str | None = None
        self.eval_points: list[EvalPoint] = []
        self.explanation: str | None = None
        self.comm: Checkpoint | None = None
        self.predictive: dict[int, Posterior] = {}  # posterior draws for baseline predictions, by data size

    # -- what the baselines look up ----------------------------------------------------------------
    def lookup(self, messages: list[Message]) -> tuple[PromptKind, Any] | None:
        """What the latest prompt this trajectory sent in ``messages`` asks for (reminders are skipped)."""
        for m in reversed(messages):
            if m.role == "user" and m.content in self.prompts:
                return self.prompts[m.content]
        return None

    def _register(self, text: str, kind: PromptKind, payload: Any = None) -> str:
        self.prompts[text] = (kind, payload)
        return text

    # -- the loop ----------------------------------------------------------------------------------
    async def run(self) -> None:
        cfg = self.config
        # built once, before any experiment (IRT also forbids its held-out pairs as queries)
        self.eval_points = self.goal.eval_points(self.eval_rng, cfg.num_evals)
        if cfg.experiment == "discovery":
            system = self.texts.discovery_system(self.env, self.goal, cfg.include_prior)
        else:
            system = self.texts.scientist_system(self.env, self.goal, cfg.include_prior)
        self.history = [Message(role="system", content=system)]
        n_experiments = max(cfg.budgets)
        if cfg.experiment == "oed" and 0 in cfg.budgets:
            await self.checkpoint(0)
        for i in range(n_experiments):
            await self.experiment(i)
            if cfg.experiment == "oed" and i + 1 in cfg.budgets:
                await self.checkpoint(i + 1)
        if cfg.experiment == "discovery":
            await self.communicate()

    async def _ask(
        self, handle: ModelHandle, messages: list[Message], salt: str, response_format: dict | None = None
    ) -> str:
        config = self.config.generate
        if response_format is not None:
            config = config.merged(GenerateConfig(response_format=response_format))
        out = await handle.generate(messages, config, cache_salt=salt)
        return out.text

    def _constrained(self, handle: ModelHandle) -> bool:
        """Constrained predictions: on when asked, or auto in fixed mode on a provider that supports them."""
        setting = self.config.constrained
        return setting == "on" or (setting == "auto" and self.env.mode == "fixed" and handle.supports_json_schema)

    async def experiment(self, index: int) -> None:
        """Up to MAX_ENV_TRIES designs, each after up to MAX_FORMAT_TRIES well-formed-tag attempts."""
        record = Experiment(index, None, None, False, 0)
        result = self.last_result
        for env_try in range(MAX_ENV_TRIES):
            prompt = self._register(self.texts.experiment_prompt(result), "experiment", index)
            self.history.append(Message(role="user", content=prompt))
            content = None
            for fmt_try in range(MAX_FORMAT_TRIES):
                record.attempts += 1
                reply = await self._ask(self.scientist, list(self.history), f"exp{index}-{env_try}-{fmt_try}")
                self.history.append(Message(role="assistant", content=reply))
                content = prompts.extract(prompts.OBSERVE_RE, reply)
                if content is not None:
                    break
                self.history.append(Message(role="user", content=self.texts.observe_reminder))
            if content is None:
                break  # the scientist never produced a usable <observe>: the experiment fails
            try:
                design = self.env.validate(content)
            except DesignError as exc:
                result = str(exc)  # the error goes back to the scientist as the observation
                continue
            await self._run_design(record, design)
            break
        if not record.success and result is not None and result != self.last_result:
            self.last_result = result
        self.experiments.append(record)

    async def _run_design(self, record: Experiment, design: Any) -> None:
        y = self.env.step(design)
        phrased = None
        if self.env.needs_phrasing() and self.phraser is not None:
            raw = [Message(**m) for m in self.env.phrasing_messages(design, y)]
            self._register(raw[-1].content, "phrase", y)
            phrase_cfg = GenerateConfig(
                temperature=0.7 if self.env.mode == "paper" else 0.0, max_tokens=self.config.generate.max_tokens
            )
            phrased = (await self.phraser.generate(raw, phrase_cfg, cache_salt=f"phrase{record.index}")).text
        self.data.append((design, y))
        record.design = self.env.format_design(design)
        record.observation = self.env.observation_text(y, phrased)
        record.success = True
        self.last_result = record.observation

    async def _predict(
        self, handle: ModelHandle, system: list[Message], point: EvalPoint, text: str, salt: str, kind: PromptKind
    ) -> str | None:
        """The first <answer> content the goal can parse, after up to MAX_FORMAT_TRIES replies."""
        messages = [*system, Message(role="user", content=self._register(text, kind, point))]
        for fmt_try in range(MAX_FORMAT_TRIES):
            if self._constrained(handle):
                reply = await self._ask(handle, messages, f"{salt}-{fmt_try}", constrained.answer_format(self.goal))
                content = constrained.answer_content(self.goal, reply)
            else:
                reply = await self._ask(handle, messages, f"{salt}-{fmt_try}")
                content = prompts.extract(prompts.ANSWER_RE, reply)
            if content is not None and self.goal.parse(content) is not None:
                return content
            messages = [
                *messages,
                Message(role="assistant", content=reply),
                Message(role="user", content=self.texts.answer_reminder),
            ]
        return None

    async def _answer_all(
        self, handle: ModelHandle, system: list[Message], budget: int, kind: PromptKind, tag: str
    ) -> Checkpoint:
        novice = kind == "novice"
        texts = [
            self.texts.question_prompt(self.env, self.goal, p, budget, self.last_result, novice=novice)
            for p in self.eval_points
        ]
        # the questions never enter the history, so evaluation cannot leak into later experiments; they are
        # asked one after another so that the recorded calls have the same order live and from the cache
        answers = []
        for i, (point, text) in enumerate(zip(self.eval_points, texts, strict=True)):
            answers.append(await self._predict(handle, system, point, text, f"{tag}-q{i}", kind))
        return Checkpoint(budget=budget, answers=answers, unparsed=sum(a is None for a in answers))

    async def checkpoint(self, budget: int) -> None:
        self.checkpoints.append(
            await self._answer_all(self.scientist, list(self.history), budget, "predict", f"b{budget}")
        )

    async def communicate(self) -> None:
        cfg = self.config
        ask = self._register(
            self.texts.comm_prompt(self.env, self.goal, cfg.include_prior, cfg.explanation_words), "explain"
        )
        reply = await self._ask(self.scientist, [*self.history, Message(role="user", content=ask)], "explain")
        explanation, words = (
            prompts.truncate_words(reply, cfg.explanation_words) if cfg.mode == "fixed" else (reply, len(reply.split()))
        )
        self.explanation, self.explanation_words = explanation, words
        system = [
            Message(
                role="system",
                content=self.texts.novice_system(self.env, self.goal, cfg.include_prior, explanation, cfg.mode),
            )
        ]
        novice = self.novice or self.scientist
        self.comm = await self._answer_all(novice, system, max(cfg.budgets), "novice", "novice")

    # -- the stored output ------------------------------------------------------------------------
    def output(self) -> dict[str, Any]:
        """Everything scoring needs (with the world rebuilt from the sample's seed), and what a reader wants."""
        return {
            "env": self.env.key,
            "goal": self.goal.name,
            "mode": self.env.mode,
            "include_prior": self.config.include_prior,
            "experiment": self.config.experiment,
            "eval": [{"question": p.question, "truth": _jsonable(p.truth)} for p in self.eval_points],
            "experiments": [e.__dict__ for e in self.experiments],
            # what the world used and answered, exactly: scoring replays each design's posterior and EIG
            "data": [[encode(design), encode(y)] for design, y in self.data],
            "checkpoints": [c.__dict__ for c in self.checkpoints],
            "explanation": self.explanation,
            "communication": self.comm.__dict__ if self.comm else None,
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


async def posterior_prediction(traj: Trajectory, point: EvalPoint, *, use_data: bool) -> Any:
    """What an ideal Bayesian predictor says: the posterior (or prior) predictive mean at ``point``."""
    env = traj.env
    data = traj.data if use_data and env.outcome != "deterministic" else []
    # without data the answer must not depend on when it is asked: a fixed stream of prior draws
    rng = traj.baseline_rng if data else np.random.default_rng(0)
    post = traj.predictive.get(len(data))
    if post is None:  # one posterior per checkpoint, shared by its questions
        post = posterior_samples(env, data, 2048, rng, previous=traj.predictive.get(max(traj.predictive, default=-1)))
        traj.predictive[len(data)] = post
    return traj.goal.baseline_prediction(point.query, post.theta, rng)
