"""The ``openai/<name>`` model: one chat-completions POST per ``generate`` over a pooled aiohttp
session, with no retries of its own (the core retries, honouring Retry-After)."""

from __future__ import annotations

from typing import Any

from emergebench import GenerateConfig, Message, Model, ModelInfo, ModelOutput, UsageError
from emergebench.records import content_hash
from emergebench.runner import validate_args

from .batch import BatchClient, BatchSettings
from .errors import map_exception, map_status
from .naming import guess_family, guess_parameters
from .options import OpenAIOptions, public_endpoint, resolve_api_key, resolve_base_url
from .transport import ChatTransport
from .wire import build_request, dumps, parse_completion

__all__ = ["OpenAIModel", "build_request", "make_openai_model"]


class OpenAIModel(Model):
    """Any OpenAI-compatible ``/chat/completions`` endpoint."""

    supports_logprobs = True
    supports_json_schema = True

    def __init__(self, name: str, options: OpenAIOptions) -> None:
        self.name = name
        self.options = options
        self.base_url = resolve_base_url(options)
        self.endpoint = public_endpoint(self.base_url)
        self._api_key = resolve_api_key(options, self.base_url)
        parameters = options.parameters if options.parameters is not None else guess_parameters(name)
        args: dict[str, Any] = {"base_url": self.endpoint}
        for key in ("family", "parameters"):
            if getattr(options, key) is not None:
                args[key] = getattr(options, key)
        info = ModelInfo(
            id=f"openai/{name}",
            provider="openai",
            name=name,
            family=options.family or guess_family(name),
            parameters=int(parameters) if parameters is not None else None,
            args=args,
        )
        super().__init__(info.id, info)
        self._identity = content_hash({"provider": "openai", "endpoint": self.endpoint, "model": self.name})
        self._transport = ChatTransport(
            self.base_url, self._api_key, timeout=options.timeout, max_connections=options.max_connections
        )
        self._batch = (
            BatchClient(
                self._transport,
                self.endpoint,
                name,
                BatchSettings(size=options.batch_size, window_s=options.batch_window, poll_s=options.batch_poll),
            )
            if options.batch
            else None
        )

    def identity(self) -> str:
        # Endpoint (scheme, host, port, path) and model name decide the answers; the key never does.
        # Part of every call's cache key: hashed once, not per call.
        return self._identity

    async def generate(self, messages: list[Message], config: GenerateConfig) -> ModelOutput:
        if self._batch is not None:
            return await self._batch.generate(build_request(self.name, messages, config))
        body = dumps(build_request(self.name, messages, config))
        try:
            reply = await self._transport.post("/chat/completions", body)
        except Exception as exc:  # network failures and timeouts; cancellation passes untouched
            error = map_exception(exc, self.endpoint)
            if error is None:
                raise
            raise error from exc
        if 200 <= reply.status < 300:
            return parse_completion(reply.body, self.endpoint)
        raise map_status(reply.status, reply.headers, reply.body, self.endpoint, self.name)

    async def aclose(self) -> None:
        await self._transport.aclose()


def make_openai_model(name: str, options: dict[str, Any]) -> OpenAIModel:
    if not name.strip():
        raise UsageError("openai/ needs a model name, e.g. openai/gpt-4o-mini or openai/local")
    parsed = validate_args(OpenAIOptions, options, f"-M options for model 'openai/{name}'")
    return OpenAIModel(name, parsed)  # type: ignore[arg-type]
