"""Pooling runs in a Hugging Face dataset repo: push new runs, pull unseen shards.

Push makes one commit with ``create_commit(parent_commit=head)``. On 412 (the head moved), 409 (a
commit is in progress), 429 (quota) and 5xx it waits (``Retry-After`` if the server sent one, else
exponential backoff with jitter, both capped) and starts over from the new head, recomputing which
runs the repo lacks, so two racing pushers both land and neither uploads the other's runs twice.
Pull compares the head with the last pulled one, lists the ``data/`` tree once and downloads only
shards whose (path, blob id) it has not seen, so its cost scales with what is new; the downloads run
on a small thread pool, and every shard is validated before the store is opened for writing.
"""

from __future__ import annotations

import os
import tempfile
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx2
from emergebench.errors import UsageError
from emergebench.run_ids import start_order
from huggingface_hub import CommitOperationAdd, HfApi, hf_hub_download
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError, RevisionNotFoundError
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_after_delay
from tenacity.wait import wait_random_exponential

from .card import card_blob_id, dataset_card
from .identifiers import contained
from .kept import keep
from .leaks import shard_leak
from .model_sources import hub_source
from .schema import first_row
from .shards import (
    SHARD_TABLES,
    ShardError,
    apply_bundles,
    bundle,
    export_runs,
    parse_shard_path,
    read_shard,
    shard_name_problem,
)
from .store import Store

REPO_TYPE = "dataset"
RETRY_STATUSES = {409, 412, 429, 500, 502, 503, 504}
MAX_ATTEMPTS = int(os.environ.get("EMERGEBENCH_SYNC_ATTEMPTS", "8"))
MAX_WAIT_S = float(os.environ.get("EMERGEBENCH_SYNC_MAX_WAIT", "60"))
TOTAL_WAIT_S = float(os.environ.get("EMERGEBENCH_SYNC_TOTAL_WAIT", "600"))
DOWNLOAD_WORKERS = int(os.environ.get("EMERGEBENCH_SYNC_DOWNLOADS", "8"))


def get_token() -> str | None:
    """``HF_TOKEN`` or the huggingface_hub login; never logged, stored or exported."""
    from huggingface_hub import get_token as hf_get_token

    return os.environ.get("HF_TOKEN") or hf_get_token()


def scrub(text: str, token: str | None) -> str:
    return text.replace(token, "***") if token else text


def _status(exc: BaseException | None) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, HfHubHTTPError):
        return _status(exc) in RETRY_STATUSES
    return isinstance(exc, httpx2.TransportError)


class _wait_retry_after:
    """Retry-After when the server gave one (capped), else jittered exponential backoff."""

    def __init__(self, base: float = 0.5) -> None:
        self.fallback = wait_random_exponential(multiplier=base, max=MAX_WAIT_S)

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        response = getattr(exc, "response", None)
        header = response.headers.get("Retry-After") if response is not None else None
        if header:
            try:
                return min(float(header), MAX_WAIT_S)
            except ValueError:
                pass
        if _status(exc) == 412 if exc else False:
            return min(0.05 * state.attempt_number, 1.0)  # the head moved: just recompute, no quota involved
        return self.fallback(state)


def retrying(on_retry: Callable[[str], None] | None = None) -> Retrying:
    def before_sleep(state: RetryCallState) -> None:
        if on_retry and state.outcome is not None:
            exc = state.outcome.exception()
            on_retry(f"attempt {state.attempt_number} failed (HTTP {_status(exc) or type(exc).__name__}); retrying")

    return Retrying(
        retry=retry_if_exception(_retryable),
        wait=_wait_retry_after(),
        stop=stop_after_attempt(MAX_ATTEMPTS) | stop_after_delay(TOTAL_WAIT_S),
        before_sleep=before_sleep,
        reraise=True,
    )


def _api(endpoint: str | None, token: str | None) -> HfApi:
    return HfApi(endpoint=endpoint, token=token) if endpoint else HfApi(token=token)


