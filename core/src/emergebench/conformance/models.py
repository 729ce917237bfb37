"""Model-provider conformance: the provider's declaration, and models named in ``check_models`` built
twice with the same identity, answering a prompt, and run through the real runner."""

from __future__ import annotations

import asyncio
from typing import Any

from ..context import SolveContext
from ..hookspecs import hookimpl
from ..model import ModelProvider
from ..records import GenerateConfig, Message, ModelOutput, Sample, SampleScore
from ..runner import resolve_model
from ..task import NoArgs, Task
from .runs import Check, check_result, run_task
from .specs import ModelSpec


class ProbeTask(Task[NoArgs]):
    """Exercises a model plugin's models through the real runner (two short prompts)."""

    name = "emergebench-conformance/probe"
    version = "1"
    description = "conformance probe for model providers"

    def dataset(self, seed: int) -> list[Sample]:
        return [
            Sample(id="word", input="Reply with the single word: yes"),
            Sample(id="sum", input="What is 2 + 3? Answer with a number."),
        ]

    async def solve(self, sample: Sample, ctx: SolveContext) -> SampleScore:
        out = await ctx.model.generate(str(sample.input), GenerateConfig(max_tokens=16, temperature=0.0, seed=0))
        return SampleScore(scores={"answered": float(bool(out.text.strip()))}, answer=out.text)


class _ProbePlugin:
    @staticmethod
    @hookimpl
    def register_tasks(register: Any) -> None:
        register(ProbeTask)


def check_provider(check: Check, prefix: str, provider: ModelProvider) -> None:
    report = check.report
    where = f"model provider {prefix}"
    if prefix != report.plugin and not prefix.startswith(report.plugin):
        report.warn(where, f"prefix differs from the plugin name {report.plugin!r}")
    if not all(isinstance(k, str) and k for k in provider.known):
        report.error(where, f"known must be a list of non-empty model names, got {provider.known!r}")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in provider.options_help.items()):
        report.error(where, "options_help must map option names to help strings")
    if not provider.description.strip():
        report.warn(where, "has no description (shown by `emergebench models`)")
    if not callable(provider.factory):
        report.error(where, "factory is not callable")


def check_model(check: Check, spec: ModelSpec) -> None:
    report, manager = check.report, check.plugins
    where = f"model {spec.id}"
    if ProbeTask.name not in manager.catalog.tasks:
        manager.register_module(_ProbePlugin, name="emergebench-conformance")
    prefix = spec.id.partition("/")[0]
    owner = manager.catalog.models.get(prefix)
    if owner is None or owner.plugin != report.plugin:
        report.error(where, f"check_models names {spec.id!r}, which is not served by this plugin")
        return
    try:
        model = resolve_model(manager, spec.id, dict(spec.options))
        again = resolve_model(manager, spec.id, dict(spec.options))
    except Exception as exc:
        report.error(where, f"cannot be constructed: {type(exc).__name__}: {exc}")
        return
    if model.info.id != spec.id:
        report.error(where, f"info.id is {model.info.id!r}; it must be the id it was asked for")
    if not isinstance(model.identity(), str) or model.identity() != again.identity():
        report.error(where, "identity() must be a string that is the same for the same id and options")
    asyncio.run(_close(again))
    try:
        output = asyncio.run(_generate_and_close(model))
    except Exception as exc:
        report.error(where, f"generate() failed: {type(exc).__name__}: {exc}")
        return
    if not isinstance(output, ModelOutput):
        report.error(where, f"generate() must return ModelOutput, got {type(output).__name__}")
    elif output.usage.input_tokens < 0 or output.usage.output_tokens < 0:
        report.error(where, f"generate() reported negative usage {output.usage}")
    first = run_task(check, where, ProbeTask.name, {}, spec, None, cache="probe-0")
    second = run_task(check, where, ProbeTask.name, {}, spec, None, cache="probe-1")
    if first is not None and second is not None:
        check_result(check, where, ProbeTask, *first)
        if [s.answer for s in first[1]] != [s.answer for s in second[1]]:
            report.warn(where, "answers differ between two runs at temperature 0 with a fixed seed")


async def _close(model: Any) -> None:
    await model.aclose()


async def _generate_and_close(model: Any) -> Any:
    try:
        return await model.generate(
            [Message(role="user", content="Reply with the single word: yes")],
            GenerateConfig(max_tokens=8, temperature=0.0, seed=0),
        )
    finally:
        await model.aclose()
