"""The llhttp-based client (emergebench_openai.h1) against a raw HTTP server that sends exactly the
bytes a test writes: body framings (Content-Length, chunked, until close, gzip), interim responses,
keep-alive reuse and its limits, malformed replies, refused connections, timeouts and TLS."""

from __future__ import annotations

import asyncio
import gzip
import json
import shutil
import ssl
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from emergebench import GenerateConfig, Message, ModelError, TransientModelError
from emergebench_openai import make_openai_model

ASK = [Message(role="user", content="What is 2 + 3?")]
COMPLETION = json.dumps(
    {
        "choices": [{"message": {"role": "assistant", "content": "5"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 4, "completion_tokens": 1},
    }
).encode()


def ok(body: bytes = COMPLETION, *extra: str) -> bytes:
    head = ["HTTP/1.1 200 OK", "Content-Type: application/json", f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class RawServer:
    """Answers the k-th request (0-based, over all connections) with ``script(k)``: the bytes to send,
    and whether to close the connection afterwards. Keeps every request's raw bytes."""

    def __init__(self, script: Callable[[int], tuple[bytes, bool]], ssl_context: ssl.SSLContext | None = None) -> None:
        self.script = script
        self.ssl_context = ssl_context
        self.requests: list[bytes] = []
        self.connections = 0
        self.port = 0
        self.server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> RawServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.ssl_context)
        self.port = int(self.server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self._writers:
            writer.close()
        await asyncio.sleep(0.01)  # let the handlers see their connections close

    def url(self, scheme: str = "http") -> str:
        host = "localhost" if scheme == "https" else "127.0.0.1"
        return f"{scheme}://{host}:{self.port}/v1"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                body = await reader.readexactly(length)
                self.requests.append(head + body)
                data, close = self.script(len(self.requests) - 1)
                writer.write(data)
                await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


async def generate(url: str, **options: Any) -> Any:
    model = make_openai_model("m", {"base_url": url, **options})
    try:
        return await model.generate(ASK, GenerateConfig(temperature=0.0))
    finally:
        await model.aclose()


async def test_request_bytes_on_the_wire() -> None:
    async with RawServer(lambda k: (ok(), False)) as server:
        await generate(server.url(), api_key="sk-1")
    head, _, body = server.requests[0].partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /v1/chat/completions HTTP/1.1"
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:])}
    assert headers["host"] == f"127.0.0.1:{server.port}"
    assert headers["authorization"] == "Bearer sk-1"
    assert headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(body)
    assert json.loads(body) == {
        "model": "m",
        "messages": [{"role": "user", "content": "What is 2 + 3?"}],
        "temperature": 0.0,
    }


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            + b"".join(
                b"%x\r\n%s\r\n" % (len(COMPLETION[i : i + 7]), COMPLETION[i : i + 7])
                for i in range(0, len(COMPLETION), 7)
            )
            + b"0\r\n\r\n",
            id="chunked",
        ),
        pytest.param(ok(gzip.compress(COMPLETION), "Content-Encoding: gzip"), id="gzip"),
        pytest.param(b"HTTP/1.1 100 Continue\r\n\r\n" + ok(), id="interim-100"),
    ],
)
async def test_body_framings(reply: bytes) -> None:
    async with RawServer(lambda k: (reply, False)) as server:
        output = await generate(server.url())
    assert (output.text, output.usage.input_tokens, output.usage.output_tokens) == ("5", 4, 1)


async def test_body_that_ends_with_the_connection() -> None:
    reply = b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n" + COMPLETION
    async with RawServer(lambda k: (reply, True)) as server:
        output = await generate(server.url())
    assert output.text == "5"


async def test_keep_alive_reuses_one_connection_and_honours_close() -> None:
    async with RawServer(lambda k: (ok(), False)) as server:
        model = make_openai_model("m", {"base_url": server.url()})
        for _ in range(5):
            assert (await model.generate(ASK, GenerateConfig())).text == "5"
        await model.aclose()
    assert server.connections == 1 and len(server.requests) == 5

    async with RawServer(
        lambda k: (ok(b'{"choices": [{"message": {"content": "5"}}]}', "Connection: close"), True)
    ) as server:
        model = make_openai_model("m", {"base_url": server.url()})
        for _ in range(3):
            assert (await model.generate(ASK, GenerateConfig())).text == "5"
        await model.aclose()
    assert server.connections == 3


