"""The local executor's per-endpoint limit, end to end: `emergebench sweep` in a subprocess, its worker
processes calling one fake OpenAI server, which counts the requests it holds at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from emergebench_testing.openai_server import FakeOpenAIServer


def test_calls_in_flight_per_endpoint_hold_across_worker_processes(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMERGEBENCH_")}
    env.update(EMERGEBENCH_HOME=str(tmp_path / "home"), EMERGEBENCH_LOAD_PLUGINS="openai,testtask")
    with FakeOpenAIServer(latency_s=0.2) as server:
        cmd = [sys.executable, "-m", "emergebench", "sweep", "-t", "testtask/qa", "-T", "n=12"]
        cmd += ["-m", "openai/m1", "-m", "openai/m2", "-M", f"base_url={server.base_url}"]
        cmd += ["--max-runs", "2", "-c", "6", "--max-calls-per-endpoint", "3", "--json"]
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=240)
        assert done.returncode == 0, done.stderr
        assert [r["status"] for r in json.loads(done.stdout)["runs"]] == ["complete", "complete"]
        # 2 runs x 6 calls wanted at once, never more than 3 at the server; every answer correct
        assert server.max_in_flight == 3 and server.completed == 24
