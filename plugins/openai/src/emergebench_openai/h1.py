"""A lean HTTP/1.1 keep-alive client for the chat POST: asyncio connections whose responses are parsed
by llhttp (``httptools``, the parser uvicorn uses), pooled per event loop.

aiohttp's per-request machinery (request and response objects, header multidicts, timers, tracing)
cost ~0.07 ms of CPU per call against ~0.01 ms here, and importing it ~0.12 s at start-up
(docs/benchmarks.md, issue #18). Everything a chat call needs is kept: Content-Length, chunked and
close-delimited bodies (llhttp), gzip/deflate bodies, keep-alive with a bounded pool, TLS through the
standard library, a total timeout, and errors that say what failed. Requests that must go through an
HTTP(S)_PROXY use the aiohttp path instead (:mod:`.transport`).
"""

from __future__ import annotations

import asyncio
import ssl
import time
import zlib
from collections.abc import Mapping

try:
    import httptools
except ImportError:  # pragma: no cover - an environment set up before httptools was a dependency
    httptools = None  # type: ignore[assignment]

AVAILABLE = httptools is not None  # without it, every request goes through aiohttp (:mod:`.transport`)

KEEPALIVE_S = 60.0  # an idle connection older than this is closed rather than reused (as aiohttp's pool)

# A chat answer is kilobytes; a body (raw or decompressed) beyond this is refused, so a misbehaving
# endpoint (or a gzip bomb: 64 MiB of zeros compress to 64 KB) cannot exhaust the run's memory.
MAX_BODY_BYTES = 64 * 1024**2


class ConnectError(ConnectionError):
    """The TCP (or TLS) connection could not be made."""


class ConnectTimeout(ConnectError, TimeoutError):
    """Connecting took longer than the request's timeout."""


class ServerDisconnected(ConnectionError):
    """The server closed the connection before the response was complete."""


class BadResponse(Exception):
    """The bytes the server sent are not an HTTP/1.x response."""


