"""Scripted models for tests and baselines: fixed replies, replies from a function, random choice.

Ids: ``scripted/constant`` (-M reply=TEXT), ``scripted/cycle`` (-M replies='["a","b"]'),
``scripted/random`` (-M choices='["yes","no"]'), ``scripted/echo`` (repeats the last user message),
and ``scripted/function`` (-M function=module:callable, called with the messages).
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import itertools
import json
import random
from collections.abc import Callable
from typing import Any

from ..errors import UsageError
from ..hookspecs import hookimpl
from ..model import Model, ModelProvider
from ..records import GenerateConfig, Message, ModelInfo, ModelOutput, Usage, content_hash

Reply = Callable[[list[Message], GenerateConfig], str]


def _list_option(options: dict[str, Any], key: str, default: list[str] | None = None) -> list[str]:
    value = options.get(key, default)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            value = [part for part in value.split(",") if part]
    if not isinstance(value, list) or not value:
        raise UsageError(f"-M {key}= must be a non-empty JSON list or comma-separated values, got {value!r}")
    return [str(v) for v in value]


class ScriptedModel(Model):
    """Answers with a Python function of (messages, config); deterministic given its seed."""

    def __init__(self, name: str, reply: Reply, options: dict[str, Any], *, delay_s: float = 0.0) -> None:
        info = ModelInfo(id=f"scripted/{name}", provider="scripted", name=name, family="scripted", args=options)
        super().__init__(info.id, info)
        self.reply = reply
        self.delay_s = delay_s
        self.calls = 0

    async def generate(self, messages: list[Message], config: GenerateConfig) -> ModelOutput:
        self.calls += 1
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        text = self.reply(messages, config)
        if inspect.isawaitable(text):
            text = await text
        prompt_words = sum(len(m.content.split()) for m in messages)
        return ModelOutput(
            text=text, usage=Usage(input_tokens=prompt_words, output_tokens=len(text.split())), finish_reason="stop"
        )


def _seeded_rng(options: dict[str, Any], messages: list[Message], config: GenerateConfig) -> random.Random:
    seed = options.get("seed", config.seed or 0)
    return random.Random(content_hash([seed, [m.content for m in messages]]))


def make_scripted(name: str, options: dict[str, Any]) -> Model:
    delay = float(options.get("delay_s", 0.0))
    if name == "constant":
        text = str(options.get("reply", "OK"))
        return ScriptedModel(name, lambda m, c: text, options, delay_s=delay)
    if name == "cycle":
        replies = itertools.cycle(_list_option(options, "replies"))
        return ScriptedModel(name, lambda m, c: next(replies), options, delay_s=delay)
    if name == "random":
        choices = _list_option(options, "choices", ["yes", "no"])
        return ScriptedModel(name, lambda m, c: _seeded_rng(options, m, c).choice(choices), options, delay_s=delay)
    if name == "echo":
        return ScriptedModel(
            name, lambda m, c: next((x.content for x in reversed(m) if x.role == "user"), ""), options, delay_s=delay
        )
    if name == "function":
        target = options.get("function")
        if callable(target):
            func = target
            options = {**options, "function": f"{func.__module__}:{func.__qualname__}"}
        elif isinstance(target, str) and ":" in target:
            module, _, attr = target.partition(":")
            try:
                func = getattr(importlib.import_module(module), attr)
            except (ImportError, AttributeError) as exc:
                raise UsageError(f"-M function={target!r} cannot be imported: {exc}") from exc
        else:
            raise UsageError("scripted/function needs -M function=module:callable")
        return ScriptedModel(name, func, options, delay_s=delay)
    raise UsageError(f"unknown scripted model {name!r}: use constant, cycle, random, echo or function")


@hookimpl
def register_models(register: Any) -> None:
    register(
        ModelProvider(
            prefix="scripted",
            factory=make_scripted,
            description="Deterministic scripted replies for tests and baselines",
            known=["constant", "cycle", "random", "echo", "function"],
            open_names=False,
            options_help={
                "reply": "constant: the reply text",
                "replies": "cycle: JSON list of replies used in turn",
                "choices": "random: JSON list to choose from (seeded by the prompt)",
                "function": "function: module:callable taking (messages, config)",
                "delay_s": "seconds to wait before answering",
            },
        )
    )
