"""Constrained answers for BoxingGym predictions: a JSON schema per goal, and the answer it yields.

With ``-T constrained=on`` (or ``auto`` in fixed mode where the provider supports JSON schemas) each
prediction call asks for ``{"answer": VALUE}``, VALUE typed as the goal expects: a 0/1 label, 1 or 2,
a count, a number, ``[prey, predator]``, three ``[x, y]`` sources, or the eight emotion ratings. The
value is turned back into the text the goal's own parser reads, so scoring is unchanged. Designs
(``<observe>``) are not constrained. Off in paper mode and by default: the reference asked for
``<answer>`` tags in free text.
"""

from __future__ import annotations

import json
from typing import Any

from emergebench.structured import json_object, json_schema_format

from .envs.base import BinaryGoal, Goal
from .envs.death_process import InfectedGoal
from .envs.emotion import EMOTIONS, FeelingsGoal
from .envs.location_finding import DIM, N_SOURCES, SourceGoal
from .envs.lotka_volterra import PopulationsGoal
from .envs.moral_machines import JudgementGoal
from .envs.peregrines import PopulationGoal

NUMBER: dict[str, Any] = {"type": "number"}


def _pair(n: int) -> dict[str, Any]:
    return {"type": "array", "items": NUMBER, "minItems": n, "maxItems": n}


def answer_value_schema(goal: Goal) -> dict[str, Any]:
    """The JSON schema of one prediction of ``goal``."""
    if isinstance(goal, BinaryGoal):
        return {"enum": [0, 1]}
    if isinstance(goal, JudgementGoal):
        return {"enum": [1, 2]}
    if isinstance(goal, PopulationGoal | InfectedGoal):
        return {"type": "integer", "minimum": 0}
    if isinstance(goal, PopulationsGoal):
        return _pair(2)
    if isinstance(goal, SourceGoal):
        return {"type": "array", "items": _pair(DIM), "minItems": N_SOURCES, "maxItems": N_SOURCES}
    if isinstance(goal, FeelingsGoal):
        rating = {"type": "integer", "minimum": 1, "maximum": 9}
        properties = dict.fromkeys(EMOTIONS, rating)
        return {"type": "object", "properties": properties, "required": list(EMOTIONS), "additionalProperties": False}
    return NUMBER  # every other goal asks for one number


def answer_format(goal: Goal) -> dict[str, Any]:
    """The ``response_format`` of a prediction call."""
    return json_schema_format(f"boxinggym_{goal.env.key}_{goal.name}", {"answer": answer_value_schema(goal)})


def answer_content(goal: Goal, reply: str) -> str | None:
    """What a constrained reply answers, as the text ``goal.parse`` reads; None when it is not that JSON."""
    data = json_object(reply)
    if data is None or "answer" not in data:
        return None
    value = data["answer"]
    if isinstance(goal, FeelingsGoal):
        if not isinstance(value, dict):
            return None
        return "\n".join(f"{name}: {value[name]}" for name in EMOTIONS if name in value)
    if isinstance(value, bool) or value is None or isinstance(value, dict | str):
        return None
    return json.dumps(value)
