"""Turn openai client exceptions into the core's error types, so the core's retry policy (not the
client's) decides what to retry and how long to wait."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping

import openai
from emergebench import ModelError, TransientModelError

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


def _server_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if isinstance(inner, str):
            return inner
    return exc.message


def map_error(exc: openai.OpenAIError, endpoint: str, model: str) -> ModelError:
    """The core error for a client exception; the message names the endpoint and what to do."""
    if isinstance(exc, openai.APITimeoutError):
        cause = exc.__cause__
        if cause is not None and "connect" in str(cause).lower():  # aiohttp reports refusals as timeouts
            return TransientModelError(f"cannot reach {endpoint}: {cause}")
        return TransientModelError(f"request to {endpoint} timed out (raise -M timeout= if the model is slow)")
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc
        return TransientModelError(f"cannot reach {endpoint}: {type(cause).__name__}: {cause}")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        message = _server_message(exc)
        if status in TRANSIENT_STATUS or status >= 500:
            return TransientModelError(
                f"HTTP {status} from {endpoint}: {message}",
                retry_after=parse_retry_after(exc.response.headers),
                status=status,
            )
        hint = {
            401: " Check -M api_key=... or the OPENAI_API_KEY environment variable.",
            403: " The key is not allowed to use this model or endpoint.",
            404: f" Check the model name {model!r} and -M base_url (it usually ends in /v1).",
        }.get(status, "")
        return ModelError(f"HTTP {status} from {endpoint} for model {model!r}: {message}.{hint}")
    return ModelError(f"{type(exc).__name__} from {endpoint}: {exc}")
