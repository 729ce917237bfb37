"""The Model base class that provider plugins implement, and provider registration records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .records import GenerateConfig, Message, ModelInfo, ModelOutput, content_hash


class ModelError(Exception):
    """A model call failed for good (bad request, refused content): not retried."""


class TransientModelError(ModelError):
    """A call that may succeed if tried again (rate limit, 5xx, timeout, dropped connection)."""

    def __init__(self, message: str, *, retry_after: float | None = None, status: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


class Model:
    """A chat model. Providers subclass this and implement ``generate``.

    ``identity`` decides cache hits: two objects with the same identity must answer the same
    request the same way (for a deterministic config), so it includes every option that changes
    outputs, e.g. the GGUF file's hash, and none that do not, e.g. API keys or timeouts.
    """

    supports_logprobs: bool = False
    supports_json_schema: bool = False

    def __init__(self, model_id: str, info: ModelInfo) -> None:
        self.model_id = model_id
        self.info = info

    def identity(self) -> str:
        return content_hash({"id": self.model_id, "args": self.info.args})

    async def generate(self, messages: list[Message], config: GenerateConfig) -> ModelOutput:
        raise NotImplementedError

    async def aclose(self) -> None:
        """Release connections or memory; called once when the run ends."""


ModelFactory = Callable[[str, dict[str, Any]], Model]


@dataclass
class ModelProvider:
    """What ``register_models`` registers: a prefix and a factory for ids under it.

    ``factory(name, options)`` builds the model for id ``<prefix>/<name>``; ``known`` lists names
    worth showing in ``emergebench models``; ``open_names`` says any other name is accepted too
    (an API serves models the plugin cannot list offline). ``secret_options`` name ``-M`` options
    that are passed to the factory but never written to a spec, a journal or a hash.
    """

    prefix: str
    factory: ModelFactory
    description: str = ""
    known: list[str] = field(default_factory=list)
    open_names: bool = True
    options_help: dict[str, str] = field(default_factory=dict)
    secret_options: tuple[str, ...] = ("api_key", "token", "password")
    plugin: str | None = None
    # The recordable form of the -M options (e.g. a base_url without user:password or ?api-key=); an
    # option it changes reaches the factory unchanged but is recorded, hashed and shown in this form only.
    public_options: Callable[[dict[str, Any]], dict[str, Any]] | None = None
