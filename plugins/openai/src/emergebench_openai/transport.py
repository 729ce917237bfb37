"""One pooled aiohttp session per model and event loop, posting JSON and returning raw replies.

The official ``openai`` client spent ~0.8 ms of CPU per call (this path: ~0.2 ms) on its httpx
request, auth and response models (docs/benchmarks.md); a chat call needs none of that, so we
post the bytes ourselves and leave status handling to :mod:`.errors`.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit, urlunsplit

if TYPE_CHECKING:  # aiohttp is imported when a model is made: plugin discovery should not pay for it
    import aiohttp

USER_AGENT = "emergebench-openai"


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
        import aiohttp  # noqa: F401 - imported with the model, so the first call's latency does not include it

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
        self._urls: dict[str, Any] = {}
        self._timeout = timeout
        self._max_connections = max_connections
        self._proxy: tuple[Any, Any] = (None, None)
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

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
        loop = asyncio.get_running_loop()
        session = self._session
        if session is None or self._loop is not loop or session.closed:
            if session is not None and not session.closed:
                session.detach()  # its loop has gone (asyncio.run per call): nothing left to close there
            session = self._session = self._new_session()
            self._loop = loop
        return session

    async def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> HttpReply:
        """Any other request under ``base_url`` (the batch API's files and batches)."""
        import yarl

        session = self._current_session()
        proxy, proxy_auth = self._proxy
        url = yarl.URL(self._base_url + path, encoded=False)
        async with session.request(
            method, url, data=body, headers=headers, proxy=proxy, proxy_auth=proxy_auth
        ) as response:
            return HttpReply(response.status, response.headers, await response.read())

    async def post(self, path: str, body: bytes) -> HttpReply:
        """POST ``body`` to ``base_url + path`` and read the whole reply. Network failures and
        timeouts propagate as aiohttp / asyncio exceptions for :func:`.errors.map_exception`."""
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
        """Close the pool if it belongs to the running loop; a pool of a finished loop is dropped
        (its sockets died with that loop)."""
        session, self._session = self._session, None
        if session is None or session.closed:
            return
        if self._loop is asyncio.get_running_loop():
            await session.close()
        else:
            session.detach()
