"""The task's ``-T`` options and the frozen game rules derived from them.

Defaults follow the paper (Vallinder and Hughes 2024) where it and the reference code disagree; the
``selection`` and ``schedule`` options reproduce the reference code (see README).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Number = int | float


class DonorGameArgs(BaseModel):
    """``-T key=value`` options of the ``donor-game`` task."""

    model_config = ConfigDict(extra="forbid")

    population: int = Field(12, ge=2, le=200, description="agents per generation (even: two groups of half)")
    generations: int = Field(10, ge=1, le=100, description="generations of cultural evolution")
    runs: int = Field(1, ge=1, le=1000, description="independent seeded simulations (samples)")
    endowment: Number = Field(10, gt=0, description="units every agent holds at the start of each game")
    multiplier: Number = Field(2, gt=0, description="the recipient receives multiplier x the donated units")
    punishment: Literal["none", "costly"] = Field("none", description="costly: donors may also punish")
    punishment_loss: Number = Field(2, gt=0, description="a punishment spending x removes punishment_loss*x")
    trace_depth: int = Field(3, ge=1, le=20, description="trace entries a donor sees about its recipient")
    selection: Literal["paper", "reference"] = Field(
        "paper", description="paper: mean final resources of both games; reference: game 2 only (the code)"
    )
    schedule: Literal["reference", "alternating"] = Field(
        "reference", description="reference: the code's pairing; alternating: roles strictly alternate"
    )
    show_scores: bool = Field(False, description="list the survivors' scores next to their strategies")
    shuffle: bool = Field(True, description="shuffle the agent list (seeded) before each generation")
    max_attempts: int = Field(10, ge=1, le=50, description="donation replies tried before the action is 0")
    temperature: float = Field(0.8, ge=0, le=2, description="sampling temperature of every call (-G wins)")
    max_tokens: int = Field(1000, ge=1, le=32768, description="token limit of every call (-G wins)")
    system_prompt: Literal["send", "omit"] = Field(
        "send", description="omit: send each prompt alone, as the reference does for Gemini (no rules shown)"
    )
    reference_repo: str | None = Field(
        None, description="a local clone of aronvallinder/llm-donor-game: use its prompt wording, read at run time"
    )
    constrained: Literal["auto", "on", "off"] = Field(
        "off", description="JSON-schema replies (auto: when the provider supports them); off reproduces the paper"
    )

    @field_validator("population")
    @classmethod
    def _even(cls, value: int) -> int:
        if value % 2:
            raise ValueError(f"population must be even (two groups of equal size), got {value}; try {value + 1}")
        return value


@dataclass(frozen=True)
class GameRules:
    """What one game needs to know; the engine and prompts read only this."""

    population: int = 12
    endowment: Number = 10
    multiplier: Number = 2
    punishment: bool = False
    punishment_loss: Number = 2
    trace_depth: int = 3
    schedule: str = "reference"

    @classmethod
    def from_args(cls, args: DonorGameArgs) -> GameRules:
        return cls(
            population=args.population,
            endowment=args.endowment,
            multiplier=args.multiplier,
            punishment=args.punishment == "costly",
            punishment_loss=args.punishment_loss,
            trace_depth=args.trace_depth,
            schedule=args.schedule,
        )

    @property
    def rounds(self) -> int:
        """Rounds per game: every agent meets each member of the other group twice (as in the code)."""
        return self.population
