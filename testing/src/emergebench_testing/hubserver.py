"""A Hugging Face Hub API test server: stdlib only, in a background thread, for the real client.

No installable Hub-compatible server exists, and tests must never reach the network, so this module
speaks the subset of the Hub's HTTP API that ``huggingface_hub`` (2.x) uses for repos, commits,
listings and downloads (see docs/registry.md, "Hub test server"). ``upload_mode="regular"`` answers
every preupload with ``regular`` (bytes travel base64 inside the commit); ``upload_mode="lfs"`` answers
``lfs`` for .parquet files as huggingface.co does, and serves the Git LFS batch API (basic transfer:
batch, PUT, verify), ``lfsFile`` commit operations, LFS tree entries and ``X-Linked-Etag``/``Size`` on
downloads. The Xet protocol is not served: clients that have ``hf_xet`` must set ``HF_HUB_DISABLE_XET``
to take the LFS path (what huggingface_hub does when hf_xet is absent). The mode can be changed
between commits, so one repo can hold files uploaded each way. Failures the real Hub produces (412
stale parent, 409 commit in progress, 429 quota, 5xx) can be injected so retry logic is tested against
the real client's behaviour.

Usage::

    with HubServer() as hub:
        hub.create_repo("org/name", repo_type="dataset")
        hub.put_files("org/name", {"data/a.csv": b"x,y\\n"}, repo_type="dataset")
        HfApi(endpoint=hub.endpoint, token=hub.token).list_repo_files("org/name", repo_type="dataset")
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

__all__ = ["HubServer", "HubError", "git_blob_sha"]

REPO_TYPES = ("model", "dataset", "space")
UPLOAD_MODES = ("regular", "lfs")
LFS_SUFFIXES = (".parquet", ".arrow", ".bin", ".safetensors", ".gguf")  # as in the Hub's default .gitattributes
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
MAX_BODY_BYTES = 512 * 1024 * 1024
TREE_PAGE_SIZE = 1000
SHA_RE = re.compile(r"^[0-9a-f]{7,40}$")
DEFAULT_MESSAGES = {
    409: "Another commit operation is in progress, please retry later",
    412: "A commit has happened since. Please refresh and try again.",
    429: "You have exceeded the rate limit for repository commits, please retry later",
    500: "Internal Error - We're working hard to fix this as soon as possible!",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def git_blob_sha(data: bytes) -> str:
    """The git blob id of ``data``: what the Hub reports as a regular file's oid and ETag."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class HubError(Exception):
    """An HTTP error answer: status, message and the Hub's ``X-Error-Code`` where it has one."""

    def __init__(self, status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers or {}


@dataclass
class Commit:
    sha: str
    parent: str | None
    files: dict[str, bytes]
    title: str
    message: str
    author: str
    date: datetime
    lfs: dict[str, str] = field(default_factory=dict)  # path -> sha256 of files stored through LFS


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    created_at: datetime
    branches: dict[str, str] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)
    pr_count: int = 0

    def resolve(self, revision: str) -> Commit:
        """A branch name, a full commit sha or an unambiguous prefix of at least 7 hex digits."""
        if revision in self.branches:
            return self.commits[self.branches[revision]]
        if SHA_RE.match(revision):
            found = [sha for sha in self.commits if sha.startswith(revision)]
            if len(found) == 1:
                return self.commits[found[0]]
        raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")


@dataclass
class Injection:
    status: int
    times: int
    retry_after: float | None
    path_contains: str | None
    method: str | None
    message: str | None

    def matches(self, method: str, path: str) -> bool:
        if self.times <= 0:
            return False
        if self.method is not None and self.method.upper() != method:
            return False
        return self.path_contains is None or self.path_contains in path


