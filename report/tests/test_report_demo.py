"""`emergebench demo` ends by writing the report and printing its path."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from test_report_analyze import cli


def test_demo_writes_the_report_last(rep_home: Path, bundle_cache: Path) -> None:
    from emergebench_report.bundle import bundle_path

    bundle_path().parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(bundle_cache, bundle_path())
    out = cli(rep_home, "demo", "--task", "rtest/mirage", "-m", "toy/alpha-100m")
    assert out.returncode == 0, out.stderr
    last = out.stdout.strip().splitlines()[-1]
    report = rep_home / "report.html"
    assert last.startswith(f"Report written: {report.resolve()}")
    page = report.read_text()
    assert "toy/alpha-100m" in page and "rtest/mirage" in page


def test_demo_skill_mix_view_has_a_point_for_each_k(rep_home: Path, bundle_cache: Path) -> None:
    """`emergebench demo` runs Skill-Mix at k = 1 and k = 2, so the report's by-k view has two points
    per model (a curve, not a dot). A scripted model stands in for the embedded one (same demo
    settings; the embedded model's run of them is plugins/skill-mix/tests/test_skillmix_embedded.py)."""
    from emergebench_report.bundle import bundle_path

    bundle_path().parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(bundle_cache, bundle_path())
    env = dict(os.environ, EMERGEBENCH_HOME=str(rep_home), EMERGEBENCH_LOAD_PLUGINS="registry,report,skill-mix")
    env.pop("EMERGEBENCH_REGISTRY", None)
    out = subprocess.run(
        [sys.executable, "-m", "emergebench", "demo", "--task", "skill-mix", "-m", "scripted/constant"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.stdout.strip().splitlines()[-1].startswith("Report written:"), out.stderr
    page = (rep_home / "report.html").read_text()
    charts = json.loads(re.search(r'<script type="application/json" id="charts-data">(.*?)</script>', page).group(1))
    rows = [row for chart in charts for row in data_rows(chart["spec"]) if "k" in row and "ratio_of_full_marks" in row]
    assert sorted(row["k"] for row in rows) == [1, 2]
    assert {row["model"] for row in rows} == {"scripted/constant"}


def data_rows(spec: object) -> list[dict]:
    """Every data row of a Vega-Lite spec: inline ``data.values`` at any depth and named ``datasets``."""
    if isinstance(spec, list):
        return [row for item in spec for row in data_rows(item)]
    if not isinstance(spec, dict):
        return []
    rows = [row for values in spec.get("datasets", {}).values() for row in values]
    rows += spec.get("data", {}).get("values", []) if isinstance(spec.get("data"), dict) else []
    return rows + [row for key, value in spec.items() if key not in ("data", "datasets") for row in data_rows(value)]
