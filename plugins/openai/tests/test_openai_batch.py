"""Batch mode against the fake server's /v1/files and /v1/batches: waves of concurrent calls, answers
journaled and cached like any call, a batch that expires part-way, lines that fail, a failed batch."""

from __future__ import annotations

import asyncio
import re

import pytest
from emergebench import GenerateConfig, Message, ModelError
from emergebench.runner import RunOptions, build_spec, run_sync
from emergebench_openai import make_openai_model
from emergebench_testing.openai_batch import BatchFate, multipart_file
from emergebench_testing.openai_server import FakeOpenAIServer, Reply

SUM = re.compile(r"What is (\d+) \+ (\d+)")


def batch_model(server: FakeOpenAIServer, **extra):
    options = {"base_url": server.base_url, "batch": True, "batch_window": 0.05, "batch_poll": 0.02, **extra}
    return make_openai_model("gpt-4o-mini", options)


def ask(model, prompts: list[str]) -> list:
    async def main() -> list:
        try:
            return await asyncio.gather(
                *(model.generate([Message(role="user", content=p)], GenerateConfig()) for p in prompts),
                return_exceptions=True,
            )
        finally:
            await model.aclose()

    return asyncio.run(main())


def test_multipart_round_trip():
    from emergebench_openai.batch import multipart

    body, content_type = multipart({"purpose": "batch"}, "x.jsonl", b'{"a": 1}\n{"b": 2}\n')
    assert multipart_file(body, content_type) == b'{"a": 1}\n{"b": 2}\n'


def test_concurrent_calls_go_in_one_wave_and_answer_correctly():
    with FakeOpenAIServer(batch_latency_s=0.1) as server:
        model = batch_model(server)
        prompts = [f"What is {i} + {i + 1}?" for i in range(40)]
        outputs = ask(model, prompts)
        assert [o.text for o in outputs] == [str(2 * i + 1) for i in range(40)]
        assert all(o.batched for o in outputs) and all(o.usage.output_tokens == 1 for o in outputs)
        assert len(server.batch_store.batches) == 1 and server.batch_store.lines_seen == 40
        assert server.requests == 40  # every call answered through the batch, none directly


def test_waves_are_cut_at_batch_size():
    with FakeOpenAIServer() as server:
        outputs = ask(batch_model(server, batch_size=15), [f"What is {i} + 1?" for i in range(40)])
        assert [o.text for o in outputs] == [str(i + 1) for i in range(40)]
        assert sorted(b["request_counts"]["total"] for b in server.batch_store.batches.values()) == [10, 15, 15]


def test_failed_lines_raise_their_own_errors():
    def behaviour(request: dict, attempt: int) -> Reply:
        a = int(SUM.search(request["messages"][-1]["content"]).group(1))
        return Reply(status=400) if a % 4 == 0 else Reply()

    with FakeOpenAIServer(behaviour) as server:
        outputs = ask(batch_model(server), [f"What is {i} + 1?" for i in range(12)])
    for i, out in enumerate(outputs):
        if i % 4 == 0:
            assert isinstance(out, ModelError) and "HTTP 400" in str(out)
        else:
            assert out.text == str(i + 1)


def test_a_failed_batch_fails_its_calls_with_the_reason():
    with FakeOpenAIServer(batch_fate=lambda index, n: BatchFate("failed")) as server:
        outputs = ask(batch_model(server), ["What is 1 + 1?", "What is 2 + 2?"])
    assert all(isinstance(o, ModelError) and "injected failure" in str(o) for o in outputs)


@pytest.fixture
def home(emergebench_home):
    return emergebench_home


def test_expired_batch_answers_the_rest_in_a_later_wave_and_the_run_is_exact(home, tmp_path):
    """The first batch expires after answering 7 of 20 lines: the other 13 are retried by the core
    into a second wave; every sample is journaled once with the right answer, and a re-run of the
    spec is answered wholly from the cache (no batch at all)."""
    fates = [BatchFate("expired", answered=7)]
    with FakeOpenAIServer(batch_fate=lambda index, n: fates[index] if index < len(fates) else BatchFate()) as server:
        args = {"base_url": server.base_url, "batch": True, "batch_window": 0.05, "batch_poll": 0.02}
        spec = build_spec("testtask/qa", "openai/gpt-4o-mini", task_args={"n": 20}, model_args=args)
        options = RunOptions(max_concurrency=50, progress=False)
        from emergebench.retry import RetryPolicy

        options.retry = RetryPolicy(max_attempts=3, initial_wait_s=0.01, max_wait_s=0.2)
        result = run_sync(spec, options)
        assert result.status == "complete" and result.n_samples == 20 and result.n_errors == 0
        accuracy = next(m.value for m in result.metrics if m.name == "accuracy")
        assert accuracy == 1.0
        totals = [b["request_counts"]["total"] for b in server.batch_store.batches.values()]
        assert totals == [20, 13]
        assert server.batch_store.lines_seen == 20  # each question answered exactly once
        again = run_sync(spec, RunOptions(max_concurrency=50, progress=False, fresh=True))
        assert again.status == "complete" and again.cached_calls == 20 and again.model_calls == 0
        assert len(server.batch_store.batches) == 2
