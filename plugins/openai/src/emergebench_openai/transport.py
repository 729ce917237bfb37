"""One connection pool per model and event loop, posting JSON and returning raw replies.

The official ``openai`` client spent ~0.8 ms of CPU per call on its httpx request, auth and response
models, aiohttp ~0.07 ms, and the llhttp-based client of :mod:`.h1` ~0.01 ms (docs/benchmarks.md); a
chat call needs none of that machinery, so we post the bytes ourselves and leave status handling to
:mod:`.errors`. When an HTTP(S)_PROXY variable is set, requests go through aiohttp, which resolves
NO_PROXY, proxy credentials and CONNECT tunnels.
"""

from __future__ import annotations

import asyncio
import base64
import os
import ssl
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from . import h1
from .h1 import H1Pool, request_head, with_body

if TYPE_CHECKING:  # aiohttp is imported only when a proxy is configured
    import aiohttp

USER_AGENT = "emergebench-openai"
SAFE_IN_TARGET = "/:@!$&'()*+,;=-._~%?"  # kept as written; anything else is percent-encoded (UTF-8)


@dataclass(frozen=True)
class HttpReply:
    """A complete HTTP response: status, headers (case-insensitive mapping) and body bytes."""

    status: int
    headers: Any
    body: bytes


def split_credentials(base_url: str) -> tuple[str, str | None]:
    """The URL without ``user:password@`` and, if there were any, a Basic ``Authorization`` value.

    Credentials in the URL take the place of the Bearer key, as they did with the httpx-based
    official client, and never travel inside the URL."""
    parts = urlsplit(base_url)
    if parts.username is None and parts.password is None:
        return base_url, None
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    pair = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
    basic = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)), basic


def env_proxy(url: str) -> tuple[Any, Any]:
    """The proxy (URL, auth) that HTTP(S)_PROXY / NO_PROXY name for ``url``, or (None, None).

    Looked up once per session: aiohttp's own ``trust_env`` repeats the lookup in a worker thread
    on every request, which costs more than the rest of a call."""
    import yarl
    from aiohttp.helpers import get_env_proxy_for_url

    try:
        return get_env_proxy_for_url(yarl.URL(url))
    except LookupError:
        return None, None


def proxy_configured(scheme: str) -> bool:
    """Whether a proxy variable could apply to ``scheme`` URLs (then aiohttp decides exactly, NO_PROXY
    included). On Linux proxies come only from the environment; elsewhere the system may name one."""
    if sys.platform in ("darwin", "win32"):
        from urllib.request import getproxies

        return scheme in getproxies()
    wanted = f"{scheme}_proxy"
    return any(value and name.lower() == wanted for name, value in os.environ.items())


def tls_context() -> ssl.SSLContext:
    """Verifying TLS with the system's CA store (which honours SSL_CERT_FILE / SSL_CERT_DIR), or
    certifi's bundle where the system has none (slim containers), as the official client did."""
    context = ssl.create_default_context()
    if not context.cert_store_stats().get("x509_ca"):
        try:
            import certifi
        except ImportError:
            return context
        context.load_verify_locations(certifi.where())
    return context


