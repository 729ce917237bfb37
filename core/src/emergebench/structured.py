"""Helpers for constrained output: an OpenAI-style JSON-schema ``response_format`` and reading the reply.

Tasks use them to offer constrained answers (``-T constrained=on|auto``): providers that support JSON
schemas (``Model.supports_json_schema``; llama.cpp turns the schema into a grammar) then return JSON
that matches the answer format, which small models otherwise often ignore.
"""

from __future__ import annotations

import json
from typing import Any


def json_schema_format(name: str, properties: dict[str, Any]) -> dict[str, Any]:
    """A strict ``response_format`` for an object with exactly these properties, all required, in order."""
    return {
        "type": "json_schema",
        "json_schema": {
            "name": name,
            "strict": True,
            "schema": {
                "type": "object",
                "properties": properties,
                "required": list(properties),
                "additionalProperties": False,
            },
        },
    }


def json_object(reply: str) -> dict[str, Any] | None:
    """The JSON object from the first ``{`` to the last ``}`` of a reply, or None when there is none."""
    start, end = reply.find("{"), reply.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        value = json.loads(reply[start : end + 1])
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None
