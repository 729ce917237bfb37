"""The Hugging Face loading path, against the project's local Hub-API test server.

The served repo mimics the release's expected layout: one folder per task with train/dev/test CSVs
(and the reference's ``data_with_equal_boundary`` variant), built from the bundled sample rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from emergebench import UsageError
from emergebench_mars.schema import SCHEMAS, TRANSITION
from emergebench_mars.sources import SAMPLE_DIR, DataRequest, load
from emergebench_mars.tasks import TransitionTask

hubserver = pytest.importorskip("emergebench_testing.hubserver")

REPO = "mightyweaver/MARS"
FOLDERS = {
    "event": "metaphysical_event",
    "inference": "metaphysical_inference",
    "transition": "metaphysical_transition",
}


def _repo_files() -> dict[str, bytes]:
    files = {"README.md": b"---\nlicense: cc\n---\n", "Croissant.json": b"{}"}
    for task, folder in FOLDERS.items():
        for split in ("train", "dev", "test"):
            files[f"{folder}/{split}.csv"] = (SAMPLE_DIR / task / f"{split}.csv").read_bytes()
    variant = (SAMPLE_DIR / "transition" / "test.csv").read_bytes().splitlines(keepends=True)
    files["metaphysical_transition/data_with_equal_boundary/test.csv"] = b"".join(variant[:5])
    return files


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-home" / "hub"))
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    with hubserver.HubServer() as server:
        server.create_repo(REPO, repo_type="dataset")
        server.put_files(REPO, _repo_files(), repo_type="dataset")
        yield server


def test_loads_each_task_from_the_hub_and_caches(hub) -> None:  # type: ignore[no-untyped-def]
    for task, schema in SCHEMAS.items():
        loaded = load(DataRequest(endpoint=hub.endpoint), schema, "test")
        local = load(DataRequest(data="sample"), schema, "test")
        assert [r.fields for r in loaded.data.rows] == [r.fields for r in local.data.rows]
        assert loaded.origin["files"] == [f"{FOLDERS[task]}/test.csv"]
        assert loaded.origin["commit"] == hub.head(REPO, repo_type="dataset")
    downloads = [path for method, path in hub.requests if "/resolve/" in path and method == "GET"]
    assert len(downloads) == 3
    hub.clear_requests()
    load(DataRequest(endpoint=hub.endpoint), TRANSITION, "test")
    assert not [p for m, p in hub.requests if "/resolve/" in p and m == "GET"]  # served from the cache


def test_endpoint_from_environment_and_variant(hub, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
    loaded = load(DataRequest(variant="equal_boundary"), TRANSITION, "test")
    assert len(loaded.data.rows) == 4
    assert loaded.origin["files"] == ["metaphysical_transition/data_with_equal_boundary/test.csv"]


def test_revision_is_pinned(hub) -> None:  # type: ignore[no-untyped-def]
    first = hub.head(REPO, repo_type="dataset")
    changed = b"event_after_transition,inference,label\nx,y,1\n"
    hub.put_files(REPO, {"metaphysical_transition/test.csv": changed}, repo_type="dataset")
    assert len(load(DataRequest(endpoint=hub.endpoint), TRANSITION, "test").data.rows) == 1
    pinned = load(DataRequest(endpoint=hub.endpoint, revision=first), TRANSITION, "test")
    assert len(pinned.data.rows) == 12 and pinned.origin["commit"] == first
    with pytest.raises(UsageError, match="no revision 'v9'"):
        load(DataRequest(endpoint=hub.endpoint, revision="v9"), TRANSITION, "test")


def test_missing_repo_and_unreachable_hub_explain_how_to_get_the_data(hub, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UsageError, match="cannot open the dataset nobody/MARS") as info:
        load(DataRequest(endpoint=hub.endpoint, repo_id="nobody/MARS"), TRANSITION, "test")
    assert "hf download nobody/MARS --repo-type dataset" in str(info.value)
    with pytest.raises(UsageError) as info:
        load(DataRequest(endpoint="http://127.0.0.1:9"), TRANSITION, "test")  # nothing listens on port 9
    message = str(info.value)
    assert "could not be reached" in message and "no cached copy of mightyweaver/MARS@main" in message
    assert "-T data_dir=" in message and "-T data=sample" in message


def test_offline_falls_back_to_the_cache(hub) -> None:  # type: ignore[no-untyped-def]
    online = load(DataRequest(endpoint=hub.endpoint), TRANSITION, "test")
    hub.inject(503, times=20, path_contains="/api/datasets/")  # the Hub is down; the cache is not
    offline = load(DataRequest(endpoint=hub.endpoint), TRANSITION, "test")
    assert offline.origin["offline"] is True
    assert [r.fields for r in offline.data.rows] == [r.fields for r in online.data.rows]


def test_parquet_conversion_branch(hub) -> None:  # type: ignore[no-untyped-def]
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    pq.write_table(pa.table({"event_after_transition": ["a", "b"], "inference": ["c", "d"], "label": [0, 1]}), buffer)
    hub.create_branch(REPO, "parquet", repo_type="dataset")
    hub.put_files(
        REPO,
        {"metaphysical_transition/test/0000.parquet": buffer.getvalue()},
        repo_type="dataset",
        revision="parquet",
        delete=[f"{folder}/{split}.csv" for folder in FOLDERS.values() for split in ("train", "dev", "test")],
    )
    loaded = load(DataRequest(endpoint=hub.endpoint, revision="parquet"), TRANSITION, "test")
    assert [r.label for r in loaded.data.rows] == [0, 1]


def test_task_dataset_records_provenance(hub) -> None:  # type: ignore[no-untyped-def]
    task = TransitionTask(TransitionTask.Args(endpoint=hub.endpoint))
    samples = task.dataset(seed=0)
    assert len(samples) == 12
    facts = task.provenance()
    assert facts["mars.test.source"] == "hub" and facts["mars.test.commit"] == hub.head(REPO, repo_type="dataset")
    assert len(facts["mars.test.sha256"]) == 64
