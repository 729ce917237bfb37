"""The Hub test server driven by the real huggingface_hub client."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from emergebench_testing.hubserver import HubServer, git_blob_sha
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, hf_hub_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    with HubServer() as server:
        yield server


def api(hub: HubServer) -> HfApi:
    return HfApi(endpoint=hub.endpoint, token=hub.token)


def test_create_upload_list_download(hub: HubServer, tmp_path: Path) -> None:
    client = api(hub)
    url = client.create_repo("org/data", repo_type="dataset")
    assert "org/data" in str(url)
    client.create_repo("org/data", repo_type="dataset", exist_ok=True)
    info = client.upload_file(
        path_or_fileobj=b"a,b\n1,2\n",
        path_in_repo="sub/x.csv",
        repo_id="org/data",
        repo_type="dataset",
        commit_message="add x",
    )
    assert info.oid == hub.head("org/data", repo_type="dataset")
    assert client.list_repo_files("org/data", repo_type="dataset") == ["sub/x.csv"]
    tree = list(client.list_repo_tree("org/data", repo_type="dataset"))
    assert [(type(e).__name__, e.path) for e in tree] == [("RepoFolder", "sub")]
    path = hf_hub_download(
        "org/data", "sub/x.csv", repo_type="dataset", endpoint=hub.endpoint, cache_dir=tmp_path / "cache"
    )
    assert Path(path).read_bytes() == b"a,b\n1,2\n"
    assert ("GET", "/datasets/org/data/resolve/main/sub/x.csv") in hub.requests
    assert client.file_exists("org/data", "sub/x.csv", repo_type="dataset")
    assert not client.file_exists("org/data", "nope.csv", repo_type="dataset")
    paths = client.get_paths_info("org/data", ["sub/x.csv", "sub", "missing"], repo_type="dataset")
    assert {p.path for p in paths} == {"sub/x.csv", "sub"}
    commits = client.list_repo_commits("org/data", repo_type="dataset")
    assert [c.title for c in commits] == ["add x", "initial commit"]


def test_seed_directly_and_resolve_headers(hub: HubServer) -> None:
    import httpx2

    hub.create_repo("org/seeded", repo_type="dataset")
    sha = hub.put_files("org/seeded", {"data/a.bin": b"12345"}, repo_type="dataset", message="seed")
    response = httpx2.head(f"{hub.endpoint}/datasets/org/seeded/resolve/main/data/a.bin")
    assert response.status_code == 200
    assert response.headers["X-Repo-Commit"] == sha
    assert response.headers["ETag"] == f'"{git_blob_sha(b"12345")}"'
    assert response.headers["Content-Length"] == "5"
    ranged = httpx2.get(f"{hub.endpoint}/datasets/org/seeded/resolve/{sha}/data/a.bin", headers={"Range": "bytes=2-"})
    assert ranged.status_code == 206 and ranged.content == b"345"


def test_revisions_shas_and_convert_branch(hub: HubServer, tmp_path: Path) -> None:
    hub.create_repo("org/rev", repo_type="dataset")
    first = hub.put_files("org/rev", {"f.txt": b"one"}, repo_type="dataset")
    hub.put_files("org/rev", {"f.txt": b"two"}, repo_type="dataset")
    hub.put_files("org/rev", {"p/0.parquet": b"PAR1"}, repo_type="dataset", revision="refs/convert/parquet")
    old = hf_hub_download(
        "org/rev", "f.txt", repo_type="dataset", revision=first, endpoint=hub.endpoint, cache_dir=tmp_path / "c"
    )
    assert Path(old).read_bytes() == b"one"
    short = hf_hub_download(
        "org/rev", "f.txt", repo_type="dataset", revision=first[:7], endpoint=hub.endpoint, cache_dir=tmp_path / "c2"
    )
    assert Path(short).read_bytes() == b"one"
    conv = api(hub).list_repo_files("org/rev", repo_type="dataset", revision="refs/convert/parquet")
    assert "p/0.parquet" in conv
    refs = api(hub).list_repo_refs("org/rev", repo_type="dataset")
    assert [b.name for b in refs.branches] == ["main"] and refs.converts[0].ref == "refs/convert/parquet"


def test_not_found_error_codes(hub: HubServer, tmp_path: Path) -> None:
    hub.create_repo("org/nf", repo_type="dataset")
    hub.put_files("org/nf", {"a.txt": b"a"}, repo_type="dataset")
    kwargs = dict(repo_type="dataset", endpoint=hub.endpoint, cache_dir=tmp_path / "c")
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("org/missing", "a.txt", **kwargs)
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download("org/nf", "a.txt", revision="nobranch", **kwargs)
    with pytest.raises(EntryNotFoundError):
        hf_hub_download("org/nf", "b.txt", **kwargs)
    with pytest.raises(RepositoryNotFoundError):
        api(hub).repo_info("org/missing", repo_type="dataset")


def test_stale_parent_commit_gets_412(hub: HubServer) -> None:
    client = api(hub)
    client.create_repo("org/race", repo_type="dataset")
    parent = client.repo_info("org/race", repo_type="dataset").sha
    hub.put_files("org/race", {"other.txt": b"moved"}, repo_type="dataset")
    with pytest.raises(HfHubHTTPError) as err:
        client.create_commit(
            "org/race",
            [CommitOperationAdd("x.txt", b"x")],
            commit_message="stale",
            repo_type="dataset",
            parent_commit=parent,
        )
    assert err.value.response.status_code == 412
    fresh = client.repo_info("org/race", repo_type="dataset").sha
    client.create_commit(
        "org/race", [CommitOperationAdd("x.txt", b"x")], commit_message="ok", repo_type="dataset", parent_commit=fresh
    )
    assert set(hub.files("org/race", repo_type="dataset")) == {"other.txt", "x.txt"}


@pytest.mark.parametrize("status", [409, 429, 500, 503])
def test_injected_failures_then_success(hub: HubServer, status: int) -> None:
    client = api(hub)
    client.create_repo("org/inj", repo_type="dataset")
    hub.inject(status=status, times=1, retry_after=1.0, path_contains="/commit/")
    with pytest.raises(HfHubHTTPError) as err:
        client.create_commit("org/inj", [CommitOperationAdd("a.txt", b"a")], commit_message="m", repo_type="dataset")
    assert err.value.response.status_code == status
    assert err.value.response.headers["Retry-After"] == "1"
    client.create_commit("org/inj", [CommitOperationAdd("a.txt", b"a")], commit_message="m", repo_type="dataset")
    assert hub.files("org/inj", repo_type="dataset") == {"a.txt": b"a"}


def test_writes_need_the_token(hub: HubServer) -> None:
    hub.create_repo("org/auth", repo_type="dataset")
    bad = HfApi(endpoint=hub.endpoint, token="hf_wrong")
    with pytest.raises(HfHubHTTPError) as err:
        bad.create_commit("org/auth", [CommitOperationAdd("a.txt", b"a")], commit_message="m", repo_type="dataset")
    assert err.value.response.status_code == 401
    assert hub.files("org/auth", repo_type="dataset") == {}


def test_pull_request_delete_and_unchanged_skip(hub: HubServer) -> None:
    client = api(hub)
    client.create_repo("org/pr", repo_type="dataset")
    client.create_commit(
        "org/pr",
        [CommitOperationAdd("a.txt", b"a"), CommitOperationAdd("b.txt", b"b")],
        commit_message="two",
        repo_type="dataset",
    )
    info = client.create_commit(
        "org/pr", [CommitOperationAdd("c.txt", b"c")], commit_message="contrib", repo_type="dataset", create_pr=True
    )
    assert info.pr_url.endswith("/discussions/1") and info.pr_revision == "refs/pr/1"
    assert "c.txt" not in hub.files("org/pr", repo_type="dataset")
    assert "c.txt" in hub.files("org/pr", repo_type="dataset", revision="refs/pr/1")
    client.create_commit("org/pr", [CommitOperationDelete("a.txt")], commit_message="del", repo_type="dataset")
    assert set(hub.files("org/pr", repo_type="dataset")) == {"b.txt"}
    before = hub.head("org/pr", repo_type="dataset")
    client.create_commit("org/pr", [CommitOperationAdd("b.txt", b"b")], commit_message="same", repo_type="dataset")
    assert hub.head("org/pr", repo_type="dataset") == before  # the client skipped an unchanged file


def test_tree_pagination_and_concurrent_commits(hub: HubServer) -> None:
    hub.create_repo("org/many", repo_type="dataset")
    hub.put_files("org/many", {f"d/{i:04d}.txt": b"x" for i in range(2500)}, repo_type="dataset")
    client = api(hub)
    files = client.list_repo_files("org/many", repo_type="dataset")
    assert len(files) == 2500
    assert sum(1 for m, p in hub.requests if p.startswith("/api/datasets/org/many/tree")) == 3

    errors: list[BaseException] = []

    def push(i: int) -> None:
        try:
            client.create_commit(
                "org/many", [CommitOperationAdd(f"t/{i}.txt", b"%d" % i)], commit_message=f"t{i}", repo_type="dataset"
            )
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=push, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert {f"t/{i}.txt" for i in range(6)} <= set(hub.files("org/many", repo_type="dataset"))


def test_context_manager_lifecycle() -> None:
    hub = HubServer().start()
    endpoint = hub.endpoint
    assert endpoint.startswith("http://127.0.0.1:") and hub.token
    hub.stop()
    with pytest.raises(RuntimeError):
        _ = hub.endpoint
    with pytest.raises(ValueError):
        HubServer().inject(status=200)


def test_lfs_upload_list_download_with_the_real_client(
    hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Preupload says lfs: the client uses the batch API, PUTs the bytes, verifies, commits an lfsFile."""
    import hashlib

    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_DISABLE_XET", True)
    hub.upload_mode = "lfs"
    client = api(hub)
    client.create_repo("org/lfs", repo_type="dataset")
    data = b"PAR1" + bytes(range(256)) * 40 + b"PAR1"
    client.upload_file(path_or_fileobj=data, path_in_repo="data/x.parquet", repo_id="org/lfs", repo_type="dataset")
    client.upload_file(path_or_fileobj=b"# card\n", path_in_repo="README.md", repo_id="org/lfs", repo_type="dataset")
    sha256 = hashlib.sha256(data).hexdigest()
    assert hub.lfs_files("org/lfs", "dataset") == {"data/x.parquet": sha256}
    methods = [(m, p.split("/")[1]) for m, p in hub.requests]
    assert ("PUT", "_lfs") in methods and ("POST", "_lfs") in methods  # upload, then verify
    (entry,) = [e for e in client.list_repo_tree("org/lfs", "data", repo_type="dataset")]
    assert entry.lfs is not None and entry.lfs.sha256 == sha256 and entry.size == len(data)
    pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {len(data)}\n".encode()
    assert entry.blob_id == git_blob_sha(pointer)
    local = hf_hub_download("org/lfs", "data/x.parquet", repo_type="dataset", endpoint=hub.endpoint, local_dir=tmp_path)
    assert Path(local).read_bytes() == data
    # Uploading the same bytes again needs no PUT: the batch answer has no actions for a stored object.
    hub.clear_requests()
    client.upload_file(path_or_fileobj=data, path_in_repo="data/y.parquet", repo_id="org/lfs", repo_type="dataset")
    assert not [p for m, p in hub.requests if m == "PUT"]
    assert hub.files("org/lfs", "dataset")["data/y.parquet"] == data


def test_lfs_commit_of_an_object_never_uploaded_is_refused(hub: HubServer) -> None:
    import json

    import httpx2

    hub.create_repo("org/lfs", repo_type="dataset")
    lines = [
        {"key": "header", "value": {"summary": "sneak"}},
        {"key": "lfsFile", "value": {"path": "x.parquet", "algo": "sha256", "oid": "ab" * 32, "size": 3}},
    ]
    body = "\n".join(json.dumps(line) for line in lines).encode()
    response = httpx2.post(
        f"{hub.endpoint}/api/datasets/org/lfs/commit/main",
        content=body,
        headers={"Authorization": f"Bearer {hub.token}", "Content-Type": "application/x-ndjson"},
    )
    assert response.status_code == 422 and "never uploaded" in response.json()["error"]
    assert "x.parquet" not in hub.files("org/lfs", "dataset")