class ChatTransport:
    """POSTs JSON bodies under ``base_url`` over a keep-alive connection pool.

    A session (and its pool) belongs to the event loop that opened it, so a new loop gets a new
    one; the pool holds ``max_connections`` connections, which must cover ``--max-concurrency``."""

    def __init__(self, base_url: str, api_key: str, *, timeout: float, max_connections: int) -> None:
        url, basic = split_credentials(base_url)
        # A query string (?api-key=..., ?api-version=...) goes after each request's path, not before it.
        parts = urlsplit(url)
        self._query = f"?{parts.query}" if parts.query else ""
        self._base_url = urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")).rstrip("/")
        self._headers = {
            "Authorization": basic or f"Bearer {api_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        self._scheme = parts.scheme
        self._host = parts.hostname or ""
        default_port = 443 if parts.scheme == "https" else 80
        self._port = parts.port or default_port
        host = f"[{self._host}]" if ":" in self._host else self._host
        self._host_header = host if self._port == default_port else f"{host}:{self._port}"
        self._prefix = parts.path.rstrip("/")
        self._heads: dict[str, bytes] = {}  # request line and headers per path, built once
        self._urls: dict[str, Any] = {}
        self._timeout = timeout
        self._max_connections = max_connections
        self._proxy: tuple[Any, Any] = (None, None)
        self._pool: H1Pool | None = None
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _target(self, path: str, query: str = "") -> str:
        return quote(self._prefix + path + query, safe=SAFE_IN_TARGET)

    def _current_pool(self) -> H1Pool | None:
        """This loop's llhttp pool, or None when requests go through aiohttp (a proxy is configured)."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._drop()
            self._loop = loop
            if h1.AVAILABLE and not proxy_configured(self._scheme):
                tls = tls_context() if self._scheme == "https" else None
                self._pool = H1Pool(self._scheme, self._host, self._port, limit=self._max_connections, ssl_context=tls)
        return self._pool

    def _drop(self) -> None:
        """Forget the pools of a loop that has gone (asyncio.run per call): their sockets went with it."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        session, self._session = self._session, None
        if session is not None and not session.closed:
            session.detach()

    def _new_session(self) -> aiohttp.ClientSession:
        import aiohttp

        self._proxy = env_proxy(self._base_url)
        connector = aiohttp.TCPConnector(
            limit=self._max_connections,
            limit_per_host=0,
            keepalive_timeout=60.0,
            ssl=tls_context() if self._base_url.startswith("https:") else True,
        )
        return aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self._timeout),
            headers=self._headers,
            skip_auto_headers=("User-Agent",),
            cookie_jar=aiohttp.DummyCookieJar(),  # a stateless API: no cookie bookkeeping per call
        )

    def _current_session(self) -> aiohttp.ClientSession:
        session = self._session
        if session is None or session.closed:
            session = self._session = self._new_session()
        return session

    async def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> HttpReply:
        """Any other request under ``base_url`` (the batch API's files and batches)."""
        pool = self._current_pool()
        if pool is None:
            return await self._aiohttp_request(method, path, body, headers)
        merged = {k: v for k, v in self._headers.items() if k.lower() not in {h.lower() for h in headers or {}}}
        merged.update(headers or {})
        head = request_head(
            method, self._target(path), self._host_header, {**merged, "Accept-Encoding": "gzip, deflate"}
        )
        data = with_body(head, body) if body is not None or method not in ("GET", "HEAD") else head + b"\r\n"
        status, reply_headers, reply = await pool.request(data, self._timeout)
        return HttpReply(status, reply_headers, reply)

    async def post(self, path: str, body: bytes) -> HttpReply:
        """POST ``body`` to ``base_url + path`` and read the whole reply. Network failures and
        timeouts propagate as the exceptions of :mod:`.h1` (or aiohttp's) for :func:`.errors.map_exception`."""
        pool = self._current_pool()
        if pool is None:
            return await self._aiohttp_post(path, body)
        head = self._heads.get(path)
        if head is None:
            head = self._heads[path] = request_head(
                "POST",
                self._target(path, self._query),
                self._host_header,
                {**self._headers, "Accept-Encoding": "gzip, deflate"},
            )
        status, headers, data = await pool.request(with_body(head, body), self._timeout)
        return HttpReply(status, headers, data)

    async def _aiohttp_request(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str] | None
    ) -> HttpReply:
        import yarl

        session = self._current_session()
        proxy, proxy_auth = self._proxy
        url = yarl.URL(self._base_url + path, encoded=False)
        async with session.request(
            method, url, data=body, headers=headers, proxy=proxy, proxy_auth=proxy_auth
        ) as response:
            return HttpReply(response.status, response.headers, await response.read())

    async def _aiohttp_post(self, path: str, body: bytes) -> HttpReply:
        session = self._current_session()
        url = self._urls.get(path)
        if url is None:
            import yarl

            url = self._urls[path] = yarl.URL(self._base_url + path + self._query)  # parsed once, not per call
        proxy, proxy_auth = self._proxy
        async with session.post(url, data=body, proxy=proxy, proxy_auth=proxy_auth) as response:
            data = await response.read()
            return HttpReply(response.status, response.headers, data)

    async def aclose(self) -> None:
        """Close the pools if they belong to the running loop; a pool of a finished loop is dropped
        (its sockets died with that loop). A later request opens new ones."""
        same_loop = self._loop is asyncio.get_running_loop()
        self._loop = None
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        session, self._session = self._session, None
        if session is None or session.closed:
            return
        if same_loop:
            await session.close()
        else:
            session.detach()
