"""`emergebench run` as a real subprocess against both providers: the openai provider talking to
llama.cpp's OpenAI-compatible server (xllamacpp, on 127.0.0.1) and the embedded llamacpp model.
Needs the test plugin tests/fixtures/eb-testtask installed (it provides testtask/qa)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

EMERGEBENCH = str(Path(sys.executable).with_name("emergebench"))


def emergebench(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "EMERGEBENCH_HOME": str(home),
        "EMERGEBENCH_LOAD_PLUGINS": "testtask,openai,llamacpp",
        "COLUMNS": "200",
    }
    env.pop("OPENAI_BASE_URL", None)
    return subprocess.run(
        [EMERGEBENCH, "run", "testtask/qa", *args], env=env, capture_output=True, text=True, timeout=240
    )


def run_record(home: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((home / "runs").glob("*/run.json"))]


@pytest.fixture(scope="module")
def llama_server_url() -> Iterator[str]:
    pytest.importorskip("xllamacpp")
    from emergebench_llamacpp.serve import serve_http

    with serve_http(n_ctx=1024) as url:
        yield url


def test_cli_run_through_openai_provider(tmp_path: Path, llama_server_url: str) -> None:
    done = emergebench(tmp_path, "-m", "openai/smollm2-135m", "-M", f"base_url={llama_server_url}", "--limit", "2")
    assert done.returncode == 0, done.stderr + done.stdout
    assert "complete, 2/2 samples, 0 failed" in done.stdout
    [record] = run_record(tmp_path)
    assert record["model"]["provider"] == "openai" and record["model"]["family"] == "smollm2"
    assert record["model"]["args"] == {"base_url": llama_server_url}
    assert record["input_tokens"] > 0 and record["output_tokens"] > 0


def test_cli_run_on_embedded_model_then_from_cache(tmp_path: Path) -> None:
    first = emergebench(tmp_path, "-m", "llamacpp/smollm2-135m", "--limit", "2")
    assert first.returncode == 0, first.stderr + first.stdout
    assert "complete, 2/2 samples, 0 failed, 2 model calls (0 from cache)" in first.stdout
    again = emergebench(tmp_path, "-m", "llamacpp/smollm2-135m", "--limit", "2")
    assert again.returncode == 0, again.stderr + again.stdout
    assert "0 model calls (2 from cache)" in again.stdout
    records = run_record(tmp_path)
    assert len(records) == 2 and {r["model"]["args"]["sha256"] for r in records} == {
        records[0]["model"]["args"]["sha256"]
    }
    assert records[0]["model"]["family"] == "smollm2" and records[0]["model"]["parameters"] == 135_000_000


def test_cli_reports_bad_model_option(tmp_path: Path) -> None:
    done = emergebench(tmp_path, "-m", "llamacpp/smollm2-135m", "-M", "n_ctxx=5", "--limit", "1")
    assert done.returncode != 0 and "n_ctxx" in done.stderr and "Traceback" not in done.stderr
