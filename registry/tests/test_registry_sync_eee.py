"""`sync push --to eee`: a pull request of Every Eval Ever records to an EEE-style datastore repo on the
Hub test server, through the real huggingface_hub client in a CLI subprocess. The files that arrive in
the pull request's ref pass every-eval-ever's own validator; main is never written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from eee_validator import check_duplicates, validate

FIXTURES = Path(__file__).parent / "fixtures" / "imports" / "eee"
TESTS = Path(__file__).parent
REPO = "evaleval/datastore"
MAPPED = "scripted/function=ExampleOrg/Sum-1B"
# EEE records are .json/.jsonl text, which the test server's LFS mode (LFS_SUFFIXES: binary formats only)
# stores as regular files: that mode would repeat the same requests.
regular_hub = pytest.mark.parametrize("reg_hub", ["regular"], indirect=True)


def push(hub, *extra: str, batch: int = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    env["EMERGEBENCH_EEE_BATCH_FILES"] = str(batch)
    return subprocess.run(
        [sys.executable, "-m", "emergebench", "sync", "push", "--to", "eee", "--repo", REPO]
        + ["--endpoint", hub.endpoint, "--model-id", MAPPED, *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@regular_hub
def test_push_to_eee_opens_a_pull_request_of_valid_records_and_leaves_main_alone(
    reg_run, reg_hub, tmp_path: Path
) -> None:
    # The datastore already holds records (EEE's own converter output) on main.
    seeded = {str(p.relative_to(FIXTURES)): p.read_bytes() for p in FIXTURES.rglob("*") if p.is_file()}
    reg_hub.create_repo(REPO, repo_type="dataset")
    reg_hub.put_files(REPO, seeded, repo_type="dataset", message="datastore")
    main_before = (reg_hub.head(REPO, "dataset"), reg_hub.files(REPO, "dataset"))
    first = reg_run()
    second = reg_run(model="scripted/constant", model_args={"reply": "2"})

    done = push(reg_hub, batch=2)  # two commits of one record (aggregate + samples) each, in one pull request
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert "Opened pull request" in done.stdout and "/discussions/1" in done.stdout and "2 run(s)" in done.stdout
    titles = reg_hub.commit_titles(REPO, "dataset", "refs/pr/1")
    assert titles[:2] == ["Add 1 evaluation record(s) from emergebench"] * 2 and titles[2] == "datastore", titles
    assert (reg_hub.head(REPO, "dataset"), reg_hub.files(REPO, "dataset")) == main_before
    in_pr = reg_hub.files(REPO, "dataset", "refs/pr/1")
    added = {path: data for path, data in in_pr.items() if path not in main_before[1]}
    assert {p.split("/")[3] for p in added} == {"Sum-1B", "constant"} and len(added) == 4
    assert all(in_pr[p] == data for p, data in seeded.items())  # the PR adds, never changes, datastore files
    root = tmp_path / "pr"
    for path, data in added.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    validate(root)
    whole = tmp_path / "pr-ref"  # the datastore as the PR would leave it: no duplicate entries either
    for path, data in in_pr.items():
        (whole / path).parent.mkdir(parents=True, exist_ok=True)
        (whole / path).write_bytes(data)
    check_duplicates(whole)
    assert any(first.run_id.encode() in d for d in added.values())
    assert any(second.run_id.encode() in d for d in added.values())

    # Pushing again opens no second pull request: the records are in refs/pr/1 already.
    again = push(reg_hub)
    assert again.returncode == 0 and "Nothing to push" in again.stdout, again.stdout + again.stderr
    assert "refs/pr/2" not in reg_hub.branches(REPO, "dataset")
    # A new run goes into a new pull request holding only its own records.
    # The same retry loop as the registry's push: a 429 on the commit is waited out and retried.
    third = reg_run(model="scripted/constant", model_args={"reply": "4"})
    reg_hub.inject(status=429, times=1, retry_after=0.1, path_contains="/commit/")
    done = push(reg_hub, "--run", third.run_id)
    assert done.returncode == 0 and "/discussions/2" in done.stdout, done.stderr
    assert "attempt 1 failed (HTTP 429); retrying" in done.stderr
    new = set(reg_hub.files(REPO, "dataset", "refs/pr/2")) - set(main_before[1])
    assert len(new) == 2 and (reg_hub.head(REPO, "dataset"), reg_hub.files(REPO, "dataset")) == main_before


@regular_hub
def test_push_to_eee_refuses_an_unknown_repo_without_traceback(reg_run, reg_hub) -> None:
    reg_run()
    done = push(reg_hub)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"dataset repo {REPO!r} not found" in done.stderr
