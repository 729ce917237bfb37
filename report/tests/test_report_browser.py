"""`emergebench report` loaded in Debian's headless Chromium: every chart has marks, nothing is
fetched from the network, the console stays clean, the sample browser filters, a screenshot is written."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cdp import Browser, chromium_binary
from emergebench_registry.store import Store
from report_fixture import fill

TESTS = Path(__file__).parent
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(chromium_binary() is None, reason="chromium missing: ./setup.sh --dev installs it"),
]

CLI = (
    "import sys, report_testplugin; from emergebench.plugins import get_manager; "
    "get_manager().register_module(report_testplugin, 'rtest'); from emergebench.cli import main; main()"
)
HOSTILE = '</script><img src="http://127.0.0.1:9/x.png" onerror="console.error(\'injected\')">'


def test_report_renders_in_chromium(rep_home: Path, rep_run, bundle_cache: Path, tmp_path: Path) -> None:
    from emergebench_report.bundle import bundle_path

    bundle_path().parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(bundle_cache, bundle_path())
    results = fill(rep_run)
    flaky = next(r for r in results if r.spec.model == "toy/alpha-10m")
    store = Store()
    with store.writer() as con:  # hostile text as a pulled shard could carry it
        con.execute("UPDATE samples SET answer = ? WHERE run_id = ? AND sample_id = 'L8-11'", [HOSTILE, flaky.run_id])
        expected_failures = con.execute(
            """SELECT count(*) FROM samples sm LEFT JOIN scores s ON s.run_id = sm.run_id
               AND s.sample_id = sm.sample_id AND s.epoch = sm.epoch AND s.name = 'exact'
               WHERE sm.run_id = ? AND (sm.error IS NOT NULL OR s.value = 0)""",
            [flaky.run_id],
        ).fetchone()[0]

    output = tmp_path / "out" / "report.html"
    output.parent.mkdir()  # report --output needs an existing folder, like every file option
    figures = tmp_path / "figures"
    env = dict(os.environ, PYTHONPATH=str(TESTS) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env["EMERGEBENCH_LOAD_PLUGINS"] = "registry,report,mars,donor-game,boxinggym,skill-mix"
    proc = subprocess.run(
        [sys.executable, "-c", CLI, "report", "--no-scan", "-o", str(output), "--export", str(figures)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"Report written: {output.resolve()}" in proc.stdout
    page = output.read_text()
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=|@import|https?://cdn", page)
    n_charts = len(json.loads(re.search(r'id="charts-data">(.*?)</script>', page, re.S).group(1)))
    assert n_charts == 5  # one exact | per_token pair chart per k (2, 8), and 3 task views
    assert len(list(figures.glob("*.svg"))) == len(list(figures.glob("*.png"))) == n_charts

    with Browser(tmp_path / "profile") as browser:
        assert browser.open(output.as_uri()) == "true"
        marks = browser.evaluate(
            "[...document.querySelectorAll('.vega')].map(d => [d.id, "
            "d.querySelectorAll('svg g.role-mark path, svg g.role-mark line, svg g.role-mark rect').length])"
        )
        assert len(marks) == n_charts
        assert all(count > 0 for _, count in marks), marks
        views = browser.evaluate("[...document.querySelectorAll('#views figcaption')].map(f => f.textContent)")
        assert any("Donor Game" in v for v in views) and any("BoxingGym" in v for v in views)
        assert any("MARS" in v for v in views)

        select_run = (
            "(() => { const s = document.getElementById('run-select');"
            f" const o = [...s.options].find(o => o.textContent.includes('{flaky.run_id}'));"
            " s.value = o.value; s.dispatchEvent(new Event('change')); return o.textContent; })()"
        )
        assert "toy/alpha-10m" in browser.evaluate(select_run)
        rows = "document.querySelectorAll('#samples tbody tr').length"

        def show(mode: str) -> int:
            browser.evaluate(
                "(() => { const f = document.getElementById('sample-filter');"
                f" f.value = '{mode}'; f.dispatchEvent(new Event('change')); }})()"
            )
            return browser.evaluate(rows)

        assert show("all") == 24
        assert show("errors") == 4  # fail_first=2 for each of the two lengths
        assert show("failures") == expected_failures
        assert all(
            "RuntimeError" in e
            for e in browser.evaluate(
                "[...document.querySelectorAll('#samples tbody td.err')].map(td => td.textContent).filter(t => t)"
            )
        )
        show("all")
        browser.evaluate(
            "(() => { const s = document.getElementById('sample-search'); s.value = 'L8-11';"
            " s.dispatchEvent(new Event('input')); })()"
        )
        assert browser.evaluate(rows) == 1
        assert HOSTILE in browser.evaluate("document.querySelector('#samples tbody tr').textContent")
        assert browser.evaluate("document.querySelectorAll('#samples img').length") == 0

        shot = browser.screenshot(tmp_path / "report.png")
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
        assert browser.console_errors == []
        assert browser.requests and all(url.startswith("file://") for url in browser.requests), browser.requests