async def test_a_connection_the_server_closed_while_idle_is_not_reused() -> None:
    async with RawServer(lambda k: (ok(), True)) as server:  # closes after each answer, without saying so
        model = make_openai_model("m", {"base_url": server.url()})
        assert (await model.generate(ASK, GenerateConfig())).text == "5"
        await asyncio.sleep(0.1)  # the FIN arrives
        assert (await model.generate(ASK, GenerateConfig())).text == "5"
        await model.aclose()
    assert server.connections == 2


@pytest.mark.parametrize(
    ("reply", "error", "match"),
    [
        (b"SPDY/9 nonsense\r\n\r\n", ModelError, "BadResponse .*malformed HTTP"),
        (b'HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{"cho', TransientModelError, "connection to .* failed"),
        (ok(b"not gzip at all", "Content-Encoding: gzip"), ModelError, "does not decompress"),
        pytest.param(
            ok(gzip.compress(b"0" * (65 * 1024**2)), "Content-Encoding: gzip"),
            ModelError,
            "does not decompress .*more than 64 MiB",
            id="gzip-bomb",
        ),
    ],
)
async def test_broken_replies(reply: bytes, error: type[Exception], match: str) -> None:
    async with RawServer(lambda k: (reply, True)) as server:
        with pytest.raises(error, match=match) as info:
            await generate(server.url())
    assert error is TransientModelError or not isinstance(info.value, TransientModelError)


async def test_refused_connection_is_transient() -> None:
    async with RawServer(lambda k: (ok(), False)) as server:
        url = server.url()
    with pytest.raises(TransientModelError, match="cannot reach http://127.0.0.1:.*cannot connect"):
        await generate(url)


async def test_timeout_is_transient_and_the_late_connection_is_not_reused() -> None:
    def script(k: int) -> tuple[bytes, bool]:
        return (b"" if k == 0 else ok()), False  # the first request is never answered

    async with RawServer(script) as server:
        model = make_openai_model("m", {"base_url": server.url(), "timeout": 0.3})
        with pytest.raises(TransientModelError, match="timed out"):
            await model.generate(ASK, GenerateConfig())
        assert (await model.generate(ASK, GenerateConfig())).text == "5"
        await model.aclose()
    assert server.connections == 2, "the connection still owing an answer was closed, not reused"


def _self_signed(folder: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


async def test_tls_verifies_the_server_and_honours_ssl_cert_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    async with RawServer(lambda k: (ok(), False), ssl_context=context) as server:
        with pytest.raises(ModelError, match="TLS with https://localhost.* failed") as info:
            await generate(server.url("https"))
        assert not isinstance(info.value, TransientModelError)
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        output = await generate(server.url("https"))
    assert output.text == "5"
    assert server.requests[-1].split(b"\r\n")[1] == f"Host: localhost:{server.port}".encode()


async def test_without_httptools_requests_go_through_aiohttp(monkeypatch: pytest.MonkeyPatch) -> None:
    """A virtual environment made before httptools was a dependency keeps working."""
    from emergebench_openai import h1, transport

    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("the llhttp pool was used")

    monkeypatch.setattr(h1, "AVAILABLE", False)
    monkeypatch.setattr(transport, "H1Pool", no_pool)
    async with RawServer(lambda k: (ok(), False)) as server:
        output = await generate(server.url())
    assert output.text == "5"
    assert b"user-agent: emergebench-openai" in server.requests[0].lower()
    assert b"\r\nhost:" in server.requests[0].lower()


async def test_a_connection_that_takes_too_long_is_a_transient_connect_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    from emergebench_openai import h1

    async def slow_connect(self: h1.H1Pool) -> None:
        await asyncio.sleep(5)

    monkeypatch.setattr(h1.H1Pool, "_connect", slow_connect)
    with pytest.raises(TransientModelError, match="cannot reach .*connecting timed out"):
        await generate("http://127.0.0.1:9/v1", timeout=0.2)
