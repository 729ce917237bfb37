"""Agents played by a language model: every strategy and every donation is one chat call.

Each call is seeded from the sample seed and the call's place in the simulation, so a run at
temperature > 0 is reproducible on providers that honour seeds, and cache keys never collide.
"""

from __future__ import annotations

import hashlib

from emergebench import GenerateConfig, Message, ModelHandle

from .engine import Action, Decision, EncounterView
from .parsing import parse_donation_reply, parse_strategy_reply
from .prompts import donation_prompt, first_strategy_prompt, inherited_strategy_prompt, system_prompt
from .settings import GameRules


def call_seed(seed: int, key: str) -> int:
    """A 31-bit seed for one call, stable across runs and distinct between calls."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{key}".encode()).digest()[:4], "big") & 0x7FFFFFFF


class ModelAgents:
    """The whole population played by one model (as in the paper: one model per run)."""

    def __init__(
        self,
        model: ModelHandle,
        rules: GameRules,
        *,
        seed: int,
        temperature: float,
        max_tokens: int,
        max_attempts: int,
    ) -> None:
        self.model = model
        self.rules = rules
        self.seed = seed
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.max_attempts = max_attempts
        self.system = system_prompt(rules)

    def _config(self, key: str) -> GenerateConfig:
        return GenerateConfig(temperature=self.temperature, max_tokens=self.max_tokens, seed=call_seed(self.seed, key))

    def _messages(self, user: str) -> list[Message]:
        return [Message(role="system", content=self.system), Message(role="user", content=user)]

    async def write_strategy(
        self, name: str, generation: int, advice: list[str] | None, scores: list[float] | None
    ) -> tuple[str, str]:
        if advice is None:
            prompt = first_strategy_prompt(name, self.rules)
        else:
            prompt = inherited_strategy_prompt(name, self.rules, advice, scores)
        key = f"strategy:{name}"
        output = await self.model.generate(self._messages(prompt), self._config(key), cache_salt=key)
        return parse_strategy_reply(output.text)

    async def decide(self, view: EncounterView, strategy: str) -> Decision:
        """Ask until a reply parses, at most ``max_attempts`` times; then the action is a donation of 0."""
        messages = self._messages(donation_prompt(view, strategy, self.rules))
        where = f"donation:g{view.generation}:game{view.game}:r{view.round}:{view.donor}"
        for attempt in range(1, self.max_attempts + 1):
            key = f"{where}:try{attempt}"
            output = await self.model.generate(messages, self._config(key), cache_salt=key)
            parsed = parse_donation_reply(output.text, punishment=self.rules.punishment)
            if parsed is not None:
                return Decision(parsed.action, parsed.justification, attempts=attempt)
        return Decision(Action("donate", 0.0), "", attempts=self.max_attempts, failed=True)
