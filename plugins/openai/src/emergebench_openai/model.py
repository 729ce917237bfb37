"""The ``openai/<name>`` model: one chat-completions call per ``generate``, through the official
client with its own retries off (the core retries, honouring Retry-After)."""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
from typing import Any

import openai
from emergebench import (
    GenerateConfig,
    Message,
    Model,
    ModelError,
    ModelInfo,
    ModelOutput,
    TokenLogprob,
    Usage,
    UsageError,
)
from emergebench.records import content_hash
from emergebench.runner import validate_args
from openai.types.chat import ChatCompletion

from .errors import map_error
from .naming import guess_family, guess_parameters
from .options import OpenAIOptions, public_endpoint, resolve_api_key, resolve_base_url


def build_request(name: str, messages: list[Message], config: GenerateConfig) -> dict[str, Any]:
    """Chat-completions keyword arguments for one call; unset config fields are left out so the
    server's defaults apply."""
    request: dict[str, Any] = {"model": name, "messages": [m.model_dump() for m in messages]}
    for field in ("temperature", "top_p", "max_tokens", "stop", "seed"):
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


def parse_logprobs(choice: Any) -> list[TokenLogprob] | None:
    content = getattr(getattr(choice, "logprobs", None), "content", None)
    if not content:
        return None
    return [
        TokenLogprob(
            token=item.token,
            logprob=item.logprob,
            top={t.token: t.logprob for t in item.top_logprobs} if item.top_logprobs else None,
        )
        for item in content
    ]


def parse_response(response: Any, endpoint: str) -> ModelOutput:
    if not getattr(response, "choices", None):
        raise ModelError(f"{endpoint} answered without any choices: {str(response)[:300]}")
    choice = response.choices[0]
    usage = getattr(response, "usage", None)
    return ModelOutput(
        text=choice.message.content or "",
        usage=Usage(
            input_tokens=getattr(usage, "prompt_tokens", 0) or 0,
            output_tokens=getattr(usage, "completion_tokens", 0) or 0,
        ),
        finish_reason=choice.finish_reason,
        logprobs=parse_logprobs(choice),
    )


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
        self._client: openai.AsyncOpenAI | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    def identity(self) -> str:
        # Endpoint (scheme, host, port, path) and model name decide the answers; the key never does.
        return content_hash({"provider": "openai", "endpoint": self.endpoint, "model": self.name})

    def client(self) -> openai.AsyncOpenAI:
        """One client per event loop: an httpx pool belongs to the loop that opened it."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            http_client = _http_client_class()(
                limits=_limits(self.options.max_connections), timeout=self.options.timeout
            )
            self._client = openai.AsyncOpenAI(
                api_key=self._api_key,
                base_url=self.base_url,
                max_retries=0,
                timeout=self.options.timeout,
                http_client=http_client,
            )
            self._client_loop = loop
        return self._client

    async def generate(self, messages: list[Message], config: GenerateConfig) -> ModelOutput:
        request = build_request(self.name, messages, config)
        try:
            # ``post`` with the typed result skips the client's per-call walk over the request's
            # TypedDict annotations, which cost ~2 ms a call (docs/benchmarks-providers.md).
            response = await self.client().post("/chat/completions", body=request, cast_to=ChatCompletion)
        except openai.OpenAIError as exc:
            raise map_error(exc, self.endpoint, self.name) from exc
        return parse_response(response, self.endpoint)

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()


def _http_client_class() -> Any:
    """aiohttp's transport when aiohttp is installed (openai's own adapter), else httpx's: the
    httpx connection pool probes every idle connection on each request, which at 64+ connections
    costs more CPU than the rest of a call."""
    if importlib.util.find_spec("aiohttp") is not None:
        try:
            return openai.DefaultAioHttpClient
        except AttributeError:  # an openai client too old to ship the adapter
            pass
    return openai.DefaultAsyncHttpxClient


def _limits(max_connections: int) -> Any:
    """Pool limits for the client's own httpx flavour (httpx in openai 1.x, httpx2 later): the
    pool must hold at least --max-concurrency connections or calls queue for a free one."""
    base = next(c for c in openai.DefaultAsyncHttpxClient.__mro__ if c.__name__ == "AsyncClient")
    httpx_module = importlib.import_module(base.__module__.split(".")[0])
    return httpx_module.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)


def make_openai_model(name: str, options: dict[str, Any]) -> OpenAIModel:
    if not name.strip():
        raise UsageError("openai/ needs a model name, e.g. openai/gpt-4o-mini or openai/local")
    parsed = validate_args(OpenAIOptions, options, f"-M options for model 'openai/{name}'")
    return OpenAIModel(name, parsed)  # type: ignore[arg-type]
