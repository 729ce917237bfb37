"""The ``llamacpp/<name>`` model: chat completions from a GGUF file loaded in this process."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from emergebench import (
    GenerateConfig,
    Message,
    Model,
    ModelError,
    ModelInfo,
    ModelOutput,
    TransientModelError,
    UsageError,
)
from emergebench.chat_format import chat_request, parse_chat_response
from emergebench.records import content_hash
from emergebench.runner import validate_args

from .engine import Engine, EngineKey, get_engine
from .files import bundled_smollm2, check_gguf, download_from_hub, file_sha256
from .naming import describe_file
from .options import LlamaCppOptions

DEFAULT_NAME = "smollm2-135m"
# Facts about the bundled file (SmolLM2 model card: 135M parameters; file name: Q4_1).
BUNDLED_INFO = {"family": "smollm2", "parameters": 135_000_000, "quantization": "Q4_1"}


def resolve_file(name: str, options: LlamaCppOptions) -> tuple[Path, dict[str, Any]]:
    """The GGUF file for ``llamacpp/<name>`` and the facts about where it came from."""
    if options.path:
        return check_gguf(Path(options.path), f"-M path={options.path}"), {}
    if options.repo:
        downloaded = download_from_hub(options.repo, options.file, options.revision)
        source = {"repo": options.repo, "file": options.file, "revision": options.revision}
        return check_gguf(downloaded, f"-M repo={options.repo}"), {k: v for k, v in source.items() if v}
    if options.file:
        raise UsageError(f"-M file={options.file} only makes sense with -M repo=ORG/NAME")
    if name == DEFAULT_NAME:
        return bundled_smollm2(), dict(BUNDLED_INFO)
    if name.lower().endswith(".gguf"):
        return check_gguf(Path(name), f"model id llamacpp/{name}"), {}
    raise UsageError(
        f"unknown llamacpp model {name!r}: use llamacpp/{DEFAULT_NAME} (bundled), a GGUF path "
        "(llamacpp/path/to/file.gguf, or -M path=FILE.gguf), or -M repo=ORG/NAME -M file=FILE.gguf"
    )


def build_request(messages: list[Message], config: GenerateConfig, default_max_tokens: int) -> dict[str, Any]:
    """An OpenAI-style request for llama.cpp's chat handler, capped at ``default_max_tokens``."""
    return chat_request(messages, config, max_tokens=default_max_tokens)


def parse_response(response: dict[str, Any], path: str) -> ModelOutput:
    error = response.get("error")
    if error is not None:
        raise _error(error, path)
    try:
        return parse_chat_response(response)
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ModelError(
            f"llama.cpp returned an unexpected response for {path!r} ({exc}): {str(response)[:300]}"
        ) from exc


def _error(error: Any, path: str) -> ModelError:
    if not isinstance(error, dict):
        return ModelError(f"llama.cpp error for {path!r}: {error}")
    code, kind, message = error.get("code"), error.get("type", ""), error.get("message", "")
    if kind == "exceed_context_size_error":
        return ModelError(f"{message} (raise -M n_ctx=, now {error.get('n_ctx')} tokens per slot)")
    if code in (429, 503) or kind == "unavailable_error":
        return TransientModelError(f"llama.cpp busy for {path!r}: {message}", status=code)
    return ModelError(f"llama.cpp rejected the request for {path!r} ({code} {kind}): {message}")


class LlamaCppModel(Model):
    """A GGUF model run in-process; every instance with the same file and settings shares one engine."""

    supports_logprobs = True
    supports_json_schema = True

    def __init__(self, name: str, options: LlamaCppOptions) -> None:
        path, facts = resolve_file(name, options)
        self.path = path
        self.options = options
        self.sha256 = file_sha256(path)
        guessed_family, guessed_params, quant = describe_file(path.name)
        family = options.family or facts.get("family") or guessed_family
        parameters = options.parameters or facts.get("parameters") or guessed_params
        args: dict[str, Any] = {
            "path": str(path),
            "sha256": self.sha256,
            "n_ctx": options.n_ctx,
            "max_tokens": options.max_tokens,
            **{k: v for k, v in facts.items() if k in ("repo", "file", "revision")},
        }
        info = ModelInfo(
            id=f"llamacpp/{name}",
            provider="llamacpp",
            name=name,
            family=family,
            parameters=int(parameters) if parameters else None,
            quantization=facts.get("quantization") or quant,
            args=args,
        )
        super().__init__(info.id, info)
        self.engine_key = EngineKey(
            path=str(path),
            n_ctx=options.n_ctx,
            n_parallel=options.n_parallel,
            n_threads=options.n_threads,
            verbose=options.verbose,
        )

    def identity(self) -> str:
        # The file's bytes and what changes outputs (context size, default token cap); not the
        # path, thread count or slot count, so a moved or re-tuned model still hits the cache.
        return content_hash(
            {
                "provider": "llamacpp",
                "sha256": self.sha256,
                "n_ctx": self.options.n_ctx,
                "max_tokens": self.options.max_tokens,
            }
        )

    async def engine(self) -> Engine:
        return await asyncio.to_thread(get_engine, self.engine_key)

    async def generate(self, messages: list[Message], config: GenerateConfig) -> ModelOutput:
        engine = await self.engine()
        request = build_request(messages, config, self.options.max_tokens)
        loop = asyncio.get_running_loop()
        response = await loop.run_in_executor(engine.executor, engine.chat, request)
        return parse_response(response, str(self.path))


def make_llamacpp_model(name: str, options: dict[str, Any]) -> LlamaCppModel:
    parsed = validate_args(LlamaCppOptions, options, f"-M options for model 'llamacpp/{name}'")
    return LlamaCppModel(name, parsed)  # type: ignore[arg-type]
