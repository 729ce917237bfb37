import asyncio
import email.utils

import pytest
from emergebench import GenerateConfig, Message, ModelError, TransientModelError
from emergebench_openai import make_openai_model
from emergebench_openai.errors import parse_retry_after
from emergebench_testing.openai_server import FakeOpenAIServer, Reply

MESSAGES = [Message(role="user", content="What is 1 + 2?")]


def test_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after-ms": "250"}) == 0.25
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after": "0.5"}) == 0.5
    assert parse_retry_after({"retry-after": "-4"}) == 0.0
    date = email.utils.formatdate(1_000_030.0, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=1_000_000.0) == pytest.approx(30.0)
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


async def _call(reply: Reply, **options: object) -> Exception:
    with FakeOpenAIServer(lambda request, attempt: reply) as server:
        model = make_openai_model("m", {"base_url": server.base_url, **options})
        try:
            with pytest.raises(ModelError) as info:
                await model.generate(MESSAGES, GenerateConfig())
        finally:
            await model.aclose()
    return info.value


async def test_429_is_transient_with_retry_after() -> None:
    error = await _call(Reply(status=429, headers={"Retry-After": "7"}))
    assert isinstance(error, TransientModelError)
    assert (error.status, error.retry_after) == (429, 7.0)


@pytest.mark.parametrize("status", [500, 502, 503, 408])
async def test_5xx_and_408_are_transient(status: int) -> None:
    error = await _call(Reply(status=status))
    assert isinstance(error, TransientModelError) and error.status == status


async def test_other_4xx_are_final_with_a_hint() -> None:
    error = await _call(Reply(status=400, body={"error": {"message": "max_tokens too large"}}))
    assert not isinstance(error, TransientModelError)
    assert "HTTP 400" in str(error) and "max_tokens too large" in str(error)
    error = await _call(Reply(status=401))
    assert not isinstance(error, TransientModelError) and "OPENAI_API_KEY" in str(error)
    error = await _call(Reply(status=404))
    assert "base_url" in str(error)


async def test_client_timeout_is_transient() -> None:
    error = await _call(Reply(delay_s=2.0), timeout=0.2)
    assert isinstance(error, TransientModelError) and "timed out" in str(error)


async def test_connection_refused_is_transient() -> None:
    with FakeOpenAIServer() as server:
        url = server.base_url
    model = make_openai_model("m", {"base_url": url})
    with pytest.raises(TransientModelError, match="cannot reach"):
        await model.generate(MESSAGES, GenerateConfig())
    await model.aclose()


async def test_client_does_not_retry_on_its_own() -> None:
    with FakeOpenAIServer(lambda request, attempt: Reply(status=503)) as server:
        model = make_openai_model("m", {"base_url": server.base_url})
        with pytest.raises(TransientModelError):
            await model.generate(MESSAGES, GenerateConfig())
        await model.aclose()
        await asyncio.sleep(0)
        assert server.requests == 1


def test_network_failures_map_to_transient_and_tls_failures_to_final() -> None:
    import ssl
    import types

    import aiohttp
    from emergebench_openai.errors import map_exception

    key = types.SimpleNamespace(host="h", port=443, ssl=True, is_ssl=True)
    refused = aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "refused"))
    assert isinstance(map_exception(refused, "https://h/v1"), TransientModelError)
    assert isinstance(map_exception(aiohttp.ServerDisconnectedError(), "https://h/v1"), TransientModelError)
    assert "timed out" in str(map_exception(TimeoutError(), "https://h/v1"))
    bad_cert = aiohttp.ClientConnectorCertificateError(key, ssl.SSLCertVerificationError(1, "verify failed"))
    error = map_exception(bad_cert, "https://h/v1")
    assert not isinstance(error, TransientModelError) and "SSL_CERT_FILE" in str(error)
    assert map_exception(ValueError("not a network error"), "https://h/v1") is None
