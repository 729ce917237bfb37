"""Scripted Donor Game agents, offered as models ``donor-game/<policy>`` for baselines and tests.

They answer the real prompts: the donation prompt is read back (name, resources, trace) and the
reply uses the format a language model is asked for, so the whole prompt -> parse -> engine path runs.

Policies (``-M`` options in brackets):
- ``constant`` [fraction=0.5]: give that fraction of current resources.
- ``defect``: always give 0.
- ``reciprocate`` [initial=0.5]: give the fraction the recipient last gave (newest trace sentence);
  ``initial`` when it has no donation on record; 0 after it punished.
- ``punish`` [amount=1, rounds=all, threshold=none, fraction=0]: in the costly-punishment game,
  ``Punish, amount`` in the listed rounds, and only against recipients whose last donation was below
  ``threshold`` percent (or who punished) when a threshold is set; otherwise give ``fraction``.
- ``imitate`` [initial=none, step=0]: writes "donate P% of my resources" strategies (generation 1:
  ``initial`` or a value from its name; later: the survivors' mean plus ``step``) and follows them.
Any policy also takes ``agents`` (JSON object: agent name -> {"policy": ..., options}) to give
individual agents another policy, e.g. ``-M agents='{"1_1": {"policy": "defect"}}'``.
"""

from __future__ import annotations

import hashlib
import json
import re
from decimal import Decimal
from typing import Any, Literal

from emergebench import (
    GenerateConfig,
    Message,
    Model,
    ModelError,
    ModelInfo,
    ModelOutput,
    ModelProvider,
    Usage,
    UsageError,
)
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .prompt_reader import (
    DonationRequest,
    PromptFormatError,
    is_donation_prompt,
    read_donation_prompt,
    read_strategy_prompt,
)

PREFIX = "donor-game"
_PERCENT_STRATEGY = re.compile(r"donate (\d+(?:\.\d+)?)% of my resources")


def units(value: float) -> str:
    """A number written so that float() gives back exactly the same value, never in e-notation."""
    text = repr(float(value))
    return format(Decimal(value), "f") if "e" in text or "E" in text else text


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def decide(self, req: DonationRequest) -> tuple[str, float, str]:
        """(kind, amount, justification)."""
        raise NotImplementedError

    def strategy(self, name: str, advice: list[str] | None) -> str:
        raise NotImplementedError

    def reply(self, req: DonationRequest) -> str:
        kind, amount, why = self.decide(req)
        if req.costly:
            answer = f"{'Punish' if kind == 'punish' else 'Donate'}, {units(amount)}"
        else:
            answer = units(amount)
        return f"Justification:\n{why}\n\nAnswer: {answer}"


def _fraction_strategy(fraction: float) -> str:
    return f"My strategy will be to donate {fraction * 100:g}% of my resources in every round."


class Constant(Policy):
    policy: Literal["constant"] = "constant"
    fraction: float = Field(0.5, ge=0, le=1)

    def decide(self, req: DonationRequest) -> tuple[str, float, str]:
        return "donate", self.fraction * req.resources, f"I always give {self.fraction:g} of what I hold."

    def strategy(self, name: str, advice: list[str] | None) -> str:
        return _fraction_strategy(self.fraction)


class Defect(Policy):
    policy: Literal["defect"] = "defect"

    def decide(self, req: DonationRequest) -> tuple[str, float, str]:
        return "donate", 0.0, "I never give anything away."

    def strategy(self, name: str, advice: list[str] | None) -> str:
        return "My strategy will be to never donate anything."


class Reciprocate(Policy):
    policy: Literal["reciprocate"] = "reciprocate"
    initial: float = Field(0.5, ge=0, le=1)

    def decide(self, req: DonationRequest) -> tuple[str, float, str]:
        newest = req.trace[0] if req.trace else None
        if newest is not None and newest.kind == "punished":
            fraction, why = 0.0, f"{req.recipient} punished in round {newest.round}."
        elif newest is None or newest.percent is None:
            fraction, why = self.initial, "The recipient has no donation on record."
        else:
            fraction, why = newest.percent / 100, f"{req.recipient} gave {newest.percent}% in round {newest.round}."
        return "donate", fraction * req.resources, why

    def strategy(self, name: str, advice: list[str] | None) -> str:
        return "My strategy will be to give the same share of my resources that the recipient last gave."


class Punish(Policy):
    policy: Literal["punish"] = "punish"
    amount: float = Field(1.0, ge=0)
    rounds: list[int] | None = None
    threshold: float | None = Field(None, ge=0, le=100)
    fraction: float = Field(0.0, ge=0, le=1)

    def _target(self, req: DonationRequest) -> bool:
        if self.rounds is not None and req.round not in self.rounds:
            return False
        if self.threshold is None:
            return True
        newest = req.trace[0] if req.trace else None
        if newest is None:
            return False
        return newest.kind == "punished" or (newest.percent is not None and newest.percent < self.threshold)

    def decide(self, req: DonationRequest) -> tuple[str, float, str]:
        if req.costly and self._target(req):
            return "punish", self.amount, f"I punish {req.recipient}."
        return "donate", self.fraction * req.resources, f"I give {self.fraction:g} of what I hold."

    def strategy(self, name: str, advice: list[str] | None) -> str:
        return (
            f"My strategy will be to punish by spending {self.amount:g} units and otherwise donate {self.fraction:g}."
        )