def _explain(exc: BaseException, repo: str, token: str | None) -> UsageError:
    if isinstance(exc, RepositoryNotFoundError):
        return UsageError(f"dataset repo {repo!r} not found (or not visible with your token): check --repo")
    if isinstance(exc, RevisionNotFoundError):
        return UsageError(f"revision not found in dataset repo {repo!r}: check --revision")
    status = _status(exc)
    if status in (401, 403):
        return UsageError(
            f"the Hub refused access to {repo!r} (HTTP {status}): set HF_TOKEN or run `hf auth login` with a "
            "token that can write to it, or push with --pr to open a pull request"
        )
    return UsageError(scrub(f"Hub request for {repo!r} failed: {type(exc).__name__}: {exc}", token))


@dataclass
class PushReport:
    runs: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    commit: str | None = None
    pr_url: str | None = None
    attempts: int = 0


def push(
    store: Store,
    repo: str,
    endpoint: str | None = None,
    create_pr: bool = False,
    contributor: str | None = None,
    run_ids: list[str] | None = None,
    on_retry: Callable[[str], None] | None = None,
) -> PushReport:
    token = get_token()
    api = _api(endpoint, token)
    report = PushReport()
    with tempfile.TemporaryDirectory(prefix="emergebench-push-") as tmp:
        out = Path(tmp)
        try:
            if not create_pr:
                api.create_repo(repo, repo_type=REPO_TYPE, exist_ok=True)
            for attempt in retrying(on_retry):
                with attempt:
                    report.attempts += 1
                    _push_once(store, api, repo, out, create_pr, contributor, run_ids, token, report)
        except UsageError:
            raise
        except (HfHubHTTPError, httpx2.HTTPError) as exc:
            raise _explain(exc, repo, token) from None
        except ConnectionError as exc:  # hf_xet's errors are builtin ConnectionError/RuntimeError subclasses
            if "xet" not in str(exc).lower():
                raise
            raise _xet_refused(exc, repo, endpoint, token) from None
    return report


def _xet_refused(exc: BaseException, repo: str, endpoint: str | None, token: str | None) -> UsageError:
    """huggingface_hub (2.x, hf_xet installed) uploads large files only through Xet: no LFS fallback."""
    detail = scrub(" ".join(str(exc).split())[:200], token)
    return UsageError(
        f"the Hub at {endpoint or 'the default endpoint'} refused the Xet upload of {repo!r} ({detail}); "
        "huggingface_hub sends .parquet files through Xet when hf_xet is installed. If this Hub serves no "
        "Xet storage, set HF_HUB_DISABLE_XET=1 to upload through Git LFS instead"
    )


def _push_once(
    store: Store,
    api: HfApi,
    repo: str,
    out: Path,
    create_pr: bool,
    contributor: str | None,
    run_ids: list[str] | None,
    token: str | None,
    report: PushReport,
) -> None:
    info = api.repo_info(repo, repo_type=REPO_TYPE, revision="main")
    head = info.sha
    remote = {s.rfilename for s in getattr(info, "siblings", None) or []}  # a dataset's listing
    remote_runs = {p[2] for p in map(parse_shard_path, remote) if p is not None and p[0] == "runs"}
    with store.reader() as con:
        candidates = [
            r[0] for r in con.execute("SELECT run_id FROM runs WHERE status <> 'running' ORDER BY run_id").fetchall()
        ]
    if run_ids is not None:
        candidates = [r for r in candidates if r in set(run_ids)]
    todo = [r for r in candidates if r not in remote_runs]
    with store.reader() as con:
        if todo:
            export_runs(con, out, todo, contributor=contributor)
    files = sorted(str(p.relative_to(out)).replace(os.sep, "/") for p in out.rglob("*.parquet"))
    files = [f for f in files if (parsed := parse_shard_path(f)) and parsed[2] in set(todo)]
    card = dataset_card(repo, sorted(remote | set(files)))
    # The repo's README is never downloaded or parsed: whatever it holds (any encoding, any size) is
    # compared with the generated card by git blob id and replaced when it differs.
    old_card_oid = None
    if "README.md" in remote:
        for entry in api.get_paths_info(repo, ["README.md"], repo_type=REPO_TYPE, revision=head):
            old_card_oid = getattr(entry, "blob_id", None)
    if not files and old_card_oid == card_blob_id(card):
        report.runs, report.files, report.commit = [], [], head
        return
    ops = []
    for rel in files:
        leak = shard_leak(out / rel, token)
        if leak:
            run_id = parse_shard_path(rel)[2]  # type: ignore[index]
            raise UsageError(
                f"refusing to push {rel}: {leak}. Remove it from run {run_id}'s spec.json and run.json "
                "(or leave the run out with --run), then push again"
            )
        ops.append(CommitOperationAdd(rel, (out / rel).read_bytes()))
    ops.append(CommitOperationAdd("README.md", card.encode()))
    runs = sorted({parse_shard_path(f)[2] for f in files})  # type: ignore[index]
    message = f"Add {len(runs)} emergebench run(s)" if runs else "Update dataset card"
    description = "Runs: " + ", ".join(runs) if runs else ""
    commit = api.create_commit(
        repo,
        ops,
        commit_message=message,
        commit_description=description,
        repo_type=REPO_TYPE,
        parent_commit=head,
        create_pr=create_pr,
    )
    report.runs, report.files, report.commit, report.pr_url = runs, files, commit.oid, commit.pr_url


