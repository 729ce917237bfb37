"""A run's memory is flat in its number of samples (issue #18): the peak RSS of a real
``emergebench run`` process, read from its own VmHWM, grows by well under the ~6.5 KB per sample it
grew by when the runner kept every result for the metrics (11.8 KB with the registry's in-process
ingest). What still grows is the task's own sample list (~0.7 KB per testtask sample) and the job list.
A structural property, not a timing: it holds on a loaded machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PEAKRSS = Path(__file__).with_name("peakrss")
EMERGEBENCH = str(Path(sys.executable).with_name("emergebench"))


def _run(home: Path, samples: int, peaks: Path) -> dict[int, dict]:
    """Peak RSS (kB) of every Python process of one `emergebench run`, by pid (the run's own first)."""
    peaks.mkdir()
    env = {
        **os.environ,
        "EMERGEBENCH_HOME": str(home),
        "PYTHONPATH": os.pathsep.join([str(PEAKRSS), os.environ.get("PYTHONPATH", "")]),
        "PEAK_RSS_DIR": str(peaks),
    }
    # the first command in a new home loads every installed plugin once to write the plugin index (about
    # 120-170 MB with all first-party plugins); measured here is a run as every later one is: index warm
    subprocess.run([EMERGEBENCH, "--help"], env=env, capture_output=True, check=True, timeout=300)
    for stale in peaks.iterdir():
        stale.unlink()
    command = [EMERGEBENCH, "run", "testtask/qa", "-m", "scripted/constant", "-T", f"n={samples}", "-c", "64"]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode in (0, 1), proc.stderr  # scripted/constant answers wrong: the run is complete
    assert "was not added to the registry" not in proc.stderr, proc.stderr
    out = {int(p.name): json.loads(p.read_text()) for p in peaks.iterdir()}
    return out


def _count(home: Path) -> int:
    proc = subprocess.run(
        [EMERGEBENCH, "sql", "-f", "json", "--no-scan", "SELECT count(*) AS n FROM samples"],
        env={**os.environ, "EMERGEBENCH_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return int(json.loads(proc.stdout)[0]["n"])


@pytest.mark.slow
def test_peak_rss_of_a_cli_run_is_flat_in_its_samples(tmp_path: Path) -> None:
    small, large = 2_000, 10_000
    runs = {}
    for n in (small, large):
        home = tmp_path / f"home{n}"
        runs[n] = _run(home, n, tmp_path / f"peaks{n}")
        assert _count(home) == n  # the registry ingested every sample (in its own process, see finish.py)
    own = {n: next(v for v in r.values() if "run" in v["argv"])["peak_kb"] for n, r in runs.items()}
    growth_bytes = (own[large] - own[small]) * 1024 / (large - small)
    assert growth_bytes < 2048, f"peak RSS {own} kB: {growth_bytes:.0f} bytes more per sample"
    assert own[large] < 150 * 1024, f"peak RSS of a 10,000-sample run {own[large] / 1024:.0f} MB"
