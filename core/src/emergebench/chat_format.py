"""The OpenAI chat-completions JSON shape, shared by every provider that speaks it (the HTTP
``openai`` plugin, llama.cpp's in-process handler, vLLM, Ollama...): request bodies from
emergebench records, and a response's first choice straight into ModelOutput."""

from __future__ import annotations

from typing import Any

from .model import ModelError
from .records import GenerateConfig, Message, ModelOutput, TokenLogprob, Usage

_PASSED_THROUGH = ("temperature", "top_p", "max_tokens", "stop", "seed")


def chat_request(messages: list[Message], config: GenerateConfig, **fixed: Any) -> dict[str, Any]:
    """The request body for one call. Unset config fields are left out so the server's defaults
    apply; ``fixed`` adds fields such as ``model`` or a default ``max_tokens``."""
    request: dict[str, Any] = {**fixed, "messages": [{"role": m.role, "content": m.content} for m in messages]}
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


def parse_chat_response(response: dict[str, Any]) -> ModelOutput:
    """The first choice of a parsed chat-completions response. Raises KeyError, TypeError or
    ValueError on a malformed one; callers turn that into a ModelError naming the server."""
    choices = response.get("choices")
    if not choices:
        raise ValueError("the response has no choices")
    choice = choices[0]
    usage = response.get("usage") or {}
    return ModelOutput(
        text=(choice.get("message") or {}).get("content") or "",
        usage=Usage(input_tokens=usage.get("prompt_tokens") or 0, output_tokens=usage.get("completion_tokens") or 0),
        finish_reason=choice.get("finish_reason"),
        logprobs=parse_logprobs(choice),
    )
