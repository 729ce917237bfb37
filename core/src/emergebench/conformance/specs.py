"""The scripted models and inputs the checks use by default, and how callers name a model."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ModelSpec:
    """A model id plus its ``-M`` options, as the conformance runs and fixtures pass them around."""

    id: str
    options: dict[str, Any] = field(default_factory=dict)

    def __hash__(self) -> int:
        return hash((self.id, repr(sorted(self.options.items()))))


ModelLike = str | ModelSpec | tuple[str, Mapping[str, Any]]

# Replies a task must survive without crashing: echoes of its own prompt, nothing at all, and
# short answers that are sometimes right and often malformed.
DEFAULT_SUBJECTS: tuple[ModelSpec, ...] = (
    ModelSpec("scripted/echo"),
    ModelSpec("scripted/constant", {"reply": ""}),
    ModelSpec(
        "scripted/random",
        {"choices": ["A", "B", "yes", "no", "0", "42", '{"answer": 1}', "I don't know.", "```\n}{\n```"]},
    ),
)
# A judge that sometimes follows the usual verdict formats and sometimes answers nonsense.
DEFAULT_JUDGE = ModelSpec(
    "scripted/random",
    {"choices": ["GRADE: C", "GRADE: I", "Score: 7/10", '{"score": 1}', "I cannot grade this.", ""]},
)
MALFORMED_ANSWERS: tuple[str, ...] = (
    "",
    "   \n\t ",
    "null",
    '{"answer": [1, 2',
    "GRADE: C GRADE: I ANSWER: (Z)",
    "\u00ff\u0000\ufffd \U0001f600 \u202e",
    "A" * 20_000,
    "-1e309 NaN inf",
)
DEFAULT_GRADER_TARGETS: tuple[Any, ...] = ("A", "42")


def as_model_spec(value: ModelLike) -> ModelSpec:
    """Accept ``"scripted/echo"``, ``("scripted/constant", {"reply": "B"})`` or a ModelSpec."""
    if isinstance(value, ModelSpec):
        return value
    if isinstance(value, str):
        return ModelSpec(value)
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        return ModelSpec(value[0], dict(value[1]))
    raise TypeError(f"expected a model id, (id, options) or ModelSpec, got {value!r}")


def short(value: Any) -> str:
    """A value's repr cut to a line, for messages."""
    text = repr(value)
    return text if len(text) <= 160 else text[:150] + "...'"
