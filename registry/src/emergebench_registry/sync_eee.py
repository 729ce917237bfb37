"""`sync push --to eee`: contribute runs to an Every Eval Ever datastore (a Hub dataset repo) as a pull
request, the way EEE takes contributions; nothing is ever written to the repo's main branch.

The records are those of `export --format eee`. A record the repo already has, on main or in any pull
request's ref, with the same bytes (git blob id), is not sent again, so pushing twice opens no second
pull request. The check asks the Hub about our paths only (paths-info on main and on each refs/pr/N),
never lists the datastore, so its cost follows what is pushed, not the datastore's size.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from typing import Any

import httpx2
from emergebench.errors import UsageError
from huggingface_hub import CommitOperationAdd, HfApi
from huggingface_hub.errors import HfHubHTTPError

from .card import blob_id
from .export_eee import EeeFile, EeeOptions, eee_records
from .leaks import text_leak
from .store import Store
from .sync import REPO_TYPE, PushReport, _api, _explain, _xet_refused, get_token, retrying

BATCH_FILES = int(os.environ.get("EMERGEBENCH_EEE_BATCH_FILES", "300"))


def _present(api: HfApi, repo: str, paths: list[str], revision: str) -> dict[str, str | None]:
    """path -> content id of those of ``paths`` that exist at ``revision``: ``lfs:<sha256>`` for a file
    stored in LFS, else its git blob id."""
    found: dict[str, str | None] = {}
    for start in range(0, len(paths), 500):
        for entry in api.get_paths_info(repo, paths[start : start + 500], repo_type=REPO_TYPE, revision=revision):
            lfs = getattr(entry, "lfs", None)
            found[entry.path] = f"lfs:{lfs.sha256}" if lfs else getattr(entry, "blob_id", None)
    return found


def _already_there(api: HfApi, repo: str, files: list[EeeFile]) -> set[str]:
    """Paths whose exact content is on main or in a pull request's ref already."""
    wanted = {f.path: (blob_id(f.content), f"lfs:{hashlib.sha256(f.content).hexdigest()}") for f in files}
    refs = api.list_repo_refs(repo, repo_type=REPO_TYPE, include_pull_requests=True)
    revisions = ["main"] + [ref.ref for ref in refs.pull_requests or []]
    there: set[str] = set()
    for revision in revisions:
        missing = [p for p in wanted if p not in there]
        if not missing:
            break
        for path, oid in _present(api, repo, missing, revision).items():
            if oid in wanted.get(path, ()):
                there.add(path)
    return there


def push_eee(
    store: Store,
    repo: str,
    endpoint: str | None,
    run_ids: list[str] | None,
    options: EeeOptions,
    on_retry: Callable[[str], None] | None = None,
) -> tuple[PushReport, dict[str, str]]:
    """Open one pull request with the records the repo lacks, in commits of about BATCH_FILES files;
    (report, runs skipped -> why)."""
    token = get_token()
    api = _api(endpoint, token)
    with store.reader() as con:
        exported = eee_records(con, run_ids, False, options)
    for item in exported.files:
        leak = text_leak(item.content, token)
        if leak:
            raise UsageError(f"refusing to push {item.path}: {leak}. Leave its run out with --run, then push again")
    report = PushReport()
    pr_revision: str | None = None
    try:
        for attempt in retrying(on_retry):
            with attempt:
                report.attempts += 1
                # Recomputed on every attempt: a batch whose commit landed although its answer was lost is
                # in the pull request's ref now, and is not sent again.
                there = _already_there(api, repo, exported.files)
                todo = [f for f in exported.files if f.path not in there]
                for batch in _batches(todo, BATCH_FILES):
                    runs = sorted({_run_of(f) for f in batch if f.path.endswith(".json")})
                    # The first batch opens the pull request; later ones are added to its ref.
                    where: dict[str, Any] = {"revision": pr_revision}
                    if pr_revision is None:
                        head = api.repo_info(repo, repo_type=REPO_TYPE, revision="main").sha
                        where = {"parent_commit": head, "create_pr": True}
                    commit = api.create_commit(
                        repo,
                        [CommitOperationAdd(f.path, f.content) for f in batch],
                        commit_message=f"Add {len(runs)} evaluation record(s) from emergebench",
                        commit_description="emergebench runs: " + ", ".join(runs),
                        repo_type=REPO_TYPE,
                        **where,
                    )
                    if pr_revision is None:
                        pr_revision, report.pr_url = commit.pr_revision, commit.pr_url
                    report.commit = commit.oid
                    report.files += [f.path for f in batch]
                    report.runs = sorted(set(report.runs) | set(runs))
    except UsageError:
        raise
    except (HfHubHTTPError, httpx2.HTTPError) as exc:
        raise _explain(exc, repo, token) from None
    except ConnectionError as exc:  # hf_xet's errors, as in the registry's push
        if "xet" not in str(exc).lower():
            raise
        raise _xet_refused(exc, repo, endpoint, token) from None
    return report, exported.skipped


def _batches(files: list[EeeFile], size: int) -> list[list[EeeFile]]:
    """Commits of about ``size`` files (a commit of thousands can time out on the Hub, as EEE's own
    publisher found); a record's aggregate and samples file always travel together."""
    records: dict[str, list[EeeFile]] = {}
    for item in files:
        records.setdefault(item.path.removesuffix("_samples.jsonl").removesuffix(".json"), []).append(item)
    batches: list[list[EeeFile]] = [[]]
    for group in records.values():
        if batches[-1] and len(batches[-1]) + len(group) > size:
            batches.append([])
        batches[-1].extend(group)
    return [b for b in batches if b]


def _run_of(item: EeeFile) -> str:
    """The emergebench run id an aggregate record was made from."""
    return json.loads(item.content)["source_metadata"]["additional_details"]["run_id"]
