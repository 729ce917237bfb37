"""Chat-completions JSON in and out: request bodies from emergebench records, and responses
straight into ModelOutput / Usage / TokenLogprob without intermediate response models."""

from __future__ import annotations

import json
from typing import Any

from emergebench import GenerateConfig, Message, ModelError, ModelOutput
from emergebench.chat_format import chat_request, parse_chat_response

try:  # optional: a faster parser and serialiser when installed; plain json otherwise
    import orjson  # type: ignore[import-not-found, unused-ignore]

    def dumps(value: Any) -> bytes:
        return orjson.dumps(value)

    loads = orjson.loads
    JSONDecodeError: type[ValueError] = orjson.JSONDecodeError
except ImportError:  # pragma: no cover - depends on the environment
    _encoder = json.JSONEncoder(separators=(",", ":"))

    def dumps(value: Any) -> bytes:
        return _encoder.encode(value).encode()

    loads = json.loads
    JSONDecodeError = json.JSONDecodeError


def build_request(name: str, messages: list[Message], config: GenerateConfig) -> dict[str, Any]:
    """The chat-completions body for one call (the shared OpenAI format, with the model name)."""
    return chat_request(messages, config, model=name)


def parse_completion(body: bytes, endpoint: str) -> ModelOutput:
    """A 2xx chat-completions body as a ModelOutput; a body of another shape is a ModelError that
    quotes its start, since retrying will not change what the server speaks."""
    try:
        response = loads(body)
    except (JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{endpoint} answered with non-JSON ({exc}): {_excerpt(body)}") from exc
    choices = response.get("choices") if isinstance(response, dict) else None
    if not choices:
        raise ModelError(f"{endpoint} answered without any choices: {_excerpt(body)}")
    try:
        return parse_chat_response(response)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        raise ModelError(f"{endpoint} answered with an unexpected completion ({exc}): {_excerpt(body)}") from exc


def _excerpt(body: bytes, limit: int = 300) -> str:
    return body[:limit].decode("utf-8", "replace")