T = TypeVar("T")


def fetch_all(fetch: Callable[[str], T], paths: list[str], workers: int | None = None) -> list[T]:
    """``fetch`` every path on a small thread pool; results in the order of ``paths``.

    Downloads are I/O-bound (one HEAD and one GET each), so a few threads hide the round trips.
    ``fetch`` reports its own failures in its result, so one bad file never stops the others.
    """
    workers = max(1, min(workers or DOWNLOAD_WORKERS, len(paths)))
    if workers == 1:
        return [fetch(path) for path in paths]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="emergebench-pull") as pool:
        futures = [pool.submit(fetch, path) for path in paths]
        try:
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            raise


@dataclass
class PullReport:
    head: str | None = None
    downloaded: list[str] = field(default_factory=list)
    imported: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)
    failed_downloads: list[str] = field(default_factory=list)
    up_to_date: bool = False


def pull(
    store: Store,
    repo: str,
    endpoint: str | None = None,
    revision: str | None = None,
    on_retry: Callable[[str], None] | None = None,
) -> PullReport:
    token = get_token()
    api = _api(endpoint, token)
    rev = revision or "main"
    try:
        for attempt in retrying(on_retry):
            with attempt:
                return _pull_once(store, api, repo, rev, token, on_retry)
    except UsageError:
        raise
    except (HfHubHTTPError, httpx2.HTTPError) as exc:
        raise _explain(exc, repo, token) from None
    raise AssertionError("unreachable")


def _listing(entries: list[Any], seen: dict[str, str], report: PullReport) -> list[tuple[str, str]]:
    """(path, blob id) of the new, well-named shards; hostile names are rejected here, never fetched."""
    new = []
    for entry in entries:
        path, oid = getattr(entry, "path", None), getattr(entry, "blob_id", None)
        if not oid or not isinstance(path, str):
            continue  # a folder
        candidate = path.endswith(".parquet") or any(part in ("", ".", "..") for part in path.split("/"))
        if not candidate:
            continue  # other files in data/ (notes, .gitattributes) are not shards and are left alone
        why = shard_name_problem(path)
        if why is not None:
            report.rejected[path] = f"rejected file {path[:200]!r}: {why}"
        elif seen.get(path) != oid:
            new.append((path, oid))
    return new


