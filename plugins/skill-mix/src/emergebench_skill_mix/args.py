"""The ``-T key=value`` options of the skill-mix task, with the reference's defaults."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_K = 6


def _int_list(value: Any) -> Any:
    """Accept 3, "3", "2,3,4", "[2,3]" or [2, 3]."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                raise ValueError(f"k={value!r} is not a JSON list; write k=3 or k=2,3,4") from None
        else:
            parts = [p.strip() for p in text.split(",") if p.strip()]
            try:
                value = [int(p) for p in parts]
            except ValueError:
                raise ValueError(f"k={value!r} must be whole numbers, e.g. k=3 or k=2,3,4") from None
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    return value


def _str_list(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [p.strip() for p in text.split(",") if p.strip()]
    return value


class SkillMixArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    k: list[int] = Field(
        default_factory=lambda: [2, 3, 4],
        description="skills per text: one value or a list (1-6); each k is reported separately",
    )
    combinations: int = Field(
        default=100, description="combinations drawn per k (the paper's M; 100 for GPT-4 grading); -1 = all C(N,k)"
    )
    seed: int = Field(default=10, description="seed of the combination draw (10 reproduces the reference's tests)")
    presentation_seed: str = Field(
        default="test", description="seed of the skill order inside a combination (the reference's exp_path)"
    )
    skills_file: str | None = Field(default=None, description="CSV with skill,definition,example (private list)")
    topics_file: str | None = Field(default=None, description="text file with one topic per line (private list)")
    generation_rounds: int = Field(default=3, ge=1, le=20, description="independent student conversations")
    grading_rounds: int = Field(default=3, ge=1, le=20, description="judge samples per generated text")
    grader_prompt: Literal["gpt4-table", "llama2-points"] | None = Field(
        default=None, description="rubric style; default: that of the grader (--grader, else skill-mix/gpt4-table)"
    )
    generation_prompt: Literal["default", "llama_k_greater_2"] = Field(
        default="default", description="student prompt variant of the reference"
    )
    generation_prompt_file: str | None = Field(default=None, description="JSON list of 2 student turn templates")
    grading_prompt_file: str | None = Field(default=None, description="JSON list of 1 grader prompt template")
    system_prompt: str | None = Field(default=None, description="student system message (default: none)")
    temperature: float | None = Field(default=0.7, ge=0, description="student temperature; null = provider default")
    max_tokens: int = Field(default=512, ge=1, description="student max new tokens per turn")
    grader_temperature: float | None = Field(default=0.7, ge=0, description="judge temperature")
    grader_max_tokens: int = Field(default=512, ge=1, description="judge max new tokens")
    explicit_name_penalty: bool = Field(
        default=True, description="zero a skill's point when its name appears in the text (the leaderboard does)"
    )
    filter_skills: list[str] = Field(
        default_factory=list, description="leave combinations containing any of these skills out of the metrics"
    )
    constrained: Literal["auto", "on", "off"] = Field(
        default="off",
        description="JSON-schema replies for student and judge (auto: where supported); off reproduces the paper",
    )
    vote: Literal["majority", "average"] = Field(default="majority", description="per-item vote over grading rounds")
    across_generations: Literal["max", "mean"] = Field(
        default="max", description="best generation per combination (reference) or the mean"
    )

    @field_validator("k", mode="before")
    @classmethod
    def _parse_k(cls, value: Any) -> Any:
        return _int_list(value)

    @field_validator("filter_skills", mode="before")
    @classmethod
    def _parse_filter(cls, value: Any) -> Any:
        return _str_list(value)

    @field_validator("k")
    @classmethod
    def _check_k(cls, value: list[int]) -> list[int]:
        if not value:
            raise ValueError("k needs at least one value, e.g. k=3")
        bad = [v for v in value if not 1 <= v <= MAX_K]
        if bad:
            raise ValueError(f"k must be between 1 and {MAX_K}, got {bad}")
        return sorted(set(value))

    @field_validator("combinations")
    @classmethod
    def _check_combinations(cls, value: int) -> int:
        if value == 0 or value < -1:
            raise ValueError(f"combinations must be a positive number or -1 (all combinations), got {value}")
        return value