class _Exchange(asyncio.Protocol):
    """One keep-alive connection: sends a request, collects the response llhttp parses from it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.reusable = False
        self.idle_since = 0.0
        self._waiter: asyncio.Future[tuple[int, dict[str, str], bytes]] | None = None
        self._reset()

    def _reset(self) -> None:
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._body_bytes = 0
        self._headers_done = False
        self._delimited = False  # Content-Length or chunked: the end is known without EOF

    # -- asyncio.Protocol ------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(BadResponse(f"malformed HTTP response ({exc})"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if self._headers_done and not self._delimited and exc is None:
            self._finish()  # a body that ends when the connection does (no Content-Length, not chunked)
        else:
            reason = f" ({exc})" if exc else ""
            self._fail(ServerDisconnected(f"the server closed the connection before answering in full{reason}"))

    # -- llhttp callbacks ------------------------------------------------------------------------
    def on_message_begin(self) -> None:
        self._reset()

    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        self._headers[key] = f"{self._headers[key]}, {text}" if key in self._headers else text

    def on_headers_complete(self) -> None:
        self._headers_done = True
        self._delimited = (
            "content-length" in self._headers
            or "chunked" in self._headers.get("transfer-encoding", "").lower()
            or self.parser.get_status_code() in (204, 304)
        )

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        if self._body_bytes > MAX_BODY_BYTES:
            self._fail(BadResponse(f"a response body larger than {MAX_BODY_BYTES // 1024**2} MiB"))
            self.close()
            return
        self._body.append(body)

    def on_message_complete(self) -> None:
        if 100 <= self.parser.get_status_code() < 200:  # an interim response (100 Continue): the real one follows
            self._reset()
            return
        self.reusable = self.parser.should_keep_alive()
        self._finish()

    # -- the request -----------------------------------------------------------------------------
    def _finish(self) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        body = b"".join(self._body)
        encoding = self._headers.get("content-encoding", "").strip().lower()
        if body and encoding in ("gzip", "x-gzip", "deflate"):
            try:
                body = _decompress(body, encoding)
            except zlib.error as exc:
                self._fail(BadResponse(f"a {encoding} body that does not decompress ({exc})"))
                return
        waiter.set_result((self.parser.get_status_code(), self._headers, body))

    def _fail(self, exc: BaseException) -> None:
        self.reusable = False
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    async def exchange(self, data: bytes, deadline: float) -> tuple[int, dict[str, str], bytes]:
        """Send one whole request and wait for its whole response until ``deadline`` (loop time).

        The deadline is one timer handle rather than ``asyncio.timeout``, which cost ~8 us per call."""
        assert self.transport is not None
        self.reusable = False
        self._waiter = self._loop.create_future()
        timer = self._loop.call_at(deadline, self._expire)
        self.transport.write(data)
        try:
            return await self._waiter
        finally:
            timer.cancel()
            self._waiter = None

    def _expire(self) -> None:
        self._fail(TimeoutError("no complete response before the timeout"))
        self.close()  # it may still answer: never reuse it

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            try:
                self.transport.close()
            except RuntimeError:  # its event loop is closed: the socket goes with the transport
                pass


def _decompress(body: bytes, encoding: str) -> bytes:
    if encoding == "deflate":
        try:
            return _inflate(body, zlib.MAX_WBITS)
        except zlib.error:
            return _inflate(body, -zlib.MAX_WBITS)  # raw deflate, as some servers send it
    return _inflate(body, 16 + zlib.MAX_WBITS)


def _inflate(body: bytes, wbits: int) -> bytes:
    """Decompress at most ``MAX_BODY_BYTES``; more raises zlib.error (reported as a bad response)."""
    inflater = zlib.decompressobj(wbits)
    data = inflater.decompress(body, MAX_BODY_BYTES + 1)
    if len(data) > MAX_BODY_BYTES:
        raise zlib.error(f"it decompresses to more than {MAX_BODY_BYTES // 1024**2} MiB")
    return data


class H1Pool:
    """Keep-alive connections to one origin for one event loop; at most ``limit`` requests at once
    (the others wait for a connection, as in aiohttp's pool)."""

    def __init__(
        self, scheme: str, host: str, port: int, *, limit: int, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.host, self.port = host, port
        self._ssl = ssl_context if scheme == "https" else None
        self._loop = asyncio.get_running_loop()
        self._slots = asyncio.Semaphore(limit)
        self._idle: list[_Exchange] = []
        self.closed = False

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    async def request(self, data: bytes, timeout: float) -> tuple[int, dict[str, str], bytes]:
        """Send ``data`` (a complete request) and return (status, lower-cased headers, body)."""
        async with self._slots:
            conn: _Exchange | None = None
            connecting = True
            deadline = self._loop.time() + timeout
            try:
                conn = self._take_idle()
                if conn is None:
                    try:
                        conn = await asyncio.wait_for(self._connect(), timeout)
                    except TimeoutError:
                        raise ConnectTimeout(f"connecting to {self.host}:{self.port} timed out") from None
                connecting = False
                reply = await conn.exchange(data, deadline)
            finally:
                if conn is not None and not connecting and conn.reusable and not conn.closed and not self.closed:
                    conn.idle_since = time.monotonic()
                    self._idle.append(conn)
                elif conn is not None:
                    conn.close()  # failed, cancelled mid-response, or the server said close
            return reply

    def _take_idle(self) -> _Exchange | None:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed and now - conn.idle_since < KEEPALIVE_S and not _closing(conn):
                return conn
            conn.close()
        return None

    async def _connect(self) -> _Exchange:
        try:
            _, conn = await self._loop.create_connection(
                lambda: _Exchange(self._loop),
                self.host,
                self.port,
                ssl=self._ssl,
                server_hostname=self.host if self._ssl is not None else None,
            )
        except ssl.SSLError:
            raise
        except OSError as exc:
            detail = exc.strerror or str(exc) or type(exc).__name__
            raise ConnectError(f"cannot connect to {self.host}:{self.port} ({detail})") from exc
        return conn

    def close(self) -> None:
        """Close the idle connections (those in use close when their request ends)."""
        self.closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def _closing(conn: _Exchange) -> bool:
    return conn.transport is None or conn.transport.is_closing()


def request_head(method: str, target: str, host_header: str, headers: Mapping[str, str]) -> bytes:
    """The request line and headers up to (not including) Content-Length."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host_header}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    for line in lines:
        if "\r" in line or "\n" in line:
            raise ValueError(f"a header or URL contains a line break: {line!r}")
    return ("\r\n".join(lines) + "\r\n").encode("latin-1")


def with_body(head: bytes, body: bytes | None) -> bytes:
    """A complete request: ``head``, Content-Length, a blank line and the body."""
    data = body or b""
    return head + b"Content-Length: %d\r\n\r\n" % len(data) + data
