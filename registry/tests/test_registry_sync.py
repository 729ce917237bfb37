"""Hub sync against the test Hub server with the real huggingface_hub client."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import yaml
from emergebench_registry.query import run_sql
from emergebench_registry.store import Store
from emergebench_registry.sync import pull, push
from emergebench_testing.hubserver import HubServer
from huggingface_hub.utils._runtime import is_xet_available

REPO = "pool/results"
QUERIES = [
    "SELECT * EXCLUDE (source, ingested_at, cost_usd) FROM runs ORDER BY run_id",  # store-only columns
    "SELECT * FROM samples ORDER BY ALL",
    "SELECT * FROM scores ORDER BY ALL",
    "SELECT * EXCLUDE (cost_usd) FROM model_calls ORDER BY run_id, sample_id, epoch, call_index",
    "SELECT * FROM metrics ORDER BY ALL",
    "SELECT * FROM models ORDER BY ALL",
    "SELECT * FROM leaderboard ORDER BY ALL",
]


def results(store: Store) -> list[list]:
    return [run_sql(store, q).rows for q in QUERIES]


def downloads(hub: HubServer) -> list[str]:
    return [p for m, p in hub.requests if m == "GET" and "/resolve/" in p and p.endswith(".parquet")]


def test_push_then_pull_gives_identical_results(reg_run, reg_store: Store, reg_hub: HubServer, tmp_path: Path):
    reg_run()
    reg_run(model="scripted/constant", model_args={"reply": "2"})
    report = push(reg_store, REPO, reg_hub.endpoint, contributor="ada")
    assert len(report.runs) == 2 and len(report.files) == 12
    files = reg_hub.files(REPO, repo_type="dataset")
    assert "README.md" in files and sum(p.endswith(".parquet") for p in files) == 12
    card = files["README.md"].decode()
    meta = yaml.safe_load(card.split("---")[1])
    assert {c["config_name"]: c["data_files"][0]["path"] for c in meta["configs"]}["scores"] == (
        "data/scores/**/*.parquet"
    )
    assert all(reg_hub.token.encode() not in data for data in files.values())
    assert reg_hub.commit_titles(REPO, repo_type="dataset")[0] == "Add 2 emergebench run(s)"
    # Nothing new: no commit.
    head = reg_hub.head(REPO, repo_type="dataset")
    assert push(reg_store, REPO, reg_hub.endpoint).runs == []
    assert reg_hub.head(REPO, repo_type="dataset") == head

    fresh = Store(tmp_path / "fresh.duckdb")
    first = pull(fresh, REPO, reg_hub.endpoint)
    assert len(first.imported) == 2 and len(first.downloaded) == 12 and not first.rejected
    local, pooled = results(reg_store), results(fresh)
    # The pushed copy carries the contributor the pusher named; everything else is identical.
    assert run_sql(fresh, "SELECT DISTINCT contributor FROM runs").rows == [("ada",)]
    assert pooled[1:] == local[1:]
    assert [r[:-6] for r in pooled[0]] == [r[:-6] for r in local[0]]
    assert run_sql(fresh, "SELECT DISTINCT source FROM runs").rows == [(f"hub:{REPO}",)]

    reg_hub.clear_requests()
    second = pull(fresh, REPO, reg_hub.endpoint)
    assert second.up_to_date and second.downloaded == [] and downloads(reg_hub) == []


def test_incremental_pull_downloads_only_new_shards(reg_run, reg_store: Store, reg_hub: HubServer, tmp_path: Path):
    reg_run()
    push(reg_store, REPO, reg_hub.endpoint)
    fresh = Store(tmp_path / "fresh.duckdb")
    pull(fresh, REPO, reg_hub.endpoint)
    new = reg_run(model="scripted/constant", model_args={"reply": "0"})
    push(reg_store, REPO, reg_hub.endpoint)
    reg_hub.clear_requests()
    report = pull(fresh, REPO, reg_hub.endpoint)
    assert report.imported == [new.run_id]
    assert len(downloads(reg_hub)) == 6 and all(new.run_id in p for p in downloads(reg_hub))


def test_two_racing_pushers_both_land(reg_run, reg_store: Store, reg_hub: HubServer, tmp_path: Path):
    reg_run()
    other_store = Store(tmp_path / "other.duckdb")
    other_run = reg_run(model="scripted/constant", model_args={"reply": "3"})
    # Give the second pusher its own store holding only the second run.
    from emergebench_registry.ingest import ingest_paths

    ingest_paths(other_store, [reg_store.path.parent / "runs" / other_run.run_id])
    run_sql(reg_store, f"DELETE FROM runs WHERE run_id = '{other_run.run_id}'", write=True)
    barrier = threading.Barrier(2)
    reports, errors = {}, []

    def go(name: str, store: Store) -> None:
        try:
            barrier.wait()
            reports[name] = push(store, REPO, reg_hub.endpoint)
        except BaseException as exc:  # noqa: BLE001 - checked below
            errors.append(exc)

    reg_hub.create_repo(REPO, repo_type="dataset")
    # The first commit attempt of whoever comes second sees a moved head (412) and retries.
    threads = [threading.Thread(target=go, args=(n, s)) for n, s in (("a", reg_store), ("b", other_store))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    files = reg_hub.files(REPO, repo_type="dataset")
    assert sum(p.startswith("data/runs/") for p in files) == 2
    card = files["README.md"].decode()
    assert "(2 runs)" in card


def test_push_retries_412_409_429_5xx_and_recomputes(reg_run, reg_store: Store, reg_hub: HubServer):
    reg_run()
    reg_hub.create_repo(REPO, repo_type="dataset")
    moved = []

    def move_head(method: str, path: str) -> None:
        if method == "POST" and "/commit/" in path:
            moved.append(path)
        if len(moved) == 4 and method == "POST" and "/commit/" in path:  # after the three injected failures
            reg_hub.put_files(REPO, {"data/other.txt": b"someone else"}, repo_type="dataset", message="other")

    reg_hub.on_request(move_head)
    reg_hub.inject(status=409, times=1, path_contains="/commit/")
    reg_hub.inject(status=429, times=1, retry_after=0.2, path_contains="/commit/")
    reg_hub.inject(status=503, times=1, path_contains="/commit/")
    retries: list[str] = []
    report = push(reg_store, REPO, reg_hub.endpoint, on_retry=retries.append)
    assert report.attempts == 5  # 409, 429, 503, then 412 from the moved head, then success
    assert [r.split("HTTP ")[1].split(")")[0] for r in retries] == ["409", "429", "503", "412"]
    files = reg_hub.files(REPO, repo_type="dataset")
    assert "data/other.txt" in files and sum(p.startswith("data/runs/") for p in files) == 1


def test_pr_push_opens_pull_request(reg_run, reg_store: Store, reg_hub: HubServer):
    reg_run()
    reg_hub.create_repo(REPO, repo_type="dataset")
    report = push(reg_store, REPO, reg_hub.endpoint, create_pr=True)
    assert report.pr_url and report.pr_url.endswith("/discussions/1")
    assert not any(p.startswith("data/") for p in reg_hub.files(REPO, repo_type="dataset"))
    assert sum(p.startswith("data/runs/") for p in reg_hub.files(REPO, "dataset", "refs/pr/1")) == 1


def test_corrupt_shard_rejected_good_ones_ingested(reg_run, reg_store: Store, reg_hub: HubServer, tmp_path: Path):
    good = reg_run()
    bad = reg_run(model="scripted/constant", model_args={"reply": "4"})
    push(reg_store, REPO, reg_hub.endpoint)
    path = next(p for p in reg_hub.files(REPO, "dataset") if p.startswith("data/samples/") and bad.run_id in p)
    reg_hub.put_files(REPO, {path: b"PAR1garbagePAR1"}, repo_type="dataset", message="corrupt")
    fresh = Store(tmp_path / "fresh.duckdb")
    report = pull(fresh, REPO, reg_hub.endpoint)
    assert report.imported == [good.run_id]
    assert path in report.rejected and "unreadable Parquet footer" in report.rejected[path]
    assert run_sql(fresh, "SELECT run_id FROM runs").rows == [(good.run_id,)]


def test_bad_token_message_has_no_token(reg_run, reg_store: Store, reg_hub: HubServer, monkeypatch):
    reg_run()
    monkeypatch.setenv("HF_TOKEN", "hf_secret_value_123")
    from emergebench.errors import UsageError

    with pytest.raises(UsageError) as err:
        push(reg_store, REPO, reg_hub.endpoint)
    assert "HTTP 401" in str(err.value) and "hf_secret_value_123" not in str(err.value)


def test_pull_downloads_concurrently_and_a_failed_download_skips_only_its_run(
    reg_run, reg_store: Store, reg_hub: HubServer, tmp_path: Path
):
    runs = [reg_run(seed=s) for s in range(3)]
    push(reg_store, REPO, reg_hub.endpoint)
    lock, in_flight, peak = threading.Lock(), [0], [0]

    def slow_download(method: str, path: str) -> None:
        if method == "GET" and "/resolve/" in path and path.endswith(".parquet"):
            with lock:
                in_flight[0] += 1
                peak[0] = max(peak[0], in_flight[0])
            threading.Event().wait(0.05)
            with lock:
                in_flight[0] -= 1

    reg_hub.on_request(slow_download)
    # One shard's download fails for good (403): its run is skipped, the other two land.
    victim = next(p for p in reg_hub.files(REPO, "dataset") if p.startswith("data/scores/") and runs[1].run_id in p)
    reg_hub.inject(403, times=1, path_contains=victim, method="GET")
    fresh = Store(tmp_path / "fresh.duckdb")
    first = pull(fresh, REPO, reg_hub.endpoint)
    assert sorted(first.imported) == sorted([runs[0].run_id, runs[2].run_id])
    assert list(first.rejected) == [victim] and "HTTP 403" in first.rejected[victim]
    assert peak[0] >= 2, "shards were downloaded one at a time"
    assert run_sql(fresh, "SELECT count(*) FROM sync_files").rows == [(12,)]
    assert run_sql(fresh, "SELECT count(*) FROM sync_heads").rows == [(0,)]  # so the next pull tries again
    # The next pull fetches only the failed run's 6 shards and imports it.
    reg_hub.clear_requests()
    report = pull(fresh, REPO, reg_hub.endpoint)
    assert report.imported == [runs[1].run_id] and len(report.downloaded) == 6
    assert results(fresh)[1:] == results(reg_store)[1:]


def test_repo_with_files_uploaded_each_way_pulls_identically(
    reg_run, reg_store: Store, reg_hub: HubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """One run pushed with ``regular`` uploads, one through LFS (batch, PUT, verify, lfsFile): same pull."""
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_DISABLE_XET", True)  # the LFS path (see reg_hub)
    first = reg_run()
    reg_hub.upload_mode = "regular"
    push(reg_store, REPO, reg_hub.endpoint, run_ids=[first.run_id])
    second = reg_run(model="scripted/constant", model_args={"reply": "2"})
    reg_hub.upload_mode = "lfs"
    reg_hub.clear_requests()
    push(reg_store, REPO, reg_hub.endpoint, run_ids=[second.run_id])
    assert any(p.endswith("/info/lfs/objects/batch") for _, p in reg_hub.requests)
    assert sum(m == "PUT" and p.startswith("/_lfs/") for m, p in reg_hub.requests) == 6
    lfs = reg_hub.lfs_files(REPO, "dataset")
    assert len(lfs) == 6 and all(second.run_id in p for p in lfs)
    assert "README.md" not in lfs
    fresh = Store(tmp_path / "fresh.duckdb")
    report = pull(fresh, REPO, reg_hub.endpoint)
    assert sorted(report.imported) == sorted([first.run_id, second.run_id]) and not report.rejected
    assert results(fresh)[1:] == results(reg_store)[1:]


def test_lfs_mode_with_xet_on_is_a_clear_error_and_the_switch_takes_lfs(
    reg_run, reg_store: Store, reg_home: Path, monkeypatch: pytest.MonkeyPatch
):
    """hf_xet is installed (huggingface_hub requires it): with Xet on, the client uploads LFS-mode files only
    through Xet. Against a Hub that serves no Xet (this server, a self-hosted mirror) `sync push` says so in
    one line and names the switch; with HF_HUB_DISABLE_XET=1 the same push goes through the LFS batch API."""
    from test_registry_cli import eb

    assert is_xet_available()
    monkeypatch.delenv("HF_HUB_DISABLE_XET", raising=False)
    run = reg_run()
    with HubServer(upload_mode="lfs") as hub:
        monkeypatch.setenv("HF_TOKEN", hub.token)
        args = ("sync", "push", "--repo", REPO, "--endpoint", hub.endpoint)
        refused = eb(reg_home, *args)
        assert refused.returncode == 1, refused.stderr
        assert "Traceback" not in refused.stderr
        assert any(p == f"/api/datasets/{REPO}/xet-write-token/main" for _, p in hub.requests)
        assert "Xet" in refused.stderr and "HF_HUB_DISABLE_XET=1" in refused.stderr, refused.stderr
        assert not hub.lfs_files(REPO, "dataset")
        monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
        pushed = eb(reg_home, *args)
        assert pushed.returncode == 0, pushed.stderr
        lfs = hub.lfs_files(REPO, "dataset")
        assert len(lfs) == 6 and all(run.run_id in p for p in lfs)
