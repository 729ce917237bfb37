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
from collections.abc import Callable

import httpx2
from emergebench.errors import UsageError
from huggingface_hub import CommitOperationAdd, HfApi
from huggingface_hub.errors import HfHubHTTPError

from .card import blob_id
from .export_eee import EeeFile, EeeOptions, eee_records
from .leaks import text_leak
from .store import Store
from .sync import REPO_TYPE, PushReport, _api, _explain, get_token, retrying


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
    """Open one pull request with the records the repo lacks; (report, runs skipped -> why)."""
    token = get_token()
    api = _api(endpoint, token)
    with store.reader() as con:
        exported = eee_records(con, run_ids, False, options)
    for item in exported.files:
        leak = text_leak(item.content, token)
        if leak:
            raise UsageError(f"refusing to push {item.path}: {leak}. Leave its run out with --run, then push again")
    report = PushReport()
    try:
        for attempt in retrying(on_retry):
            with attempt:
                report.attempts += 1
                there = _already_there(api, repo, exported.files)
                todo = [f for f in exported.files if f.path not in there]
                if not todo:
                    return report, exported.skipped
                head = api.repo_info(repo, repo_type=REPO_TYPE, revision="main").sha
                runs = sorted({_run_of(f) for f in todo if f.path.endswith(".json")})
                commit = api.create_commit(
                    repo,
                    [CommitOperationAdd(f.path, f.content) for f in todo],
                    commit_message=f"Add {len(runs)} evaluation record(s) from emergebench",
                    commit_description="emergebench runs: " + ", ".join(runs),
                    repo_type=REPO_TYPE,
                    parent_commit=head,
                    create_pr=True,
                )
                report.runs, report.files = runs, [f.path for f in todo]
                report.commit, report.pr_url = commit.oid, commit.pr_url
    except UsageError:
        raise
    except (HfHubHTTPError, httpx2.HTTPError) as exc:
        raise _explain(exc, repo, token) from None
    return report, exported.skipped


def _run_of(item: EeeFile) -> str:
    """The emergebench run id an aggregate record was made from."""
    return json.loads(item.content)["source_metadata"]["additional_details"]["run_id"]