class HubServer:
    """An in-memory Hub on 127.0.0.1 (port 0 by default) served from a daemon thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        user: str = "tester",
        upload_mode: str = "regular",
    ):
        if upload_mode not in UPLOAD_MODES:
            raise ValueError(f"upload_mode must be one of {UPLOAD_MODES}, got {upload_mode!r}")
        self.token = token or "hf_test_" + secrets.token_hex(16)
        self.user = user
        self.upload_mode = upload_mode
        self._lfs_objects: dict[str, bytes] = {}  # sha256 -> bytes uploaded through the LFS batch API
        self.requests: list[tuple[str, str]] = []
        self._host = host
        self._port = port
        self._lock = threading.RLock()
        self._repos: dict[tuple[str, str], Repo] = {}
        self._injections: list[Injection] = []
        self._listeners: list[Callable[[str, str], None]] = []
        self._counter = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> HubServer:
        if self._server is not None:
            return self
        handler = type("BoundHubHandler", (_Handler,), {"hub": self})
        self._server = ThreadingHTTPServer((self._host, self._port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="hubserver", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        if self._server is None:
            raise RuntimeError("HubServer is not running: call start() or use it as a context manager")
        host, port = self._server.server_address[:2]
        if isinstance(host, bytes):  # typeshed allows an AF_UNIX address; this server binds AF_INET
            host = host.decode()
        return f"http://{host}:{port}"

    # -- seeding and inspection (no HTTP) ---------------------------------------------------------
    def create_repo(self, repo_id: str, repo_type: str = "model", exist_ok: bool = False) -> None:
        """Create an empty repo whose ``main`` holds one initial commit (as the Hub does)."""
        _check_repo_id(repo_id)
        _check_repo_type(repo_type)
        with self._lock:
            key = (repo_type, repo_id)
            if key in self._repos:
                if exist_ok:
                    return
                raise HubError(409, f"You already created this {repo_type} repo: {repo_id}")
            repo = Repo(repo_type, repo_id, datetime.now(UTC))
            self._repos[key] = repo
            first = self._new_commit(repo, None, {}, "initial commit", "")
            repo.branches["main"] = first.sha

    def put_files(
        self,
        repo_id: str,
        files: Mapping[str, bytes],
        repo_type: str = "model",
        message: str = "seed",
        revision: str = "main",
        delete: list[str] | None = None,
        lfs: bool = False,
        hostile_names: bool = False,
    ) -> str:
        """Commit ``files`` (and deletions) to branch ``revision`` (created from main if new); returns the sha.

        With ``lfs`` the files are stored as LFS objects, as if uploaded through the batch API. With
        ``hostile_names`` paths are stored unchecked (``data/../../x``), as a hostile mirror would list them.
        """
        with self._lock:
            repo = self._repo(repo_type, repo_id)
            if revision not in repo.branches:
                repo.branches[revision] = repo.branches["main"]
            parent = repo.commits[repo.branches[revision]]
            new_files = dict(parent.files)
            new_lfs = dict(parent.lfs)
            for path, data in files.items():
                new_files[path if hostile_names else _check_path(path)] = bytes(data)
                new_lfs.pop(path, None)
                if lfs:
                    new_lfs[path] = hashlib.sha256(data).hexdigest()
                    self._lfs_objects[new_lfs[path]] = bytes(data)
            for path in delete or []:
                new_files.pop(path, None)
                new_lfs.pop(path, None)
            commit = self._new_commit(repo, parent.sha, new_files, message, "", new_lfs)
            repo.branches[revision] = commit.sha
            return commit.sha

    def create_branch(self, repo_id: str, branch: str, repo_type: str = "model", revision: str = "main") -> None:
        """Create a branch such as ``refs/convert/parquet`` pointing at ``revision``."""
        with self._lock:
            repo = self._repo(repo_type, repo_id)
            repo.branches[branch] = repo.resolve(revision).sha

    def head(self, repo_id: str, repo_type: str = "model", revision: str = "main") -> str:
        with self._lock:
            return self._repo(repo_type, repo_id).resolve(revision).sha

    def files(self, repo_id: str, repo_type: str = "model", revision: str = "main") -> dict[str, bytes]:
        with self._lock:
            return dict(self._repo(repo_type, repo_id).resolve(revision).files)

    def lfs_files(self, repo_id: str, repo_type: str = "model", revision: str = "main") -> dict[str, str]:
        """Paths stored through LFS at ``revision``, with their sha256."""
        with self._lock:
            return dict(self._repo(repo_type, repo_id).resolve(revision).lfs)

    def branches(self, repo_id: str, repo_type: str = "model") -> dict[str, str]:
        with self._lock:
            return dict(self._repo(repo_type, repo_id).branches)

    def commit_titles(self, repo_id: str, repo_type: str = "model", revision: str = "main") -> list[str]:
        """Titles of the commits reachable from ``revision``, newest first."""
        with self._lock:
            return [c.title for c in self._history(self._repo(repo_type, repo_id), revision)]

    def inject(
        self,
        status: int,
        times: int = 1,
        retry_after: float | None = None,
        path_contains: str | None = None,
        method: str | None = None,
        message: str | None = None,
    ) -> None:
        """Make the next ``times`` matching requests fail with ``status`` (and ``Retry-After`` if given)."""
        if not 400 <= status <= 599:
            raise ValueError(f"inject status must be an HTTP error code (400-599), got {status}")
        with self._lock:
            self._injections.append(Injection(status, times, retry_after, path_contains, method, message))

    def on_request(self, listener: Callable[[str, str], None]) -> None:
        """Call ``listener(method, path)`` before each request is handled (e.g. to move a head mid-push)."""
        self._listeners.append(listener)

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- internals ------------------------------------------------------------------------------
    def _repo(self, repo_type: str, repo_id: str) -> Repo:
        repo = self._repos.get((repo_type, repo_id))
        if repo is None:
            raise HubError(404, f"Repository not found: {repo_type} {repo_id}", "RepoNotFound")
        return repo

    def _new_commit(
        self,
        repo: Repo,
        parent: str | None,
        files: dict[str, bytes],
        title: str,
        msg: str,
        lfs: dict[str, str] | None = None,
    ) -> Commit:
        self._counter += 1
        seed = f"{repo.repo_id}\n{parent}\n{title}\n{self._counter}\n{secrets.token_hex(8)}"
        sha = hashlib.sha1(seed.encode()).hexdigest()
        commit = Commit(sha, parent, files, title, msg, self.user, datetime.now(UTC), dict(lfs or {}))
        repo.commits[sha] = commit
        return commit

    def _history(self, repo: Repo, revision: str) -> list[Commit]:
        out: list[Commit] = []
        commit: Commit | None = repo.resolve(revision)
        while commit is not None:
            out.append(commit)
            commit = repo.commits.get(commit.parent) if commit.parent else None
        return out

    def _take_injection(self, method: str, path: str) -> Injection | None:
        with self._lock:
            for injection in self._injections:
                if injection.matches(method, path):
                    injection.times -= 1
                    return injection
            self._injections = [i for i in self._injections if i.times > 0]
        return None


def _check_repo_id(repo_id: str) -> None:
    parts = repo_id.split("/")
    if len(parts) != 2 or not all(re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", p) for p in parts):
        raise HubError(400, f"invalid repo id {repo_id!r}: write it as ORG/NAME")


def _check_repo_type(repo_type: str) -> None:
    if repo_type not in REPO_TYPES:
        raise HubError(400, f"invalid repo type {repo_type!r}: use one of {', '.join(REPO_TYPES)}")


def _check_path(path: str) -> str:
    if not path or path.startswith("/") or any(part in ("", ".", "..") for part in path.split("/")):
        raise HubError(400, f"invalid path in repo {path!r}")
    return path


def _lfs_pointer(sha256: str, size: int) -> bytes:
    """The Git LFS pointer file git stores in place of an LFS object."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass(frozen=True)