def _pull_once(
    store: Store, api: HfApi, repo: str, rev: str, token: str | None, on_retry: Callable[[str], None] | None
) -> PullReport:
    report = PullReport()
    info = api.repo_info(repo, repo_type=REPO_TYPE, revision=rev)
    report.head = info.sha
    key = f"{api.endpoint}/{repo}"
    with store.reader() as con:
        last = first_row(con.execute("SELECT head FROM sync_heads WHERE repo = ? AND revision = ?", [key, rev]))
        seen = {p: oid for p, oid in con.execute("SELECT path, oid FROM sync_files WHERE repo = ?", [key]).fetchall()}
    if last is not None and last[0] == info.sha:
        report.up_to_date = True
        return report
    entries: list[Any] = []
    try:
        entries = list(
            api.list_repo_tree(repo, path_in_repo="data", recursive=True, repo_type=REPO_TYPE, revision=info.sha)
        )
    except HfHubHTTPError as exc:
        if _status(exc) != 404:
            raise
    new = _listing(entries, seen, report)
    with tempfile.TemporaryDirectory(prefix="emergebench-pull-") as tmp:

        def fetch(path: str) -> Path | str:
            """Download one shard (in a worker thread, retried on transient errors); a string says why not."""
            try:
                for attempt in retrying(on_retry):
                    with attempt:
                        local = hf_hub_download(
                            repo,
                            path,
                            repo_type=REPO_TYPE,
                            revision=info.sha,
                            endpoint=api.endpoint,
                            token=token,
                            local_dir=tmp,
                        )
                return contained(Path(tmp), str(Path(local).resolve().relative_to(Path(tmp).resolve())))
            except (HfHubHTTPError, httpx2.HTTPError, OSError, ValueError) as exc:
                return scrub(f"download failed: {_explain(exc, repo, token)}", token)

        by_run: dict[str, list[tuple[str, Path]]] = defaultdict(list)
        for (path, _oid), outcome in zip(new, fetch_all(fetch, [p for p, _ in new]), strict=True):
            if isinstance(outcome, str):
                report.rejected[path] = outcome
                report.failed_downloads.append(path)
                continue
            report.downloaded.append(path)
            by_run[parse_shard_path(path)[2]].append((path, outcome))  # type: ignore[index]
        oids = dict(new)
        failed_runs = {parse_shard_path(p)[2] for p in report.failed_downloads}  # type: ignore[index]
        with store.writer() as con:
            # One run at a time: its shards are read (bounded), checked and applied, then dropped, so
            # a pull holds at most one run's data in memory whatever the repo holds.
            for run_id, files in sorted(by_run.items(), key=lambda item: start_order(item[0])):
                if run_id in failed_runs:
                    continue
                if _pull_run(con, repo, rev, store.path, files, report):
                    for path, _local in files:
                        con.execute(
                            "INSERT OR REPLACE INTO sync_files VALUES (?, ?, ?, ?, 'ingested', NULL, now())",
                            [key, path, oids[path], run_id],
                        )
            # Files that failed to download are fetched again on the next pull, so the head is not
            # remembered; shards rejected for their contents are checked again once the head moves.
            if not report.failed_downloads:
                con.execute("INSERT OR REPLACE INTO sync_heads VALUES (?, ?, ?, now())", [key, rev, info.sha])
    return report


def _pull_run(
    con: Any, repo: str, rev: str, store_path: Path, files: list[tuple[str, Path]], report: PullReport
) -> bool:
    """Validate and apply one run's downloaded shards; False (with the reasons reported) if refused.

    A stored run's shards are kept beside the store (``kept.py``), so ``registry rebuild`` can restore it.
    """
    shards = []
    for path, local in files:
        try:
            shards.append(read_shard(local, label=f"{repo}:{path}"))
        except ShardError as exc:
            report.rejected[path] = str(exc)
    if any(path in report.rejected for path, _ in files):
        return False
    runs, problems = bundle(shards)
    for label, problem in problems.items():
        report.rejected[label.split(":", 1)[-1]] = problem
    if problems or not runs:
        return False
    single = apply_bundles(con, runs, f"hub:{repo}", hub_source(repo, rev))
    keep(store_path, [r for r in runs if r.run_id in set(single.imported)], f"hub:{repo}", hub_source(repo, rev))
    report.imported += single.imported
    report.unchanged += single.unchanged
    for label, problem in single.rejected.items():
        report.rejected[label.split(":", 1)[-1]] = problem
    return not single.rejected


__all__ = ["push", "pull", "PushReport", "PullReport", "SHARD_TABLES"]