class Imitate(Policy):
    policy: Literal["imitate"] = "imitate"
    initial: float | None = Field(None, ge=0, le=1)
    step: float = Field(0.0, ge=-1, le=1)

    def decide(self, req: DonationRequest) -> tuple[str, float, str]:
        match = _PERCENT_STRATEGY.search(req.strategy)
        if match is None:
            raise UsageError(
                f"donor-game/imitate cannot read a 'donate P% of my resources' strategy from {req.strategy!r}"
            )
        fraction = float(match.group(1)) / 100
        return "donate", fraction * req.resources, f"My strategy says {match.group(1)}%."

    def strategy(self, name: str, advice: list[str] | None) -> str:
        if advice is None:
            if self.initial is not None:
                return _fraction_strategy(self.initial)
            tenth = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big") % 11
            return _fraction_strategy(tenth / 10)
        found = [float(m.group(1)) / 100 for text in advice for m in [_PERCENT_STRATEGY.search(text)] if m]
        base = sum(found) / len(found) if found else 0.5
        return _fraction_strategy(round(min(1.0, max(0.0, base + self.step)), 4))


POLICIES: dict[str, type[Policy]] = {
    "constant": Constant,
    "defect": Defect,
    "reciprocate": Reciprocate,
    "punish": Punish,
    "imitate": Imitate,
}


def make_policy(name: str, options: dict[str, Any], where: str) -> Policy:
    if name not in POLICIES:
        raise UsageError(f"unknown donor-game policy {name!r} in {where}: use one of {', '.join(POLICIES)}")
    try:
        return POLICIES[name].model_validate({**options, "policy": name})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']} (got {e.get('input')!r})" for e in exc.errors()
        )
        raise UsageError(f"invalid options for donor-game/{name} in {where}: {problems}") from None


class DonorAgentModel(Model):
    """A population of scripted agents behind one model id."""

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        info = ModelInfo(id=f"{PREFIX}/{name}", provider=PREFIX, name=name, family="scripted", args=dict(options))
        super().__init__(info.id, info)
        rest = dict(options)
        overrides = rest.pop("agents", None) or {}
        if isinstance(overrides, str):
            try:
                overrides = json.loads(overrides)
            except json.JSONDecodeError as exc:
                raise UsageError(f"-M agents= must be a JSON object, got {overrides!r}: {exc}") from None
        if not isinstance(overrides, dict):
            raise UsageError(f"-M agents= must be a JSON object of name -> policy options, got {overrides!r}")
        self.default = make_policy(name, rest, "-M options")
        self.overrides: dict[str, Policy] = {}
        for agent, spec in overrides.items():
            if not isinstance(spec, dict) or "policy" not in spec:
                raise UsageError(f'-M agents: {agent!r} needs an object like {{"policy": "defect"}}, got {spec!r}')
            spec = dict(spec)
            self.overrides[agent] = make_policy(str(spec.pop("policy")), spec, f"-M agents[{agent!r}]")

    def policy_for(self, name: str) -> Policy:
        return self.overrides.get(name, self.default)

    async def generate(self, messages: list[Message], config: GenerateConfig) -> ModelOutput:
        prompt = next((m.content for m in reversed(messages) if m.role == "user"), "")
        try:
            if is_donation_prompt(prompt):
                req = read_donation_prompt(prompt)
                text = self.policy_for(req.name).reply(req)
            else:
                name, advice = read_strategy_prompt(prompt)
                text = f"I follow a fixed rule.\n{self.policy_for(name).strategy(name, advice)}"
        except PromptFormatError as exc:
            raise ModelError(
                f"{self.model_id} is a scripted Donor Game agent and only answers the donor-game task's prompts: {exc}"
            ) from None
        words_in = sum(len(m.content.split()) for m in messages)
        return ModelOutput(text=text, usage=Usage(input_tokens=words_in, output_tokens=len(text.split())))


def provider() -> ModelProvider:
    return ModelProvider(
        prefix=PREFIX,
        factory=DonorAgentModel,
        description="Scripted Donor Game agents (baselines and tests) that answer the real prompts",
        known=list(POLICIES),
        open_names=False,
        options_help={
            "fraction": "constant/punish: share of current resources to give",
            "initial": "reciprocate: share given with no donation on record; imitate: generation-1 share",
            "amount": "punish: units spent on each punishment",
            "rounds": "punish: JSON list of rounds to punish in (default all)",
            "threshold": "punish: only punish recipients whose last donation was below this percent",
            "step": "imitate: added to the survivors' mean share when writing a new strategy",
            "agents": 'JSON object: agent name -> {"policy": ..., options}',
        },
    )
