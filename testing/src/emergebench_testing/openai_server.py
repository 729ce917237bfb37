"""A small OpenAI-compatible HTTP server for tests and benchmarks, with fault injection.

It speaks just enough HTTP/1.1 (keep-alive, Content-Length bodies) for OpenAI clients, as an
asyncio Protocol whose delayed replies are loop timers (no task per request), so that hundreds of
concurrent connections cost little CPU: a benchmark's "200 ms server" should not add its own
parsing queue on top. A ``behaviour`` callable decides
each reply from the request and how many times that prompt has been seen, which lets a test say
"first 429 with Retry-After, then 500, then answer" or "stall longer than the client's timeout".

Run it standalone (the throughput benchmark does)::

    python -m emergebench_testing.openai_server --latency 0.2 --port 0
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from emergebench.records import canonical_json

from .openai_batch import BatchStore, Fate


@dataclass
class Reply:
    """What the server answers to one request. ``body`` None means a normal chat completion whose
    content is ``text`` (or the default answer for the prompt); ``raw`` sends those bytes as the
    body instead (malformed answers); ``drop`` closes the connection without answering."""

    status: int = 200
    text: str | None = None
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    raw: bytes | None = None
    drop: bool = False


Behaviour = Callable[[dict[str, Any], int], Reply]

_SUM_RE = re.compile(r"What is (-?\d+) \+ (-?\d+)\?")


def default_answer(request: dict[str, Any]) -> str:
    """Answers 'What is A + B?' correctly (so end-to-end scores prove the plumbing), else echoes."""
    messages = request.get("messages") or []
    last = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
    match = _SUM_RE.search(last)
    return str(int(match.group(1)) + int(match.group(2))) if match else last


def prompt_key(request: dict[str, Any]) -> str:
    """Requests with the same messages count as attempts of the same call."""
    return canonical_json(request.get("messages") or [])


def completion_body(request: dict[str, Any], text: str, serial: int) -> dict[str, Any]:
    tokens = text.split()
    prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in request.get("messages") or [])
    choice: dict[str, Any] = {
        "index": 0,
        "message": {"role": "assistant", "content": text},
        "finish_reason": "stop",
        "logprobs": None,
    }
    if request.get("logprobs"):
        top_n = int(request.get("top_logprobs") or 0)
        choice["logprobs"] = {
            "content": [
                {
                    "token": token,
                    "logprob": -0.25,
                    "bytes": list(token.encode()),
                    "top_logprobs": [
                        {"token": token if i == 0 else f"{token}~{i}", "logprob": -0.25 - i, "bytes": None}
                        for i in range(top_n)
                    ],
                }
                for token in tokens
            ]
        }
    return {
        "id": f"chatcmpl-fake-{serial}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "fake"),
        "choices": [choice],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(tokens),
            "total_tokens": prompt_tokens + len(tokens),
        },
    }


class FakeOpenAIServer:
    """An OpenAI-compatible server on 127.0.0.1 in a background thread with its own event loop."""

    def __init__(
        self,
        behaviour: Behaviour | None = None,
        *,
        latency_s: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        batch_fate: Fate | None = None,
        batch_latency_s: float = 0.0,
    ) -> None:
        self.behaviour = behaviour or (lambda request, attempt: Reply())
        self.batch_store = BatchStore(self, batch_fate, batch_latency_s)
        self.latency_s = latency_s
        self.host = host
        self.port = port
        self.attempts: Counter[str] = Counter()
        self.requests = 0
        self.completed = 0
        self.max_open_connections = 0
        self.in_flight = 0  # requests received and not yet answered (each waits out its delay)
        self.max_in_flight = 0
        self.last_headers: dict[str, str] = {}  # of the latest chat request, names lower-cased
        self.last_target = ""  # path and query string of the latest request
        self._connections: set[_Connection] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> FakeOpenAIServer:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def serve() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                self._loop.create_server(lambda: _Connection(self), self.host, self.port, backlog=2048)
            )
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=serve, name="fake-openai-server", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        loop = self._loop

        def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for connection in list(self._connections):
                connection.abort()
            loop.call_soon(loop.stop)  # after the aborts' own callbacks have closed the sockets

        loop.call_soon_threadsafe(shutdown)
        self._thread.join(10)
        loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def opened(self, connection: _Connection) -> None:
        self._connections.add(connection)
        self.max_open_connections = max(self.max_open_connections, len(self._connections))

    def closed(self, connection: _Connection) -> None:
        self._connections.discard(connection)

    def route(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any, float]:
        """Status, extra headers, payload (JSON-able, raw bytes, or None to drop the connection)
        and delay for one request."""
        self.last_target = path
        path = path.split("?", 1)[0]
        batch_reply = self.batch_store.route(method, path, headers, body)
        if batch_reply is not None:
            return batch_reply
        if method == "GET" and path.endswith("/models"):
            return 200, {}, {"object": "list", "data": [{"id": "fake", "object": "model", "owned_by": "test"}]}, 0.0
        if method != "POST" or not path.endswith("/chat/completions"):
            return 404, {}, {"error": {"message": f"no route {method} {path}", "type": "not_found"}}, 0.0
        try:
            request = json.loads(body or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return 400, {}, {"error": {"message": f"bad JSON: {exc}", "type": "invalid_request_error"}}, 0.0
        self.last_headers = headers
        return self.chat(request)

    def chat(self, request: dict[str, Any]) -> tuple[int, dict[str, str], Any, float]:
        """One chat completion as ``behaviour`` decides it (direct calls and batch lines alike)."""
        self.requests += 1
        key = prompt_key(request)
        self.attempts[key] += 1
        reply = self.behaviour(request, self.attempts[key])
        delay = self.latency_s + reply.delay_s
        if reply.drop or reply.raw is not None:
            return reply.status, reply.headers, None if reply.drop else reply.raw, delay
        if reply.body is not None or reply.status != 200:
            payload = reply.body or {"error": {"message": f"injected HTTP {reply.status}", "type": "injected"}}
            return reply.status, reply.headers, payload, delay
        text = reply.text if reply.text is not None else default_answer(request)
        return 200, reply.headers, completion_body(request, text, self.requests), delay


class _Connection(asyncio.Protocol):
    """One keep-alive connection: requests are answered one at a time, in order, each after its
    delay (a timer), as HTTP/1.1 without pipelining expects."""

    def __init__(self, server: FakeOpenAIServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.pending: asyncio.TimerHandle | None = None
        self.busy = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.server.opened(self)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.pending is not None:
            self.pending.cancel()
            self.server.in_flight -= 1
        self.server.closed(self)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.busy:
            self._next_request()

    def _next_request(self) -> None:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        request_line, *header_lines = self.buffer[:end].decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines if h)}
        length = int(headers.get("content-length", "0") or 0)
        if len(self.buffer) < end + 4 + length:
            return  # the body is still arriving
        body = bytes(self.buffer[end + 4 : end + 4 + length])
        del self.buffer[: end + 4 + length]
        method, path, _ = request_line.split(" ", 2)
        close = headers.get("connection", "").lower() == "close"
        status, extra, payload, delay = self.server.route(method, path, headers, body)
        self.busy = True
        self.server.in_flight += 1
        self.server.max_in_flight = max(self.server.max_in_flight, self.server.in_flight)
        if delay > 0:
            self.pending = asyncio.get_running_loop().call_later(delay, self._respond, status, extra, payload, close)
        else:
            self._respond(status, extra, payload, close)

    def _respond(self, status: int, extra: dict[str, str], payload: Any, close: bool) -> None:
        self.pending = None
        self.busy = False
        self.server.in_flight -= 1
        if self.transport is None or self.transport.is_closing():
            return
        if payload is None:
            self.transport.close()
            return
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Status"
        lines = [f"HTTP/1.1 {status} {phrase}", "Content-Type: application/json"]
        lines += [f"Content-Length: {len(data)}", *(f"{k}: {v}" for k, v in extra.items())]
        self.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
        if status == 200:
            self.server.completed += 1
        if close:
            self.transport.close()
        elif self.buffer:
            self._next_request()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve a fake OpenAI-compatible endpoint on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    args = parser.parse_args()
    server = FakeOpenAIServer(latency_s=args.latency, port=args.port).start()
    print(f"listening {server.base_url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
