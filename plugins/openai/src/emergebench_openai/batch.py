"""Opt-in batch mode (``-M batch=true``): the calls a run has in flight are gathered into waves and
sent through the OpenAI Batch API (upload a JSONL file to ``/files``, create a ``/batches`` job, poll
it, read its output and error files). vLLM's batch runner reads and writes the same line format.

Each call still awaits its own answer, so the runner journals a sample as soon as its wave returns
and the core caches every answer like any other call. A request the batch did not answer (it
expired or was cancelled) fails as a transient error: the core's retry puts it in a later wave.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from dataclasses import dataclass
from typing import Any

from emergebench import ModelError, ModelOutput, TransientModelError
from emergebench.chat_format import parse_chat_response

from .errors import map_exception, map_status, server_message
from .transport import ChatTransport
from .wire import dumps, loads

TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
RETRYABLE_CODES = frozenset({"batch_expired", "batch_cancelled"})
CHAT_URL = "/v1/chat/completions"


@dataclass(frozen=True)
class BatchSettings:
    size: int = 1000  # requests per wave at most (OpenAI accepts up to 50,000)
    window_s: float = 0.5  # how long the first call of a wave waits for others to join it
    poll_s: float = 5.0  # between status checks of a submitted batch
    completion_window: str = "24h"


def multipart(fields: dict[str, str], filename: str, content: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body with text ``fields`` and one file, and its Content-Type."""
    boundary = "emergebench-" + secrets.token_hex(12)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/jsonl\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def result_of_line(record: dict[str, Any], endpoint: str, model: str) -> ModelOutput | ModelError:
    """One line of a batch's output or error file as an answer or the error to raise."""
    response, error = record.get("response"), record.get("error")
    if isinstance(response, dict):
        status = int(response.get("status_code") or 0)
        body = response.get("body")
        if 200 <= status < 300 and isinstance(body, dict):
            try:
                output = parse_chat_response(body)
            except (AttributeError, KeyError, TypeError, ValueError) as exc:
                return ModelError(f"{endpoint} batch answered with an unexpected completion ({exc})")
            output.batched = True
            return output
        raw = dumps(body) if body is not None else b""
        return map_status(status or 500, {}, raw, endpoint, model)
    error = error if isinstance(error, dict) else {}
    code, message = str(error.get("code") or "unknown"), str(error.get("message") or "no message")
    if code in RETRYABLE_CODES:
        return TransientModelError(f"{endpoint} batch did not answer this request ({code}: {message})")
    return ModelError(f"{endpoint} batch refused this request ({code}: {message})")


class BatchClient:
    """Collects concurrent calls of one event loop into waves and runs each wave as one batch."""

    def __init__(self, transport: ChatTransport, endpoint: str, model: str, settings: BatchSettings) -> None:
        self.transport = transport
        self.endpoint = endpoint
        self.model = model
        self.settings = settings
        self._ids = itertools.count()
        self._pending: list[tuple[str, dict[str, Any], asyncio.Future[ModelOutput]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waves: set[asyncio.Task[None]] = set()
        self.batches_submitted = 0

    async def generate(self, body: dict[str, Any]) -> ModelOutput:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new run (asyncio.run per run): nothing carries over
            self._loop, self._pending, self._timer = loop, [], None
        future: asyncio.Future[ModelOutput] = loop.create_future()
        self._pending.append((f"eb-{next(self._ids)}", body, future))
        if len(self._pending) >= self.settings.size:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self.settings.window_s, self._flush)
        return await future

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        wave, self._pending = self._pending, []
        wave = [item for item in wave if not item[2].done()]  # calls cancelled while waiting
        if not wave:
            return
        task = asyncio.get_running_loop().create_task(self._run_wave(wave))
        self._waves.add(task)
        task.add_done_callback(self._waves.discard)

    async def _run_wave(self, wave: list[tuple[str, dict[str, Any], asyncio.Future[ModelOutput]]]) -> None:
        try:
            results = await self._execute([(custom_id, body) for custom_id, body, _ in wave])
        except asyncio.CancelledError:
            for _, _, future in wave:
                future.cancel()
            raise
        except Exception as exc:
            error = exc if isinstance(exc, ModelError) else map_exception(exc, self.endpoint) or ModelError(str(exc))
            results = {custom_id: error for custom_id, _, _ in wave}
        for custom_id, _, future in wave:
            if future.done():
                continue
            outcome = results.get(custom_id) or TransientModelError(
                f"{self.endpoint} batch returned no line for request {custom_id}"
            )
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    async def _call(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None) -> bytes:
        headers = {"Content-Type": content_type} if content_type else None
        reply = await self.transport.request(method, path, body, headers)
        if not 200 <= reply.status < 300:
            raise map_status(reply.status, reply.headers, reply.body, self.endpoint, self.model)
        return reply.body

    async def _execute(self, requests: list[tuple[str, dict[str, Any]]]) -> dict[str, ModelOutput | ModelError]:
        lines = b"\n".join(
            dumps({"custom_id": custom_id, "method": "POST", "url": CHAT_URL, "body": body})
            for custom_id, body in requests
        )
        form, content_type = multipart({"purpose": "batch"}, "emergebench-batch.jsonl", lines + b"\n")
        uploaded = loads(await self._call("POST", "/files", form, content_type))
        create = {
            "input_file_id": uploaded["id"],
            "endpoint": CHAT_URL,
            "completion_window": self.settings.completion_window,
        }
        batch = loads(await self._call("POST", "/batches", dumps(create), "application/json"))
        self.batches_submitted += 1
        try:
            while batch.get("status") not in TERMINAL:
                await asyncio.sleep(self.settings.poll_s)
                batch = loads(await self._call("GET", f"/batches/{batch['id']}"))
        except asyncio.CancelledError:  # the run was stopped: do not leave the batch running (and billing)
            await asyncio.shield(self._cancel(batch["id"]))
            raise
        results: dict[str, ModelOutput | ModelError] = {}
        for key in ("output_file_id", "error_file_id"):
            if batch.get(key):
                content = await self._call("GET", f"/files/{batch[key]}/content")
                for line in content.splitlines():
                    if line.strip():
                        record = loads(line)
                        results[str(record.get("custom_id"))] = result_of_line(record, self.endpoint, self.model)
        if batch.get("status") == "failed" and not results:
            first = ((batch.get("errors") or {}).get("data") or [{}])[0]
            message = server_message(dumps({"error": first}))
            raise ModelError(f"{self.endpoint} batch {batch['id']} failed: {message}")
        return results

    async def _cancel(self, batch_id: str) -> None:
        try:
            await self._call("POST", f"/batches/{batch_id}/cancel", b"{}", "application/json")
        except Exception:  # best effort: the batch expires on its own
            pass
