"""`emergebench demo` ends by writing the report and printing its path."""

from __future__ import annotations

import shutil
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
