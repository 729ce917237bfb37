"""Turn HTTP statuses and network failures into the core's error types, so the core's retry
policy decides what to retry and how long to wait."""

from __future__ import annotations

import asyncio
import email.utils
import json
import ssl
import sys
import time
from collections.abc import Mapping

from emergebench import ModelError, TransientModelError

from .h1 import BadResponse, ConnectError, ConnectTimeout

# 408 request timeout, 409 lock conflict, 425 too early, 429 rate limit: all worth another try,
# like every 5xx. This matches what the official clients retry on their own.
TRANSIENT_STATUS = frozenset({408, 409, 425, 429})


def parse_retry_after(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    """Seconds the server asked us to wait: ``retry-after-ms``, then ``retry-after`` as seconds
    (fractions allowed) or as an HTTP date. None when absent or unreadable."""
    if not headers:
        return None
    for header, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        raw = headers.get(header)
        if raw is None:
            continue
        try:
            return max(float(raw) / divisor, 0.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


def server_message(body: bytes) -> str:
    """The server's own words: ``error.message`` (OpenAI, vLLM, llama.cpp), a string ``error``
    (some proxies), else the start of the body."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        data = None
    if isinstance(data, dict):
        inner = data.get("error", data)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if isinstance(inner, str):
            return inner
        if inner is not data and inner is not None:
            return json.dumps(inner)[:300]
    text = body[:300].decode("utf-8", "replace").strip()
    return text or "(empty body)"


def map_status(status: int, headers: Mapping[str, str], body: bytes, endpoint: str, model: str) -> ModelError:
    """The core error for a non-2xx reply; the message names the endpoint and what to do."""
    message = server_message(body)
    if status in TRANSIENT_STATUS or status >= 500:
        return TransientModelError(
            f"HTTP {status} from {endpoint}: {message}", retry_after=parse_retry_after(headers), status=status
        )
    hint = {
        401: " Check -M api_key=... or the OPENAI_API_KEY environment variable.",
        403: " The key is not allowed to use this model or endpoint.",
        404: f" Check the model name {model!r} and -M base_url (it usually ends in /v1).",
    }.get(status, "")
    return ModelError(f"HTTP {status} from {endpoint} for model {model!r}: {message}.{hint}")


def map_exception(exc: BaseException, endpoint: str) -> ModelError | None:
    """The core error for a failure below HTTP (refused or dropped connection, timeout), or None
    for anything that is not a network failure (let it propagate)."""
    if isinstance(exc, ConnectTimeout):
        return TransientModelError(f"cannot reach {endpoint}: connecting timed out")
    if isinstance(exc, ssl.SSLError):
        return ModelError(
            f"TLS with {endpoint} failed ({exc}): check the URL's scheme and host, or point SSL_CERT_FILE at "
            "the CA bundle that signed the server's certificate"
        )
    if isinstance(exc, ConnectError):
        return TransientModelError(f"cannot reach {endpoint}: {exc}")
    if isinstance(exc, BadResponse):
        return ModelError(f"{type(exc).__name__} from {endpoint}: {exc}")
    if "aiohttp" in sys.modules:  # requests through a proxy go through aiohttp
        mapped = _map_aiohttp(exc, endpoint)
        if mapped is not None:
            return mapped
    if isinstance(exc, asyncio.TimeoutError):
        return TransientModelError(f"request to {endpoint} timed out (raise -M timeout= if the model is slow)")
    if isinstance(exc, ConnectionError):  # dropped or reset mid-request (ServerDisconnected, ECONNRESET, EPIPE)
        return TransientModelError(f"connection to {endpoint} failed: {type(exc).__name__}: {exc}")
    return None


def _map_aiohttp(exc: BaseException, endpoint: str) -> ModelError | None:
    import aiohttp

    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return TransientModelError(f"cannot reach {endpoint}: connecting timed out")
    if isinstance(exc, asyncio.TimeoutError):  # aiohttp's read timeouts subclass it too
        return TransientModelError(f"request to {endpoint} timed out (raise -M timeout= if the model is slow)")
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError):
        return ModelError(
            f"TLS with {endpoint} failed ({exc}): check the URL's scheme and host, or point SSL_CERT_FILE at "
            "the CA bundle that signed the server's certificate"
        )
    if isinstance(exc, aiohttp.ClientConnectorError):
        return TransientModelError(f"cannot reach {endpoint}: {exc}")
    if isinstance(exc, aiohttp.ClientConnectionError | aiohttp.ClientPayloadError):
        return TransientModelError(f"connection to {endpoint} failed: {type(exc).__name__}: {exc}")
    if isinstance(exc, aiohttp.ClientError):
        return ModelError(f"{type(exc).__name__} from {endpoint}: {exc}")
    return None