class Call:
    """One routed request: its method and body, and what the route's pattern captured (unquoted)."""

    method: str
    body: bytes
    repo_type: str = "model"
    repo_id: str = ""
    revision: str = "main"
    path: str = ""
    oid: str = ""

    def payload(self) -> dict[str, Any]:
        value = json.loads(self.body or b"{}")
        if not isinstance(value, dict):
            raise HubError(400, "the request body must be a JSON object")
        return value


@dataclass(frozen=True)
class Route:
    """``methods`` on a path matching ``pattern`` (the raw path, segments still percent-encoded) go to
    ``handler``; named groups ``kind``, ``org``, ``name``, ``rev``, ``path`` and ``oid`` fill the
    :class:`Call`."""

    methods: tuple[str, ...]
    pattern: re.Pattern[str]
    handler: Callable[[_Handler, Call], None]


def match_route(method: str, raw_path: str, body: bytes = b"") -> tuple[Route, Call] | None:
    """The first route whose pattern and method match, with the call it captured; None for a 404."""
    for route in ROUTES:
        match = route.pattern.fullmatch(raw_path)
        if match is None or method not in route.methods:
            continue
        groups = {key: unquote(value) for key, value in match.groupdict().items() if value is not None}
        kind = groups.get("kind", "models")
        call = Call(
            method=method,
            body=body,
            repo_type=kind[:-1],
            repo_id=f"{groups['org']}/{groups['name']}" if "org" in groups else "",
            revision=groups.get("rev", "main"),
            path=groups.get("path", ""),
            oid=groups.get("oid", ""),
        )
        return route, call
    return None


