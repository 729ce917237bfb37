"""Credentials inside ``-M base_url`` reach the endpoint but are never written, hashed or pushed.

Real subprocesses of the CLI against the fake OpenAI server on 127.0.0.1 and the Hub test server."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from emergebench_testing.hubserver import HubServer
from emergebench_testing.openai_server import FakeOpenAIServer

EMERGEBENCH = str(Path(sys.executable).with_name("emergebench"))
USER, PASSWORD, QUERY_KEY = "alice", "hunter2-pw", "qk-s3cr3t-77"


def emergebench(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {
        **os.environ,
        "EMERGEBENCH_HOME": str(home),
        "EMERGEBENCH_LOAD_PLUGINS": "testtask,openai,registry",
        "HF_HOME": str(home / "hf"),
        **(env or {}),
    }
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "EMERGEBENCH_REGISTRY"):
        full.pop(name, None)
    return subprocess.run([EMERGEBENCH, *args], env=full, capture_output=True, text=True, timeout=240)


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as srv:
        yield srv


def run_dirs(home: Path) -> list[Path]:
    return sorted(p.parent for p in (home / "runs").glob("*/spec.json"))


def every_file_text(root: Path) -> str:
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in root.rglob("*") if p.is_file())


def test_credentials_in_base_url_are_used_but_never_recorded(tmp_path: Path, server: FakeOpenAIServer) -> None:
    home = tmp_path / "home"
    url = f"http://{USER}:{PASSWORD}@127.0.0.1:{server.port}/v1?api-key={QUERY_KEY}"
    done = emergebench(home, "run", "testtask/qa", "-m", "openai/fake", "-M", f"base_url={url}", "--limit", "2")
    assert done.returncode == 0, done.stderr + done.stdout
    assert "complete, 2/2 samples" in done.stdout
    # The endpoint got the credentials: basic auth from user:password.
    assert server.last_headers["authorization"] == "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert server.last_target == f"/v1/chat/completions?api-key={QUERY_KEY}"
    [run_dir] = run_dirs(home)
    spec = json.loads((run_dir / "spec.json").read_text())
    record = json.loads((run_dir / "run.json").read_text())
    public = f"http://127.0.0.1:{server.port}/v1"
    assert spec["model_args"] == {"base_url": public}
    assert record["model"]["args"]["base_url"] == public
    text = every_file_text(home / "runs") + done.stdout + done.stderr
    for secret in (PASSWORD, QUERY_KEY, f"{USER}:"):
        assert secret not in text
    rows = emergebench(home, "sql", "SELECT model_args::VARCHAR AS a, spec_id FROM runs", "-f", "json")
    assert rows.returncode == 0, rows.stderr
    [row] = json.loads(rows.stdout)
    assert json.loads(row["a"]) == {"base_url": public}
    # The same endpoint without credentials is the same spec: the secret never entered the hash.
    plain = emergebench(home, "run", "testtask/qa", "-m", "openai/fake", "-M", f"base_url={public}", "--limit", "2")
    assert plain.returncode == 0, plain.stderr
    ids = {json.loads((d / "run.json").read_text())["spec_id"] for d in run_dirs(home)}
    assert ids == {row["spec_id"]}


def test_sync_push_refuses_a_shard_holding_a_credential_url(tmp_path: Path, server: FakeOpenAIServer) -> None:
    """A run folder written before this fix (credentials in spec.json) is ingested but never pushed."""
    home = tmp_path / "home"
    done = emergebench(
        home, "run", "testtask/qa", "-m", "openai/fake", "-M", f"base_url={server.base_url}", "--limit", "1"
    )
    assert done.returncode == 0, done.stderr
    [run_dir] = run_dirs(home)
    leaked = f"http://{USER}:{PASSWORD}@127.0.0.1:{server.port}/v1"
    for name in ("spec.json", "run.json"):
        path = run_dir / name
        path.write_text(path.read_text().replace(server.base_url, leaked))
    with HubServer() as hub:
        env = {"HF_TOKEN": hub.token}
        pushed = emergebench(home, "sync", "push", "--repo", "org/pool", "--endpoint", hub.endpoint, env=env)
        assert pushed.returncode != 0, pushed.stdout
        assert "Traceback" not in pushed.stderr
        assert "data/runs/testtask/qa/" in pushed.stderr and "credentials" in pushed.stderr
        assert PASSWORD not in pushed.stderr
        try:
            files = hub.files("org/pool", repo_type="dataset")
        except Exception:  # noqa: BLE001 - the repo may not exist at all: nothing was pushed either way
            files = {}
        assert not any(f.endswith(".parquet") for f in files)
