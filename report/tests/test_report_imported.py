"""Imported results (real inspect_ai, lm-evaluation-harness and HELM logs, the registry's import fixtures) next
to a native run, through the CLI in subprocesses as a user runs it: `leaderboard`, `analyze --format json`
and `report` show the imported rows like native ones, each marked with its origin. Expected values are
read from the fixture files with the json module, not through the importers."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_report_analyze import cli

FIXTURES = Path(__file__).parents[2] / "registry" / "tests" / "fixtures" / "imports"
INSPECT_JSON = FIXTURES / "inspect-addition.json"
(LM_RESULTS,) = (FIXTURES / "lm-eval").glob("results_*.json")
(LM_SAMPLES,) = (FIXTURES / "lm-eval").glob("samples_*.jsonl")
(HELM_ADDITION,) = (FIXTURES / "helm" / "runs" / "fixtures").glob("addition:*")
EEE_RECORDS = sorted((FIXTURES / "eee").rglob("*-*-*-*-*.json"))  # Every Eval Ever aggregate records
NATIVE_MODEL = "toy/alpha-100m"


def expected_imports() -> dict[tuple[str, str], tuple[str, str, float, int]]:
    """(task, model) -> (origin, metric, per-sample mean, n), from the tools' own files."""
    log = json.loads(INSPECT_JSON.read_text())
    grades = {"C": 1.0, "P": 0.5, "I": 0.0, "N": 0.0}
    inspect_scores = [grades[s["scores"]["match"]["value"]] for s in log["samples"]]
    results = json.loads(LM_RESULTS.read_text())
    lm_scores = [float(json.loads(line)["exact_match"]) for line in LM_SAMPLES.read_text().splitlines()]
    lm_model = f"{results['config']['model']}/{results['model_name']}"
    helm_spec = json.loads((HELM_ADDITION / "run_spec.json").read_text())
    helm_scores = [
        item["mean"]
        for entry in json.loads((HELM_ADDITION / "per_instance_stats.json").read_text())
        for item in entry["stats"]
        if item["name"]["name"] == "exact_match"
    ]
    return {
        ("helm/addition", helm_spec["adapter_spec"]["model"]): (
            "helm",
            "exact_match",
            sum(helm_scores) / len(helm_scores),
            len(helm_scores),
        ),
        (f"inspect/{log['eval']['task']}", log["eval"]["model"]): (
            "inspect",
            "match",
            sum(inspect_scores) / len(inspect_scores),
            len(inspect_scores),
        ),
        ("lm-eval/addition", lm_model): ("lm-eval", "exact_match", sum(lm_scores) / len(lm_scores), len(lm_scores)),
    }


class LeaderboardTable(HTMLParser):
    """The rows of the report's <table id="leaderboard">, as lists of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.inside, self.rows, self.cell = False, [], None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table" and ("id", "leaderboard") in attrs:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.inside = False
        elif self.inside and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(self.cell)
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell += data


@pytest.fixture
def mixed_registry(rep_home: Path, rep_run) -> Path:
    rep_run(NATIVE_MODEL)
    for fmt, path in (
        ("inspect", INSPECT_JSON),
        ("lm-eval", LM_RESULTS),
        ("helm", HELM_ADDITION),
        ("eee", FIXTURES / "eee"),
    ):
        done = cli(rep_home, "import-results", fmt, str(path))
        assert done.returncode == 0, done.stderr
    return rep_home


def test_leaderboard_marks_imported_rows_with_their_origin(mixed_registry: Path) -> None:
    expected = expected_imports()
    done = cli(mixed_registry, "leaderboard", "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = {(r["task"], r["model_id"]): r for r in json.loads(done.stdout)}
    assert rows[("rtest/mirage", NATIVE_MODEL)]["origin"] == "native"
    for key, (origin, _, _, n) in expected.items():
        assert rows[key]["origin"] == origin and rows[key]["n"] == n
    eee_models = {json.loads(p.read_text())["model_info"]["id"] for p in EEE_RECORDS}
    assert {model for (task, model), r in rows.items() if r["origin"] == "eee"} == eee_models
    assert {r["origin"] for r in rows.values()} == {"native", "inspect", "lm-eval", "helm", "eee"}
    table = cli(mixed_registry, "leaderboard", "--format", "markdown")  # the pivot, in cells easy to split
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    cells = [[c.strip() for c in line.strip("|").split(" | ")] for line in lines if line.startswith("| ")]
    assert cells[0][:2] == ["model", "origin"]
    origins = {row[0].split(" (")[0]: row[1] for row in cells[1:]}
    assert origins[NATIVE_MODEL] == "native"
    for (_, model), (origin, *_) in expected.items():
        assert origins[model] == origin
    assert any(line.startswith("origin: native = run with emergebench") for line in lines)


def test_analyze_json_pools_imported_runs_like_native_ones(mixed_registry: Path) -> None:
    done = cli(mixed_registry, "analyze", "--format", "json")
    assert done.returncode == 0, done.stderr
    points = {(p["task"], p["model_id"], p["metric"]): p for p in json.loads(done.stdout)}
    for (task, model), (origin, metric, mean, n) in expected_imports().items():
        point = points[(task, model, metric)]
        assert point["origin"] == origin and point["n"] == n and point["runs"] == 1
        assert point["mean"] == pytest.approx(mean, abs=1e-6)
        assert point["ci_low"] <= point["mean"] <= point["ci_high"]
        assert point["parameters"] == 135_000_000  # from the name: smollm2-135m-instruct
    native = [p for p in points.values() if p["model_id"] == NATIVE_MODEL]
    assert native and {p["origin"] for p in native} == {"native"}


def test_report_leaderboard_shows_each_rows_origin(mixed_registry: Path, bundle_cache: Path, tmp_path: Path) -> None:
    from emergebench_report.bundle import bundle_path

    bundle_path().parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(bundle_cache, bundle_path())
    page = tmp_path / "report.html"
    done = cli(mixed_registry, "report", "--output", str(page))
    assert done.returncode == 0, done.stderr
    parser = LeaderboardTable()
    parser.feed(page.read_text())
    header, *body = parser.rows
    assert header[:2] == ["model", "origin"]
    origins = {row[0].split(" (")[0]: row[1] for row in body}
    assert origins[NATIVE_MODEL] == "native"
    for (_, model), (origin, *_) in expected_imports().items():
        assert origins[model] == origin
    assert "origin: native = run with emergebench" in page.read_text()
