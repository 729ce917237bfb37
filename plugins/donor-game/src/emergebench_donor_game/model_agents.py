"""Agents played by a language model: every strategy and every donation is one chat call.

Each call is seeded from the sample seed and the call's place in the simulation, so a run at
temperature > 0 is reproducible on providers that honour seeds, and cache keys never collide.
"""

from __future__ import annotations

import hashlib
from typing import Any, Protocol

from emergebench import GenerateConfig, Message, ModelHandle

from .constrained import donation_schema, parse_json_donation, parse_json_strategy, strategy_schema
from .engine import Action, Decision, EncounterView
from .parsing import parse_donation_reply, parse_strategy_reply
from .prompts import PluginPrompts
from .reference_prompts import ReferencePrompts
from .settings import DonorGameArgs, GameRules


class PromptSet(Protocol):
    """Where the four prompts come from: this plugin's wording or the reference's (``-T reference_repo``)."""

    source: str

    def system(self) -> str: ...
    def first_strategy(self, name: str) -> str: ...
    def inherited_strategy(
        self, name: str, generation: int, strategies: list[str], scores: list[float] | None
    ) -> str: ...
    def donation(self, view: EncounterView, strategy: str) -> str: ...
    def provenance(self) -> dict[str, Any]: ...


def call_seed(seed: int, key: str) -> int:
    """A 31-bit seed for one call, stable across runs and distinct between calls."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{key}".encode()).digest()[:4], "big") & 0x7FFFFFFF


class ModelAgents:
    """The whole population played by one model (as in the paper: one model per run).

    ``send_system=False`` sends each prompt alone, as the reference does for Gemini. ``constrained``
    asks the provider for JSON that matches the answer format (a JSON schema); the reply is read from
    that JSON, and the text parser is never needed.
    """

    def __init__(
        self,
        model: ModelHandle,
        rules: GameRules,
        *,
        seed: int,
        temperature: float,
        max_tokens: int,
        max_attempts: int,
        prompts: PromptSet | None = None,
        send_system: bool = True,
        constrained: bool = False,
    ) -> None:
        self.model = model
        self.rules = rules
        self.seed = seed
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.max_attempts = max_attempts
        self.prompts: PromptSet = prompts or PluginPrompts(rules)
        self.system = self.prompts.system() if send_system else None
        self.constrained = constrained

    def _config(self, key: str, schema: dict[str, Any] | None = None) -> GenerateConfig:
        return GenerateConfig(
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            seed=call_seed(self.seed, key),
            response_format=schema if self.constrained else None,
        )

    def _messages(self, user: str) -> list[Message]:
        system = [Message(role="system", content=self.system)] if self.system is not None else []
        return [*system, Message(role="user", content=user)]

    async def write_strategy(
        self, name: str, generation: int, advice: list[str] | None, scores: list[float] | None
    ) -> tuple[str, str]:
        if advice is None:
            prompt = self.prompts.first_strategy(name)
        else:
            prompt = self.prompts.inherited_strategy(name, generation, advice, scores)
        key = f"strategy:{name}"
        output = await self.model.generate(self._messages(prompt), self._config(key, strategy_schema()), cache_salt=key)
        if self.constrained:
            parsed = parse_json_strategy(output.text)
            if parsed is not None:
                return parsed
        return parse_strategy_reply(output.text)

    async def decide(self, view: EncounterView, strategy: str) -> Decision:
        """Ask until a reply parses, at most ``max_attempts`` times; then the action is a donation of 0."""
        messages = self._messages(self.prompts.donation(view, strategy))
        where = f"donation:g{view.generation}:game{view.game}:r{view.round}:{view.donor}"
        schema = donation_schema(self.rules.punishment, view.donor_resources)
        for attempt in range(1, self.max_attempts + 1):
            key = f"{where}:try{attempt}"
            output = await self.model.generate(messages, self._config(key, schema), cache_salt=key)
            if self.constrained:
                parsed = parse_json_donation(output.text, punishment=self.rules.punishment)
            else:
                parsed = parse_donation_reply(output.text, punishment=self.rules.punishment)
            if parsed is not None:
                return Decision(parsed.action, parsed.justification, attempts=attempt)
        return Decision(Action("donate", 0.0), "", attempts=self.max_attempts, failed=True)


def prompt_set(args: DonorGameArgs) -> PromptSet:
    """This plugin's prompts, or the reference's read from ``-T reference_repo`` (checked before any call)."""
    rules = GameRules.from_args(args)
    if args.reference_repo:
        return ReferencePrompts.load(args.reference_repo, rules)
    return PluginPrompts(rules)


def agents_for(model: ModelHandle, args: DonorGameArgs, seed: int) -> ModelAgents:
    """The population as the task options say: prompts, system message, constrained replies."""
    return ModelAgents(
        model,
        GameRules.from_args(args),
        seed=seed,
        temperature=args.temperature,
        max_tokens=args.max_tokens,
        max_attempts=args.max_attempts,
        prompts=prompt_set(args),
        send_system=args.system_prompt == "send",
        constrained=args.constrained == "on" or (args.constrained == "auto" and model.supports_json_schema),
    )
