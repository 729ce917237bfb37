"""The embedded model end to end (slow: loads SmolLM2-135M once, ~0.5 s, then a few short decodes)."""

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from emergebench import (
    GenerateConfig,
    Message,
    ModelError,
    Sample,
    SampleScore,
    SolveContext,
    Task,
    UsageError,
    hookimpl,
)
from emergebench.plugins import get_manager
from emergebench.runner import RunOptions, build_spec, run_sync
from emergebench_llamacpp import engine, make_llamacpp_model

pytestmark = pytest.mark.slow

ASK = [Message(role="user", content="What is 2 + 3?")]


def test_info_identity_and_option_errors(emergebench_home: Path) -> None:
    model = make_llamacpp_model("smollm2-135m", {})
    assert (model.info.family, model.info.parameters, model.info.quantization) == ("smollm2", 135_000_000, "Q4_1")
    assert model.supports_logprobs and model.supports_json_schema
    same = make_llamacpp_model("whatever", {"path": str(model.path), "n_threads": 1, "n_parallel": 1})
    assert same.identity() == model.identity()
    assert make_llamacpp_model("smollm2-135m", {"n_ctx": 1024}).identity() != model.identity()
    assert model.info.args["sha256"] == model.sha256 and len(model.sha256) == 64
    with pytest.raises(UsageError, match="n_ctxx"):
        make_llamacpp_model("smollm2-135m", {"n_ctxx": 10})


async def test_generate_logprobs_json_and_stop(emergebench_home: Path) -> None:
    model = make_llamacpp_model("smollm2-135m", {"n_ctx": 1024})
    greedy = GenerateConfig(temperature=0, max_tokens=10, seed=3)
    first, second = await asyncio.gather(model.generate(ASK, greedy), model.generate(ASK, greedy))
    assert first.text and first.text == second.text and 0 < first.usage.output_tokens <= 10

    scored = await model.generate(ASK, GenerateConfig(temperature=0, max_tokens=4, logprobs=True, top_logprobs=2))
    assert scored.logprobs and all(t.logprob <= 0 and t.top and len(t.top) == 2 for t in scored.logprobs)

    schema = {"type": "object", "properties": {"answer": {"type": "integer"}}, "required": ["answer"]}
    structured = await model.generate(
        ASK,
        GenerateConfig(
            temperature=0, max_tokens=30, response_format={"type": "json_schema", "json_schema": {"schema": schema}}
        ),
    )
    assert isinstance(json.loads(structured.text)["answer"], int)

    counted = await model.generate(
        [Message(role="user", content="Count from 1 to 10 separated by commas.")],
        GenerateConfig(temperature=0, max_tokens=40, stop=["5"]),
    )
    assert "5" not in counted.text and "4" in counted.text

    with pytest.raises(ModelError, match="raise -M n_ctx="):
        await model.generate([Message(role="user", content="word " * 2000)], GenerateConfig(max_tokens=2))
    assert sum(1 for key in engine.loaded_engines() if key.path == str(model.path) and key.n_ctx == 1024) == 1


class _Echo(Task):
    """A two-sample task registered in-process, so this plugin's tests need no other plugin."""

    name = "llamacpp-test/echo"
    version = "1"

    def dataset(self, seed: int) -> list[Sample]:
        return [Sample(id=f"s{i}", input=f"Say the word {w}.") for i, w in enumerate(("red", "blue"))]

    async def solve(self, sample: Sample, ctx: SolveContext) -> SampleScore:
        output = await ctx.model.generate(sample.input, GenerateConfig(temperature=0, max_tokens=6))
        return SampleScore(scores={"nonempty": float(bool(output.text.strip()))}, answer=output.text)


class _EchoPlugin:
    @hookimpl
    def register_tasks(self, register: Any) -> None:
        register(_Echo)


def test_runner_reuses_one_engine_and_caches(emergebench_home: Path, tmp_path: Path) -> None:
    get_manager().register_module(_EchoPlugin(), "llamacpp-test")  # the namespace rule: its own prefix
    spec = build_spec("llamacpp-test/echo", "llamacpp/smollm2-135m", model_args={"n_ctx": 1024})
    options = RunOptions(runs_dir=tmp_path / "runs", cache_path=tmp_path / "cache.sqlite", max_concurrency=2)
    first = run_sync(spec, options)
    loaded = engine.loaded_engines()
    again = run_sync(spec, RunOptions(**{**options.__dict__, "fresh": True}))
    assert first.status == "complete" and first.n_samples == 2 and first.model_calls == 2, first.errors
    assert again.cached_calls == 2 and again.model_calls == 0
    assert engine.loaded_engines() == loaded
    assert first.model.args["sha256"] == make_llamacpp_model("smollm2-135m", {}).sha256
