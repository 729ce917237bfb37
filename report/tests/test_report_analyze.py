"""`emergebench analyze` over a real registry filled by real runs of the toy models; every expected
value is recomputed independently from the runs' journals."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from emergebench.metrics import wilson_interval
from emergebench_registry.shards import export_runs, import_paths
from emergebench_registry.store import Store
from emergebench_report.analysis import analyze, point_rows
from emergebench_report.pairs import collect_group_by, collect_pairs
from emergebench_report.pooled import load_pool

TESTS = Path(__file__).parent
MODELS = ["toy/alpha-10m", "toy/alpha-100m", "toy/alpha-1000m", "toy/beta-10m", "toy/beta-100m"]
CLI = (
    "import sys, report_testplugin; from emergebench.plugins import get_manager; "
    "get_manager().register_module(report_testplugin, 'rtest'); from emergebench.cli import main; main()"
)


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(
        EMERGEBENCH_HOME=str(home),
        EMERGEBENCH_LOAD_PLUGINS="registry,report",
        PYTHONPATH=str(TESTS) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    env.pop("EMERGEBENCH_REGISTRY", None)
    return subprocess.run([sys.executable, "-c", CLI, *args], env=env, capture_output=True, text=True, timeout=300)


def journal_means(runs_dir: Path, run_ids: set[str]) -> dict[tuple[str, str, str], tuple[float, int]]:
    """(model, k group, score) -> (mean, n), read straight from the journals (not the registry)."""
    values: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for run_dir in runs_dir.iterdir():
        if run_dir.name not in run_ids:
            continue
        model = json.loads((run_dir / "run.json").read_text())["spec"]["model"]
        for line in (run_dir / "journal.jsonl").read_text().splitlines():
            record = json.loads(line)
            for name, value in record["scores"].items():
                values[(model, f"k={record['metadata']['k']}", name)].append(value)
    return {key: (sum(v) / len(v), len(v)) for key, v in values.items()}


@pytest.fixture
def filled(rep_home: Path, rep_run):
    results = [rep_run(model) for model in MODELS]
    return rep_home, results


def test_points_match_the_journals_groups_stay_apart_and_intervals_cover(filled) -> None:
    home, results = filled
    out = cli(home, "analyze", "--format", "json", "--no-scan")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    expected = journal_means(home / "runs", {r.run_id for r in results})
    assert len(rows) == len(expected) == len(MODELS) * 2 * 2  # models x k in {2, 8} x {exact, per_token}
    for row in rows:
        assert row["group"] in ("k=2", "k=8")  # Skill-Mix-style groups are never pooled
        mean, n = expected[(row["model_id"], row["group"], row["metric"])]
        assert row["mean"] == pytest.approx(mean, abs=1e-6)
        assert row["n"] == n == 40
        assert row["ci_low"] <= row["mean"] <= row["ci_high"]
        assert row["role"] == {"exact": "headline", "per_token": "continuous"}[row["metric"]]
        assert row["family"] == row["model_id"].split("/")[1].split("-")[0]
        if row["metric"] == "exact" and 0 < mean < 1:
            # the bootstrap percentile interval of a proportion agrees with Wilson's to within a few points
            low, high = wilson_interval(round(mean * n), n)
            assert abs(row["ci_low"] - low) < 0.06 and abs(row["ci_high"] - high) < 0.06


def test_only_comparable_runs_are_pooled_and_failed_runs_are_named(filled, rep_run) -> None:
    home, _ = filled
    other = rep_run("toy/alpha-10m", task_args={"n": 10})  # other arguments: a curve of its own
    again = rep_run("toy/alpha-100m", seed=1)  # same task args: pooled with the first alpha-100m run
    store = Store()
    with store.writer() as con:
        con.execute("UPDATE runs SET status = 'failed' WHERE run_id = ?", [other.run_id])
    out = cli(home, "analyze", "--format", "json", "--no-scan", "--metric", "exact")
    assert out.returncode == 0, out.stderr
    assert "Left out 1 run(s) (1 failed)" in out.stderr
    rows = json.loads(out.stdout)
    assert {r["args"] for r in rows} == {"lengths=[2, 8] n=40"}
    pooled = [r for r in rows if r["model_id"] == "toy/alpha-100m"]
    assert {r["n"] for r in pooled} == {80} and {r["runs"] for r in pooled} == {2}
    assert again.status == "complete"
    with store.writer() as con:
        con.execute("UPDATE runs SET status = 'complete' WHERE run_id = ?", [other.run_id])
    rows = json.loads(cli(home, "analyze", "--format", "json", "--no-scan", "--metric", "exact").stdout)
    assert {r["args"] for r in rows} == {"lengths=[2, 8] n=40", "lengths=[2, 8] n=10"}


def test_pulled_runs_analyze_like_local_ones(filled, tmp_path: Path) -> None:
    home, _ = filled
    local = Store()
    with local.reader() as con:
        export_runs(con, tmp_path / "shards")
        local_rows = point_rows(analyze(load_pool(con, collect_group_by()), collect_pairs(), diagnostics=False))
    other = Store(tmp_path / "other.duckdb")
    import_paths(other, [tmp_path / "shards"], source="pulled")
    with other.reader() as con:
        assert con.execute("SELECT DISTINCT source FROM runs").fetchall() == [("pulled",)]
        pulled_rows = point_rows(analyze(load_pool(con, collect_group_by()), collect_pairs(), diagnostics=False))
    assert pulled_rows == local_rows and local_rows


def test_fits_pairs_csv_markdown_and_charts(filled, tmp_path: Path) -> None:
    home, _ = filled
    fits = cli(home, "analyze", "--table", "fits", "--format", "csv", "--no-scan")
    assert fits.returncode == 0, fits.stderr
    header = fits.stdout.splitlines()[0].split(",")
    assert header[:4] == ["task", "task_version", "args", "group"] and "breakthroughness" in header
    # 3 alpha sizes and 2 beta sizes: too few for a fit, but the BIG-bench measures are computed
    assert "too few models" in fits.stdout
    pairs = cli(home, "analyze", "--table", "pairs", "--format", "markdown", "--no-scan")
    assert pairs.returncode == 0, pairs.stderr
    assert pairs.stdout.startswith("| task") and "| exact |" in pairs.stdout and "| per_token |" in pairs.stdout
    charts = tmp_path / "charts"
    out = cli(home, "analyze", "--charts", str(charts), "--no-scan", "--format", "csv")
    assert out.returncode == 0, out.stderr
    svgs = sorted(charts.glob("*.svg"))
    pngs = sorted(charts.glob("*.png"))
    assert len(svgs) == len(pngs) == 2  # one exact-vs-per_token pair chart per k group
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    assert all("<svg" in s.read_text()[:200] and s.read_text().count("<path") > 4 for s in svgs)


def test_no_registry_data_says_so(rep_home: Path) -> None:
    out = cli(rep_home, "analyze", "--no-scan")
    assert out.returncode == 0, out.stderr
    assert math.isfinite(len(out.stdout))


def test_derived_headlines_count_passes_from_values_and_from_zero_one_summaries() -> None:
    """A pair's threshold derives the headline: from the sorted values of a continuous cell, and from
    (n, ones) alone when every continuous score is 0 or 1 (the cell then carries no values)."""
    import numpy as np
    from emergebench.metric_pairs import MetricPair
    from emergebench_report.pooled import Cell, CurveKey, ModelMeta, Pool

    key = CurveKey("t", "1", "{}", "", "", "")
    cells = [
        Cell(key, "m/a", "z", 5, 1.0, np.array([-1.0, -0.5, 0.0, 0.5, 2.0]), 1),  # z <= 0 passes: 3 of 5
        Cell(key, "m/b", "z", 4, 3.0, None, 1),  # three 1s and one 0: only the 0 passes
    ]
    pool = Pool(cells, {"m/a": ModelMeta("f", 10**8), "m/b": ModelMeta("f", 10**9)})
    pairs = {"t": [MetricPair(headline="solved", continuous="z", threshold=0.0, lower_is_better=True)]}
    rows = {(p.model_id, p.metric): p for p in analyze(pool, pairs, diagnostics=False).points}
    assert rows[("m/a", "solved")].mean == pytest.approx(3 / 5) and rows[("m/a", "solved")].derived
    assert rows[("m/b", "solved")].mean == pytest.approx(1 / 4) and rows[("m/b", "solved")].n == 4
    assert rows[("m/a", "z")].mean == pytest.approx(0.2) and rows[("m/b", "z")].mean == pytest.approx(0.75)
