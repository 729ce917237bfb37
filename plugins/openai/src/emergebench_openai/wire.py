"""Chat-completions JSON in and out: request bodies from emergebench records, and responses
straight into ModelOutput / Usage / TokenLogprob without intermediate response models."""

from __future__ import annotations

import json
from typing import Any

from emergebench import GenerateConfig, Message, ModelError, ModelOutput, TokenLogprob, Usage

try:  # optional: a faster parser and serialiser when installed; plain json otherwise
    import orjson

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

_PASSED_THROUGH = ("temperature", "top_p", "max_tokens", "stop", "seed")


def build_request(name: str, messages: list[Message], config: GenerateConfig) -> dict[str, Any]:
    """The chat-completions body for one call; unset config fields are left out so the server's
    defaults apply."""
    request: dict[str, Any] = {"model": name, "messages": [{"role": m.role, "content": m.content} for m in messages]}
    for field in _PASSED_THROUGH:
        value = getattr(config, field)
        if value is not None:
            request[field] = value
    if config.logprobs or config.top_logprobs:
        request["logprobs"] = True
        if config.top_logprobs:
            request["top_logprobs"] = config.top_logprobs
    if config.response_format is not None:
        if "type" not in config.response_format:
            raise ModelError(
                f"response_format {config.response_format!r} has no 'type': use "
                '{"type": "json_schema", "json_schema": {"name": ..., "schema": {...}}} or {"type": "json_object"}'
            )
        request["response_format"] = config.response_format
    return request


def parse_logprobs(choice: dict[str, Any]) -> list[TokenLogprob] | None:
    """``choices[0].logprobs.content`` as TokenLogprob items; None when the server sent none."""
    content = (choice.get("logprobs") or {}).get("content")
    if not content:
        return None
    return [
        TokenLogprob(
            token=item["token"],
            logprob=item["logprob"],
            top={t["token"]: t["logprob"] for t in top} if (top := item.get("top_logprobs")) else None,
        )
        for item in content
    ]


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
        choice = choices[0]
        usage = response.get("usage") or {}
        return ModelOutput(
            text=(choice.get("message") or {}).get("content") or "",
            usage=Usage(
                input_tokens=usage.get("prompt_tokens") or 0,
                output_tokens=usage.get("completion_tokens") or 0,
            ),
            finish_reason=choice.get("finish_reason"),
            logprobs=parse_logprobs(choice),
        )
    except (AttributeError, KeyError, TypeError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        raise ModelError(f"{endpoint} answered with an unexpected completion ({exc}): {_excerpt(body)}") from exc


def _excerpt(body: bytes, limit: int = 300) -> str:
    return body[:limit].decode("utf-8", "replace")
