"""The Batch API of the fake OpenAI server: ``/v1/files`` (multipart upload, content download) and
``/v1/batches`` (create, retrieve, cancel), with batches that complete, expire part-way or fail.

Each request line is answered by the server's own ``behaviour``, as a direct chat call would be, so
a test can make some lines fail (their non-2xx replies go to the error file, as OpenAI does). A
``fate`` callable picks, per batch, whether it completes, expires after answering some lines (the
rest get ``batch_expired`` in the error file) or fails validation (no files at all).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .openai_server import FakeOpenAIServer


@dataclass
class BatchFate:
    status: str = "completed"  # completed, expired or failed
    answered: int | None = None  # expired: how many lines were answered before the window closed


Fate = Callable[[int, int], BatchFate]  # (batch number from 0, lines in it) -> its fate
Routed = tuple[int, dict[str, str], Any, float]  # status, headers, payload, delay (as FakeOpenAIServer.route)
TERMINAL = ("completed", "failed", "expired", "cancelled")


def multipart_file(body: bytes, content_type: str) -> bytes | None:
    """The ``file`` part of a multipart/form-data body."""
    marker = "boundary="
    if marker not in content_type:
        return None
    boundary = content_type.split(marker, 1)[1].split(";")[0].strip().strip('"').encode()
    for part in body.split(b"--" + boundary):
        head, sep, content = part.partition(b"\r\n\r\n")
        if sep and b'name="file"' in head:
            return content[:-2] if content.endswith(b"\r\n") else content
    return None


def _error(status: int, message: str) -> Routed:
    return status, {}, {"error": {"message": message, "type": "invalid_request_error"}}, 0.0


class BatchStore:
    def __init__(self, server: FakeOpenAIServer, fate: Fate | None = None, latency_s: float = 0.0) -> None:
        self.server = server
        self.fate = fate or (lambda index, n: BatchFate())
        self.latency_s = latency_s
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.lines_seen = 0

    def route(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict, Any, float] | None:
        parts = path.rstrip("/").split("/")
        if "files" in parts:
            rest = parts[parts.index("files") + 1 :]
            if method == "POST" and not rest:
                return self._upload(headers, body)
            if method == "GET" and len(rest) == 2 and rest[1] == "content":
                content = self.files.get(rest[0])
                return (200, {}, content, 0.0) if content is not None else _error(404, f"no file {rest[0]}")
            return None
        if "batches" in parts:
            rest = parts[parts.index("batches") + 1 :]
            if method == "POST" and not rest:
                return self._create(body)
            batch = self.batches.get(rest[0]) if rest else None
            if batch is None:
                return _error(404, f"no batch {rest[0] if rest else ''}")
            if method == "GET" and len(rest) == 1:
                return 200, {}, self._view(batch), 0.0
            if method == "POST" and rest[1:] == ["cancel"]:
                batch["status"] = (
                    "cancelled" if batch["status"] not in ("completed", "failed", "expired") else batch["status"]
                )
                batch["output_file_id"] = batch["error_file_id"] = None
                return 200, {}, self._view(batch), 0.0
        return None

    def _upload(self, headers: dict[str, str], body: bytes) -> Routed:
        content = multipart_file(body, headers.get("content-type", ""))
        if content is None:
            return _error(400, "expected multipart/form-data with a 'file' part")
        file_id = f"file-{len(self.files)}"
        self.files[file_id] = content
        return 200, {}, {"id": file_id, "object": "file", "bytes": len(content), "purpose": "batch"}, 0.0

    def _create(self, body: bytes) -> Routed:
        try:
            request = json.loads(body)
            lines = [json.loads(line) for line in self.files[request["input_file_id"]].splitlines() if line.strip()]
        except (KeyError, ValueError, TypeError) as exc:
            return _error(400, f"bad batch request: {exc}")
        index = len(self.batches)
        batch_id = f"batch_{index}"
        fate = self.fate(index, len(lines))
        batch: dict[str, Any] = {
            "id": batch_id,
            "object": "batch",
            "endpoint": request.get("endpoint"),
            "input_file_id": request["input_file_id"],
            "completion_window": request.get("completion_window", "24h"),
            "status": "in_progress",
            "created_at": int(time.time()),
            "ready_at": time.monotonic() + self.latency_s,
            "final": fate.status,
            "output_file_id": None,
            "error_file_id": None,
            "errors": None,
            "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
        }
        self.batches[batch_id] = batch
        if fate.status == "failed":
            batch["errors"] = {"object": "list", "data": [{"code": "invalid_file", "message": "injected failure"}]}
            return 200, {}, self._view(batch), 0.0
        answered = len(lines) if fate.status != "expired" else min(fate.answered or 0, len(lines))
        output: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for number, line in enumerate(lines):
            custom_id = line.get("custom_id")
            if number >= answered:
                errors.append(
                    {
                        "id": f"req_{number}",
                        "custom_id": custom_id,
                        "response": None,
                        "error": {"code": "batch_expired", "message": "not run before the window closed"},
                    }
                )
                continue
            self.lines_seen += 1
            status, _, payload, _ = self.server.chat(line.get("body") or {})
            if not isinstance(payload, dict):  # a dropped or malformed reply, as a batch line
                status, payload = 500, {"error": {"message": "injected server error", "type": "server_error"}}
            record = {
                "id": f"req_{number}",
                "custom_id": custom_id,
                "response": {"status_code": status, "request_id": f"r{number}", "body": payload},
                "error": None,
            }
            (output if status == 200 else errors).append(record)
        batch["request_counts"].update(completed=len(output), failed=len(errors))
        for key, records in (("output_file_id", output), ("error_file_id", errors)):
            if records:
                file_id = f"file-{len(self.files)}"
                self.files[file_id] = b"".join(json.dumps(r).encode() + b"\n" for r in records)
                batch[key] = file_id
        return 200, {}, self._view(batch), 0.0

    def _view(self, batch: dict[str, Any]) -> dict[str, Any]:
        if batch["status"] == "in_progress" and time.monotonic() >= batch["ready_at"]:
            batch["status"] = batch["final"]
        view = {k: v for k, v in batch.items() if k not in ("ready_at", "final")}
        if view["status"] == "in_progress":  # files appear only once the batch is over
            view["output_file_id"] = view["error_file_id"] = None
        return view