def _check_oid(oid: str) -> str:
    if not SHA256_RE.match(oid):
        raise HubError(400, f"bad LFS oid {oid!r}")
    return oid


class _Handler(BaseHTTPRequestHandler):
    """Routes one request to the bound :class:`HubServer` state."""

    hub: HubServer
    protocol_version = "HTTP/1.1"
    server_version = "emergebench-hubserver/1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr logging
        return

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    # -- plumbing -------------------------------------------------------------------------------
    def _dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        raw_parts = [p for p in split.path.split("/") if p]
        parts = [unquote(p) for p in raw_parts]
        shown = "/" + "/".join(parts)
        self.query = parse_qs(split.query)
        try:
            body = self._read_body()
        except HubError as exc:
            self._error(exc)
            return
        hub = self.hub
        with hub._lock:
            hub.requests.append((method, shown))
        for listener in list(hub._listeners):
            listener(method, shown)
        injection = hub._take_injection(method, shown)
        if injection is not None:
            headers = {}
            if injection.retry_after is not None:
                headers["Retry-After"] = f"{injection.retry_after:g}"
            message = injection.message or DEFAULT_MESSAGES.get(injection.status, "injected failure")
            self._error(HubError(injection.status, message, headers=headers))
            return
        try:
            self._route(method, "/" + "/".join(raw_parts), shown, body)
        except HubError as exc:
            self._error(exc)
        except (ValueError, KeyError, TypeError) as exc:
            self._error(HubError(400, f"bad request: {exc}"))

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            total = 0
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                total += size
                if total > MAX_BODY_BYTES:
                    raise HubError(413, "request body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise HubError(413, "request body too large")
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None, ctype: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype or "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, value: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(value).encode(), headers)

    def _error(self, exc: HubError) -> None:
        headers = {"X-Error-Message": exc.message.replace("\n", " ")}
        if exc.code:
            headers["X-Error-Code"] = exc.code
        headers.update(exc.headers)
        self._json({"error": exc.message}, exc.status, headers)

    def _authorize(self) -> None:
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            raise HubError(401, "You must be authenticated to write to a repo: pass a token")
        if auth[len("Bearer ") :] != self.hub.token:
            raise HubError(401, "Invalid credentials in Authorization header")

    # -- routing --------------------------------------------------------------------------------
    def _route(self, method: str, raw_path: str, shown: str, body: bytes) -> None:
        found = match_route(method, raw_path, body)
        if found is None:
            raise HubError(404, f"no such route: {method} {shown}")
        route, call = found
        route.handler(self, call)

    # -- endpoints ------------------------------------------------------------------------------
    def _create_repo(self, call: Call) -> None:
        self._authorize()
        payload = call.payload()
        repo_type = payload.get("type") or "model"
        name = payload.get("name")
        org = payload.get("organization") or self.hub.user
        repo_id = f"{org}/{name}"
        prefix = "" if repo_type == "model" else f"{repo_type}s/"
        url = f"{self.hub.endpoint}/{prefix}{repo_id}"
        try:
            self.hub.create_repo(repo_id, repo_type)
        except HubError as exc:
            if exc.status == 409:
                self._json({"error": exc.message, "url": url}, 409, {"X-Error-Message": exc.message})
                return
            raise
        self._json({"url": url, "name": repo_id})

    def _delete_repo(self, call: Call) -> None:
        self._authorize()
        payload = call.payload()
        repo_type = payload.get("type") or "model"
        repo_id = f"{payload['organization']}/{payload['name']}" if payload.get("organization") else payload["name"]
        with self.hub._lock:
            self.hub._repo(repo_type, repo_id)
            del self.hub._repos[(repo_type, repo_id)]
        self._json({})

    def _validate_yaml(self, call: Call) -> None:
        self._json({"errors": [], "warnings": []})

    def _whoami(self, call: Call) -> None:
        self._authorize()
        self._json({"type": "user", "name": self.hub.user, "auth": {"type": "access_token"}})

    def _repo_info(self, call: Call) -> None:
        hub = self.hub
        repo_id = call.repo_id
        with hub._lock:
            repo = hub._repo(call.repo_type, repo_id)
            commit = repo.resolve(call.revision)
            siblings = [{"rfilename": path} for path in sorted(commit.files)]
        self._json(
            {
                "_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24],
                "id": repo_id,
                "author": repo_id.split("/")[0],
                "sha": commit.sha,
                "lastModified": _iso(commit.date),
                "createdAt": _iso(repo.created_at),
                "private": False,
                "disabled": False,
                "gated": False,
                "downloads": 0,
                "likes": 0,
                "tags": [],
                "siblings": siblings,
            }
        )

    def _preupload(self, call: Call) -> None:
        self._authorize()
        with self.hub._lock:
            repo = self.hub._repo(call.repo_type, call.repo_id)
            files = {} if "create_pr" in self.query else repo.resolve(call.revision).files
        answer = []
        for item in call.payload().get("files", []):
            path = _check_path(item["path"])
            existing = files.get(path)
            lfs = self.hub.upload_mode == "lfs" and path.endswith(LFS_SUFFIXES)
            oid = None
            if existing is not None:
                oid = hashlib.sha256(existing).hexdigest() if lfs else git_blob_sha(existing)
            answer.append({"path": path, "uploadMode": "lfs" if lfs else "regular", "shouldIgnore": False, "oid": oid})
        self._json({"files": answer, "commitOid": None})

    def _commit(self, call: Call) -> None:
        self._authorize()
        repo_type, repo_id, revision = call.repo_type, call.repo_id, call.revision
        header: dict[str, Any] | None = None
        adds: dict[str, bytes] = {}
        lfs_adds: dict[str, str] = {}
        deletes: list[str] = []
        folders: list[str] = []
        for number, line in enumerate(call.body.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                key, value = item["key"], item["value"]
            except (ValueError, KeyError, TypeError) as exc:
                raise HubError(400, f"commit payload line {number} is not a valid operation: {exc}") from None
            if key == "header":
                header = value
            elif key == "file":
                if value.get("encoding", "base64") != "base64":
                    raise HubError(400, f"unsupported encoding {value.get('encoding')!r} for {value.get('path')}")
                adds[_check_path(value["path"])] = base64.b64decode(value["content"], validate=True)
            elif key == "deletedFile":
                deletes.append(_check_path(value["path"]))
            elif key == "deletedFolder":
                folders.append(value["path"].rstrip("/"))
            elif key == "lfsFile":
                path, oid = _check_path(value["path"]), str(value.get("oid", ""))
                if value.get("algo", "sha256") != "sha256" or not SHA256_RE.match(oid):
                    raise HubError(400, f"lfsFile {path!r} needs a sha256 oid")
                with self.hub._lock:
                    data = self.hub._lfs_objects.get(oid)
                if data is None or ("size" in value and value["size"] != len(data)):
                    raise HubError(422, f"LFS object {oid} for {path!r} was never uploaded (or its size differs)")
                adds[path] = data
                lfs_adds[path] = oid
            else:
                raise HubError(400, f"unknown commit operation {key!r} on line {number}")
        if header is None or not header.get("summary"):
            raise HubError(400, "commit payload has no header with a summary")
        create_pr = self.query.get("create_pr", ["0"])[0] in ("1", "true", "True")
        hub = self.hub
        with hub._lock:
            repo = hub._repo(repo_type, repo_id)
            parent_sha = header.get("parentCommit")
            if create_pr:
                base = repo.resolve(parent_sha) if parent_sha else repo.resolve(revision)
                repo.pr_count += 1
                num = repo.pr_count
                branch = f"refs/pr/{num}"
            else:
                if revision not in repo.branches:
                    raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
                base = repo.resolve(revision)
                if parent_sha is not None and parent_sha != base.sha:
                    raise HubError(412, DEFAULT_MESSAGES[412])
                branch = revision
            files = dict(base.files)
            lfs = dict(base.lfs)
            for path in deletes:
                if path not in files:
                    raise HubError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
                del files[path]
                lfs.pop(path, None)
            for folder in folders:
                for path in [p for p in files if p == folder or p.startswith(folder + "/")]:
                    del files[path]
                    lfs.pop(path, None)
            files.update(adds)
            for path in adds:
                lfs.pop(path, None)
            lfs.update(lfs_adds)
            commit = hub._new_commit(repo, base.sha, files, header["summary"], header.get("description") or "", lfs)
            repo.branches[branch] = commit.sha
            prefix = "" if repo_type == "model" else f"{repo_type}s/"
            url = f"{hub.endpoint}/{prefix}{repo_id}"
            answer: dict[str, Any] = {
                "success": True,
                "commitOid": commit.sha,
                "commitUrl": f"{url}/commit/{commit.sha}",
            }
            if create_pr:
                answer["pullRequestUrl"] = f"{url}/discussions/{num}"
        self._json(answer)

    def _entry(self, commit: Commit, path: str, is_folder: bool) -> dict[str, Any]:
        if is_folder:
            inner = sorted(p for p in commit.files if p.startswith(path + "/"))
            oid = hashlib.sha1("\n".join(inner).encode()).hexdigest()
            return {"type": "directory", "oid": oid, "path": path, "size": 0}
        data = commit.files[path]
        sha256 = commit.lfs.get(path)
        if sha256 is None:
            return {"type": "file", "oid": git_blob_sha(data), "size": len(data), "path": path}
        pointer = _lfs_pointer(sha256, len(data))
        return {
            "type": "file",
            "oid": git_blob_sha(pointer),  # git stores the pointer; the Hub reports its blob id
            "size": len(data),
            "path": path,
            "lfs": {"oid": sha256, "size": len(data), "pointerSize": len(pointer)},
        }

    def _tree(self, call: Call) -> None:
        recursive = self.query.get("recursive", ["false"])[0].lower() in ("1", "true")
        base = call.path
        with self.hub._lock:
            commit = self.hub._repo(call.repo_type, call.repo_id).resolve(call.revision)
            prefix = base.rstrip("/") + "/" if base else ""
            if base and base in commit.files:
                entries = [self._entry(commit, base, False)]
            else:
                files = sorted(p for p in commit.files if p.startswith(prefix))
                if base and not files:
                    raise HubError(404, f"Entry not found: {base}", "EntryNotFound")
                entries = []
                seen: set[str] = set()
                for path in files:
                    rel = path[len(prefix) :].split("/")
                    for depth in range(1, len(rel)):
                        folder = prefix + "/".join(rel[:depth])
                        if folder not in seen and (recursive or depth == 1):
                            seen.add(folder)
                            entries.append(self._entry(commit, folder, True))
                    if recursive or len(rel) == 1:
                        entries.append(self._entry(commit, path, False))
        cursor = int(self.query.get("cursor", ["0"])[0])
        page = entries[cursor : cursor + TREE_PAGE_SIZE]
        headers = {}
        if cursor + TREE_PAGE_SIZE < len(entries):
            split = urlsplit(self.path)
            query = {k: v[0] for k, v in self.query.items() if k != "cursor"}
            query["cursor"] = str(cursor + TREE_PAGE_SIZE)
            qs = "&".join(f"{quote(k)}={quote(v)}" for k, v in query.items())
            headers["Link"] = f'<{self.hub.endpoint}{split.path}?{qs}>; rel="next"'
        self._json(page, headers=headers)

    def _paths_info(self, call: Call) -> None:
        ctype = self.headers.get("Content-Type", "")
        if "json" in ctype:
            paths = call.payload().get("paths", [])
        else:
            paths = parse_qs(call.body.decode()).get("paths", [])
        with self.hub._lock:
            commit = self.hub._repo(call.repo_type, call.repo_id).resolve(call.revision)
            out = []
            for path in paths:
                path = path.strip("/")
                if path in commit.files:
                    out.append(self._entry(commit, path, False))
                elif any(p.startswith(path + "/") for p in commit.files):
                    out.append(self._entry(commit, path, True))
        self._json(out)

    def _commits(self, call: Call) -> None:
        with self.hub._lock:
            history = self.hub._history(self.hub._repo(call.repo_type, call.repo_id), call.revision)
            items = [
                {
                    "id": c.sha,
                    "title": c.title,
                    "message": c.message,
                    "date": _iso(c.date),
                    "authors": [{"user": c.author}],
                }
                for c in history
            ]
        self._json(items)

    def _refs(self, call: Call) -> None:
        with self.hub._lock:
            repo = self.hub._repo(call.repo_type, call.repo_id)
            branches: list[dict[str, str]] = []
            converts: list[dict[str, str]] = []
            prs: list[dict[str, str]] = []
            for name, sha in sorted(repo.branches.items()):
                ref = f"refs/heads/{name}" if not name.startswith("refs/") else name
                entry = {"name": name.split("/")[-1], "ref": ref, "targetCommit": sha}
                (
                    prs if name.startswith("refs/pr/") else converts if name.startswith("refs/convert/") else branches
                ).append(entry)
        self._json({"branches": branches, "converts": converts, "tags": [], "pullRequests": prs})

    def _create_branch(self, call: Call) -> None:
        self._authorize()
        branch = call.revision
        with self.hub._lock:
            repo = self.hub._repo(call.repo_type, call.repo_id)
            if branch in repo.branches:
                raise HubError(409, f"Reference already exists: {branch}")
            repo.branches[branch] = repo.resolve(call.payload().get("startingPoint") or "main").sha
        self._json({})

    def _delete_branch(self, call: Call) -> None:
        self._authorize()
        branch = call.revision
        with self.hub._lock:
            repo = self.hub._repo(call.repo_type, call.repo_id)
            if branch not in repo.branches or branch == "main":
                raise HubError(404, f"Invalid rev id: {branch}", "RevisionNotFound")
            del repo.branches[branch]
        self._json({})

    def _lfs_batch(self, call: Call) -> None:
        """Git LFS batch API (upload, basic transfer): an upload action for each object not yet stored."""
        self._authorize()
        payload = call.payload()
        with self.hub._lock:
            self.hub._repo(call.repo_type, call.repo_id)
        if payload.get("operation") != "upload":
            raise HubError(400, "this test server only serves LFS uploads through the batch API")
        objects = []
        for item in payload.get("objects", []):
            oid, size = str(item.get("oid", "")), item.get("size")
            if not SHA256_RE.match(oid) or not isinstance(size, int) or size < 0:
                objects.append({"oid": oid, "size": size or 0, "error": {"code": 422, "message": "bad oid or size"}})
                continue
            with self.hub._lock:
                stored = oid in self.hub._lfs_objects
            entry: dict[str, Any] = {"oid": oid, "size": size}
            if not stored:
                base = f"{self.hub.endpoint}/_lfs/{oid}"
                entry["actions"] = {"upload": {"href": base}, "verify": {"href": base + "/verify"}}
            objects.append(entry)
        self._send(
            200,
            json.dumps({"transfer": "basic", "objects": objects}).encode(),
            ctype="application/vnd.git-lfs+json",
        )

    def _lfs_upload(self, call: Call) -> None:
        """PUT the bytes of an LFS object, checked against its sha256."""
        oid = _check_oid(call.oid)
        if hashlib.sha256(call.body).hexdigest() != oid:
            raise HubError(400, f"uploaded bytes do not hash to {oid}")
        with self.hub._lock:
            self.hub._lfs_objects[oid] = call.body
        self._send(200, b"")

    def _lfs_verify(self, call: Call) -> None:
        """POST to verify that an LFS object is stored with the size the client expects."""
        oid = _check_oid(call.oid)
        self._authorize()
        payload = call.payload()
        with self.hub._lock:
            data = self.hub._lfs_objects.get(oid)
        if data is None or payload.get("oid") != oid or payload.get("size") != len(data):
            raise HubError(404, f"LFS object {oid} is not stored with that size")
        self._json({"success": True})

    def _resolve(self, call: Call) -> None:
        path = call.path
        with self.hub._lock:
            commit = self.hub._repo(call.repo_type, call.repo_id).resolve(call.revision)
            data = commit.files.get(path)
            sha256 = commit.lfs.get(path)
        if data is None:
            raise HubError(404, f"Entry not found: {path}", "EntryNotFound")
        headers = {
            "ETag": f'"{sha256 or git_blob_sha(data)}"',
            "X-Repo-Commit": commit.sha,
            "Accept-Ranges": "bytes",
        }
        if sha256 is not None:  # as huggingface.co answers for LFS files (before its CDN redirect)
            headers["X-Linked-Etag"] = f'"{sha256}"'
            headers["X-Linked-Size"] = str(len(data))
        status = 200
        range_header = self.headers.get("Range")
        if range_header and self.command == "GET":
            match = re.match(r"bytes=(\d*)-(\d*)$", range_header.strip())
            if not match or (not match.group(1) and not match.group(2)):
                raise HubError(416, f"unsupported Range {range_header!r}")
            start = int(match.group(1)) if match.group(1) else max(0, len(data) - int(match.group(2)))
            end = int(match.group(2)) if match.group(1) and match.group(2) else len(data) - 1
            if start >= len(data) and len(data) > 0:
                raise HubError(416, f"Range {range_header!r} not satisfiable for {len(data)} bytes")
            headers["Content-Range"] = f"bytes {start}-{min(end, len(data) - 1)}/{len(data)}"
            data = data[start : end + 1]
            status = 206
        self._send(status, data, headers, ctype="application/octet-stream")


_SEGMENT = r"[^/]+"
_API_REPO = rf"/api/(?P<kind>models|datasets|spaces)/(?P<org>{_SEGMENT})/(?P<name>{_SEGMENT})"
# a repo in a download or git URL: /datasets/org/name, /spaces/org/name or /org/name for a model (whose
# owner cannot be one of the Hub's reserved first segments)
_RESERVED = r"(?!(?:api|_lfs|datasets|spaces)/)"
_URL_REPO = rf"/(?:(?P<kind>datasets|spaces)/|{_RESERVED})(?P<org>{_SEGMENT})/(?P<name>{_SEGMENT})"
_REV = rf"(?P<rev>{_SEGMENT})"  # a revision with a slash (refs/pr/1) arrives percent-encoded


def _make_route(methods: str, pattern: str, handler: Callable[[_Handler, Call], None]) -> Route:
    return Route(tuple(methods.split()), re.compile(pattern), handler)


ROUTES: tuple[Route, ...] = (
    _make_route("POST", r"/api/repos/create", _Handler._create_repo),
    _make_route("DELETE", r"/api/repos/delete", _Handler._delete_repo),
    _make_route("POST", r"/api/validate-yaml", _Handler._validate_yaml),
    _make_route("GET", r"/api/whoami-v2", _Handler._whoami),
    _make_route("GET", _API_REPO, _Handler._repo_info),
    _make_route("GET", rf"{_API_REPO}/revision/{_REV}", _Handler._repo_info),
    _make_route("POST", rf"{_API_REPO}/preupload/{_REV}", _Handler._preupload),
    _make_route("POST", rf"{_API_REPO}/commit/{_REV}", _Handler._commit),
    _make_route("GET", rf"{_API_REPO}/tree/{_REV}(?:/(?P<path>.+))?", _Handler._tree),
    _make_route("POST", rf"{_API_REPO}/paths-info/{_REV}", _Handler._paths_info),
    _make_route("GET", rf"{_API_REPO}/commits/{_REV}", _Handler._commits),
    _make_route("GET", rf"{_API_REPO}/refs(?:/.*)?", _Handler._refs),
    _make_route("POST", rf"{_API_REPO}/branch/{_REV}", _Handler._create_branch),
    _make_route("DELETE", rf"{_API_REPO}/branch/{_REV}", _Handler._delete_branch),
    _make_route("PUT", rf"/_lfs/(?P<oid>{_SEGMENT})", _Handler._lfs_upload),
    _make_route("POST", rf"/_lfs/(?P<oid>{_SEGMENT})/verify", _Handler._lfs_verify),
    _make_route("POST", rf"{_URL_REPO}\.git/info/lfs/objects/batch", _Handler._lfs_batch),
    _make_route("GET HEAD", rf"{_URL_REPO}/resolve/{_REV}/(?P<path>.+)", _Handler._resolve),
)
"""Every endpoint the server answers, in one place; anything else is a 404 naming method and path."""
