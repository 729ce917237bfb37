import asyncio
import time

import pytest
from emergebench import GenerateConfig, Message, UsageError
from emergebench_openai import make_openai_model
from emergebench_testing.openai_server import FakeOpenAIServer, Reply

SCHEMA = {"type": "json_schema", "json_schema": {"name": "n", "schema": {"type": "object"}}}


def test_options_are_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(UsageError, match="base_url='ftp://x'"):
        make_openai_model("m", {"base_url": "ftp://x"})
    with pytest.raises(UsageError, match="temprature"):
        make_openai_model("m", {"base_url": "http://127.0.0.1:1/v1", "temprature": 0})
    with pytest.raises(UsageError, match="OPENAI_API_KEY"):
        make_openai_model("gpt-4o", {})


def test_environment_supplies_url_and_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://10.0.0.5:8000/v1/")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-123")
    model = make_openai_model("qwen2.5-7b", {})
    assert model.base_url == "http://10.0.0.5:8000/v1"
    assert model.info.args == {"base_url": "http://10.0.0.5:8000/v1"}
    assert (model.info.family, model.info.parameters) == ("qwen2.5", 7_000_000_000)


def test_identity_has_endpoint_and_name_never_the_key() -> None:
    def make(name: str, url: str, key: str) -> str:
        return make_openai_model(name, {"base_url": url, "api_key": key}).identity()

    base = make("m", "http://127.0.0.1:8000/v1", "k1")
    assert make("m", "http://127.0.0.1:8000/v1", "k2") == base
    assert make("m", "http://user:pw@127.0.0.1:8000/v1/", "k1") == base
    assert make("m", "http://127.0.0.1:8001/v1", "k1") != base
    assert make("m", "http://10.0.0.1:8000/v1", "k1") != base
    assert make("m2", "http://127.0.0.1:8000/v1", "k1") != base
    model = make_openai_model("m", {"base_url": "http://u:pw@h:1/v1", "api_key": "sk-xyz"})
    assert "sk-xyz" not in repr(model.info) and "pw" not in repr(model.info)


def test_family_and_parameters_can_be_overridden() -> None:
    model = make_openai_model("my-model", {"base_url": "http://h/v1", "family": "llama-3", "parameters": 8e9})
    assert (model.info.family, model.info.parameters) == ("llama-3", 8_000_000_000)


async def test_config_fields_reach_the_server_and_logprobs_come_back() -> None:
    seen = []

    def behaviour(request: dict, attempt: int) -> Reply:
        seen.append(request)
        return Reply(text="forty two")

    config = GenerateConfig(
        temperature=0.3,
        top_p=0.9,
        max_tokens=7,
        stop=["\n"],
        seed=5,
        logprobs=True,
        top_logprobs=2,
        response_format=SCHEMA,
    )
    with FakeOpenAIServer(behaviour) as server:
        model = make_openai_model("m", {"base_url": server.base_url})
        output = await model.generate([Message(role="user", content="hi")], config)
        plain = await model.generate([Message(role="user", content="hi")], GenerateConfig())
        await model.aclose()
    sent = seen[0]
    for key in ("temperature", "top_p", "max_tokens", "stop", "seed", "top_logprobs", "response_format"):
        assert sent[key] == getattr(config, key)
    assert sent["logprobs"] is True and sent["messages"] == [{"role": "user", "content": "hi"}]
    assert not {"temperature", "logprobs", "response_format"} & set(seen[1])
    assert output.text == "forty two" and output.usage.output_tokens == 2 and output.finish_reason == "stop"
    assert [t.token for t in output.logprobs] == ["forty", "two"]
    assert output.logprobs[0].top == {"forty": -0.25, "forty~1": -1.25}
    assert plain.logprobs is None


async def test_response_format_without_type_is_refused() -> None:
    model = make_openai_model("m", {"base_url": "http://127.0.0.1:9/v1"})
    with pytest.raises(Exception, match="no 'type'"):
        await model.generate([Message(role="user", content="x")], GenerateConfig(response_format={"schema": {}}))


async def test_pool_allows_64_concurrent_requests() -> None:
    with FakeOpenAIServer(latency_s=0.3) as server:
        model = make_openai_model("m", {"base_url": server.base_url, "max_connections": 64})
        started = time.perf_counter()
        calls = [
            model.generate([Message(role="user", content=f"What is {i} + 1?")], GenerateConfig()) for i in range(64)
        ]
        outputs = await asyncio.gather(*calls)
        elapsed = time.perf_counter() - started
        await model.aclose()
    assert [o.text for o in outputs] == [str(i + 1) for i in range(64)]
    assert server.max_open_connections == 64
    assert elapsed < 1.5, f"64 calls of 0.3 s took {elapsed:.2f} s: requests were queued"


async def test_small_pool_queues_requests() -> None:
    with FakeOpenAIServer(latency_s=0.2) as server:
        model = make_openai_model("m", {"base_url": server.base_url, "max_connections": 2})
        started = time.perf_counter()
        await asyncio.gather(
            *[model.generate([Message(role="user", content=f"x{i}")], GenerateConfig()) for i in range(4)]
        )
        elapsed = time.perf_counter() - started
        await model.aclose()
    assert server.max_open_connections <= 2 and elapsed >= 0.4
