"""The report's leaderboard ranks a lower-is-better metric ascending, as `emergebench leaderboard` does:
two Every Eval Ever records (made from the registry's committed fixture, one metric marked
``lower_is_better``, two models with errors 0.2 and 0.7) are imported and reported through the CLI."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

from test_report_analyze import cli
from test_report_imported import EEE_RECORDS, LeaderboardTable


def error_record(template: dict, model: str, error: float) -> dict:
    record = copy.deepcopy(template)
    record.pop("detailed_evaluation_results", None)  # aggregate only
    record["evaluation_id"] = f"direction-{model}"
    record["model_info"].update(id=f"lab/{model}", name=model, developer="lab")
    (result,) = record["evaluation_results"][:1]
    result["metric_config"].update(metric_id="error_rate", metric_name="error_rate", lower_is_better=True)
    result["score_details"] = {"score": error}
    result.pop("evaluation_result_id", None)
    record["evaluation_results"] = [result]
    return record


def test_report_leaderboard_ranks_the_smaller_error_first(rep_home: Path, bundle_cache: Path, tmp_path: Path) -> None:
    from emergebench_report.bundle import bundle_path

    template = json.loads(EEE_RECORDS[0].read_text())
    folder = tmp_path / "eee"
    folder.mkdir()
    for model, error in (("worse", 0.7), ("better", 0.2)):
        (folder / f"{model}.json").write_text(json.dumps(error_record(template, model, error)))
    done = cli(rep_home, "import-results", "eee", str(folder))
    assert done.returncode == 0, done.stderr
    bundle_path().parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(bundle_cache, bundle_path())
    page = tmp_path / "report.html"
    done = cli(rep_home, "report", "--output", str(page))
    assert done.returncode == 0, done.stderr
    parser = LeaderboardTable()
    parser.feed(page.read_text())
    header, *body = parser.rows
    assert any("(error_rate ↓)" in cell for cell in header)
    assert [row[0].split(" (")[0] for row in body] == ["lab/better", "lab/worse"]
    assert "↓ = lower is better" in page.read_text()
