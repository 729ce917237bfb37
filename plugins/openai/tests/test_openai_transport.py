"""The direct HTTP path: headers on the wire, credentials, malformed answers, dropped connections,
one pool per event loop, environment proxies, and the response parser."""

import asyncio
import base64
import json

import pytest
from emergebench import GenerateConfig, Message, ModelError, TransientModelError
from emergebench_openai import make_openai_model
from emergebench_openai.transport import split_credentials
from emergebench_openai.wire import build_request, parse_completion
from emergebench_testing.openai_server import FakeOpenAIServer, Reply

ASK = [Message(role="user", content="What is 2 + 3?")]


async def _generate(server: FakeOpenAIServer, **options: object) -> object:
    model = make_openai_model("m", {"base_url": server.base_url, **options})
    try:
        return await model.generate(ASK, GenerateConfig())
    finally:
        await model.aclose()


async def test_key_travels_only_in_the_authorization_header() -> None:
    with FakeOpenAIServer() as server:
        output = await _generate(server, api_key="sk-wire-123")
    headers = server.last_headers
    assert output.text == "5"
    assert headers["authorization"] == "Bearer sk-wire-123"
    assert headers["content-type"] == "application/json" and "user-agent" in headers


async def test_keyless_local_server_gets_a_placeholder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with FakeOpenAIServer() as server:
        await _generate(server)
    assert server.last_headers["authorization"] == "Bearer EMPTY"


async def test_url_credentials_become_basic_auth_and_leave_the_url() -> None:
    with FakeOpenAIServer() as server:
        url = server.base_url.replace("http://", "http://alice:s%40cret@")
        model = make_openai_model("m", {"base_url": url, "api_key": "sk-unused"})
        await model.generate(ASK, GenerateConfig())
        await model.aclose()
    expected = "Basic " + base64.b64encode(b"alice:s@cret").decode()
    assert server.last_headers["authorization"] == expected
    assert "alice" not in model.endpoint and "cret" not in json.dumps(model.info.model_dump())
    assert split_credentials("https://h:1/v1") == ("https://h:1/v1", None)


async def test_config_fields_are_posted_as_json_without_unset_ones() -> None:
    body = build_request("m", ASK, GenerateConfig(temperature=0.0, stop=["x"]))
    assert body == {
        "model": "m",
        "messages": [{"role": "user", "content": "What is 2 + 3?"}],
        "temperature": 0.0,
        "stop": ["x"],
    }


@pytest.mark.parametrize("status", [409, 425])
async def test_conflict_and_too_early_are_transient(status: int) -> None:
    with FakeOpenAIServer(lambda request, attempt: Reply(status=status, headers={"retry-after-ms": "1500"})) as server:
        with pytest.raises(TransientModelError) as info:
            await _generate(server)
    assert (info.value.status, info.value.retry_after) == (status, 1.5)


async def test_error_body_that_is_not_json_is_quoted() -> None:
    with FakeOpenAIServer(lambda request, attempt: Reply(status=422, raw=b"<html>nope</html>")) as server:
        with pytest.raises(ModelError, match="HTTP 422 .*<html>nope</html>") as info:
            await _generate(server)
    assert not isinstance(info.value, TransientModelError)


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b"this is not json", "non-JSON"),
        (b'{"object": "chat.completion", "choices": []}', "without any choices"),
        (b'{"choices": [{"message": {"content": 7}}]}', "unexpected completion"),
    ],
)
async def test_malformed_success_is_a_final_error(raw: bytes, match: str) -> None:
    with FakeOpenAIServer(lambda request, attempt: Reply(raw=raw)) as server:
        with pytest.raises(ModelError, match=match) as info:
            await _generate(server)
    assert not isinstance(info.value, TransientModelError)


async def test_dropped_connection_is_transient() -> None:
    with FakeOpenAIServer(lambda request, attempt: Reply(drop=True)) as server:
        with pytest.raises(TransientModelError, match="connection to http://127.0.0.1"):
            await _generate(server)


def test_one_model_serves_several_event_loops() -> None:
    with FakeOpenAIServer() as server:
        model = make_openai_model("m", {"base_url": server.base_url})
        first = asyncio.run(model.generate(ASK, GenerateConfig()))
        second = asyncio.run(model.generate(ASK, GenerateConfig()))

        async def close() -> None:
            await model.aclose()

        asyncio.run(close())
    assert first.text == second.text == "5" and server.requests == 2


async def test_environment_proxy_is_used_and_no_proxy_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    # The fake server also answers absolute-form requests, i.e. it can stand in for a forward proxy.
    with FakeOpenAIServer() as proxy:
        monkeypatch.setenv("HTTP_PROXY", f"http://{proxy.host}:{proxy.port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        model = make_openai_model("m", {"base_url": "http://upstream.invalid:9/v1"})
        output = await model.generate(ASK, GenerateConfig())
        await model.aclose()
        assert output.text == "5" and proxy.requests == 1
        monkeypatch.setenv("NO_PROXY", "upstream.invalid")
        direct = make_openai_model("m", {"base_url": "http://upstream.invalid:9/v1"})
        with pytest.raises(TransientModelError, match="cannot reach"):
            await direct.generate(ASK, GenerateConfig())
        await direct.aclose()
    assert proxy.requests == 1


def test_parser_fills_defaults_and_reads_logprobs() -> None:
    body = {
        "choices": [
            {
                "message": {"role": "assistant", "content": None},
                "finish_reason": "length",
                "logprobs": {
                    "content": [
                        {"token": "a", "logprob": -0.5, "top_logprobs": []},
                        {"token": "b", "logprob": -1.0, "top_logprobs": [{"token": "b", "logprob": -1.0}]},
                    ]
                },
            }
        ]
    }
    output = parse_completion(json.dumps(body).encode(), "http://h/v1")
    assert output.text == "" and output.finish_reason == "length"
    assert (output.usage.input_tokens, output.usage.output_tokens) == (0, 0)
    assert [(t.token, t.logprob, t.top) for t in output.logprobs] == [("a", -0.5, None), ("b", -1.0, {"b": -1.0})]
    body["choices"][0]["logprobs"] = None
    body["usage"] = {"prompt_tokens": 9, "completion_tokens": 2}
    output = parse_completion(json.dumps(body).encode(), "http://h/v1")
    assert output.logprobs is None and (output.usage.input_tokens, output.usage.output_tokens) == (9, 2)
