"""Importing HELM run folders: the fixtures were written by crfm-helm 0.5.16 itself
(scripts/gen_import_fixtures.py --only helm): the addition scenario through HELM's OpenAI-compatible
client against the project's test server, and HELM's built-in simple1 scenario on simple/model1 (three
train trials). Every expected value is read here from HELM's files with the json module."""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import pytest
from emergebench_registry.imports import import_results
from emergebench_registry.query import run_sql
from emergebench_registry.store import Store

HELM = Path(__file__).parent / "fixtures" / "imports" / "helm"
SUITE = HELM / "runs" / "fixtures"
(ADDITION,) = SUITE.glob("addition:*")
(SIMPLE,) = SUITE.glob("simple1:*")
FILES = ("run_spec.json", "stats.json", "per_instance_stats.json", "scenario_state.json")


def rows(sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    return run_sql(Store(), sql, params=params).rows


def load(folder: Path, name: str):
    return json.loads((folder / name).read_text())


def per_instance(folder: Path, stat: str) -> dict[tuple[str, int], float]:
    """(instance id, epoch) -> the stat's mean, for unperturbed instances, straight from HELM's file."""
    found = {}
    for entry in load(folder, "per_instance_stats.json"):
        if entry.get("perturbation"):
            continue
        for item in entry["stats"]:
            if item["name"]["name"] == stat and item.get("mean") is not None:
                found[(entry["instance_id"], entry["train_trial_index"] + 1)] = item["mean"]
    return found


def overall(folder: Path, stat: str) -> float:
    (value,) = [
        s["mean"]
        for s in load(folder, "stats.json")
        if s["name"]["name"] == stat and s["name"].get("split") == "test" and "perturbation" not in s["name"]
    ]
    return value


def run_of(task: str) -> str:
    ((run_id,),) = rows("SELECT run_id FROM runs WHERE task = ?", [task])
    return run_id


def test_helm_runs_land_with_per_instance_scores_aggregates_model_and_scenario(reg_home: Path) -> None:
    report = import_results(Store(), "helm", [HELM])
    assert len(report.imported) == 2 and not report.rejected
    spec = load(ADDITION, "run_spec.json")
    run_id = run_of("helm/addition")
    model, status, n, main, source, provenance = rows(
        "SELECT model_id, status, n_samples, main_metric, source, task_provenance FROM runs WHERE run_id = ?", [run_id]
    )[0]
    assert model == spec["adapter_spec"]["model"] == "local/smollm2-135m-instruct"
    assert (status, main) == ("complete", "exact_match")
    expected = per_instance(ADDITION, "exact_match")
    assert n == len(expected) == 6 and sum(expected.values()) == 5  # the last target is wrong on purpose
    digest = hashlib.sha256(
        "".join(f"{name} {hashlib.sha256((ADDITION / name).read_bytes()).hexdigest()}\n" for name in FILES).encode()
    ).hexdigest()
    assert source == f"helm unknown sha256:{digest}"
    assert json.loads(provenance)["run_name"] == spec["name"]
    assert json.loads(provenance)["scenario_class"] == spec["scenario_spec"]["class_name"]
    stored = {
        (s, e): v
        for s, e, v in rows(
            "SELECT sample_id, epoch, value FROM scores WHERE run_id = ? AND name = 'exact_match'", [run_id]
        )
    }
    assert stored == expected
    value, stderr, count = rows(
        "SELECT value, stderr, n FROM metrics WHERE run_id = ? AND name = 'exact_match' AND breakdown = ''", [run_id]
    )[0]
    values = list(expected.values())
    assert value == pytest.approx(overall(ADDITION, "exact_match")) == pytest.approx(statistics.mean(values))
    assert stderr == pytest.approx(statistics.stdev(values) / math.sqrt(len(values))) and count == 6
    perturbed = rows(
        "SELECT breakdown FROM metrics WHERE run_id = ? AND name = 'exact_match' AND breakdown <> ''", [run_id]
    )
    assert sorted(b for (b,) in perturbed) == ["perturbation=fairness/worst", "perturbation=robustness/worst"]
    state = load(ADDITION, "scenario_state.json")["request_states"]
    answers = {r["instance"]["id"]: r["result"]["completions"][0]["text"] for r in state}
    inputs = {r["instance"]["id"]: r["instance"]["input"]["text"] for r in state}
    stored_samples = rows("SELECT sample_id, answer, input, target FROM samples WHERE run_id = ?", [run_id])
    assert {s: a for s, a, _, _ in stored_samples} == answers
    assert {s: json.loads(i) for s, _, i, _ in stored_samples} == inputs
    targets = {r["instance"]["id"]: r["instance"]["references"][0]["output"]["text"] for r in state}
    assert {s: json.loads(t) for s, _, _, t in stored_samples} == targets
    tokens = sum(per_instance(ADDITION, "num_prompt_tokens").values())
    assert rows("SELECT input_tokens FROM runs WHERE run_id = ?", [run_id]) == [(tokens,)]
    assert rows("SELECT family, parameters FROM models WHERE model_id = ?", [model]) == [
        ("smollm2-instruct", 135_000_000)
    ]


def test_helm_train_trials_become_epochs_and_a_run_without_a_headline_has_none(reg_home: Path) -> None:
    import_results(Store(), "helm", [SIMPLE / "run_spec.json"])
    spec = load(SIMPLE, "run_spec.json")
    run_id = run_of("helm/simple1")
    expected = per_instance(SIMPLE, "num_output_tokens")
    trials = spec["adapter_spec"]["num_train_trials"]
    assert {e for _, e in expected} == set(range(1, trials + 1)) == {1, 2, 3}
    stored = {
        (s, e): v
        for s, e, v in rows(
            "SELECT sample_id, epoch, value FROM scores WHERE run_id = ? AND name = 'num_output_tokens'", [run_id]
        )
    }
    assert stored == expected
    assert rows("SELECT model_id, n_samples, epochs, main_metric FROM runs WHERE run_id = ?", [run_id]) == [
        (spec["adapter_spec"]["model"], len(expected), 3, None)
    ]
    args = json.loads(rows("SELECT task_args FROM runs WHERE run_id = ?", [run_id])[0][0])
    assert args["scenario"] == spec["scenario_spec"]["args"] and args["adapter"]["num_train_trials"] == 3


def test_reimporting_helm_folders_is_a_no_op(reg_home: Path) -> None:
    import_results(Store(), "helm", [HELM])
    before = rows("SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM scores), (SELECT count(*) FROM metrics)")
    again = import_results(Store(), "helm", [ADDITION, SIMPLE / "stats.json"])
    assert not again.imported and len(again.unchanged) == 2 and not again.rejected
    assert (
        rows("SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM scores), (SELECT count(*) FROM metrics)")
        == before
    )


def _break(folder: Path, how: str) -> None:
    if how == "no run_spec":
        (folder / "run_spec.json").unlink()
    elif how == "stats not json":
        (folder / "stats.json").write_text("[{")
    elif how == "per-instance not a list":
        (folder / "per_instance_stats.json").write_text("{}")
    elif how == "no adapter":
        spec = load(folder, "run_spec.json")
        del spec["adapter_spec"]
        (folder / "run_spec.json").write_text(json.dumps(spec))
    elif how == "path-like name":
        spec = load(folder, "run_spec.json")
        spec["name"] = "../../etc:model=x"
        (folder / "run_spec.json").write_text(json.dumps(spec))
    elif how == "instance twice":
        entries = load(folder, "per_instance_stats.json")
        (folder / "per_instance_stats.json").write_text(json.dumps(entries + entries[:1]))
    elif how == "stat without name":
        stats = load(folder, "stats.json")
        stats[0]["name"] = "exact_match"
        (folder / "stats.json").write_text(json.dumps(stats))


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("no run_spec", "run_spec.json is missing"),
        ("stats not json", "not HELM's stats.json"),
        ("per-instance not a list", "not HELM's per_instance_stats.json"),
        ("no adapter", "not a HELM run spec"),
        ("path-like name", "looks like a path"),
        ("instance twice", "appears twice"),
        ("stat without name", "not a HELM Stat"),
    ],
)
def test_a_malformed_helm_folder_is_refused_by_name_and_the_rest_lands(
    reg_home: Path, tmp_path: Path, how: str, reason: str
) -> None:
    bad = tmp_path / "broken-run"
    shutil.copytree(ADDITION, bad)
    _break(bad, how)
    report = import_results(Store(), "helm", [bad, SIMPLE])
    assert len(report.imported) == 1 and rows("SELECT task FROM runs") == [("helm/simple1",)]
    assert list(report.rejected) == [str(bad)] and reason in report.rejected[str(bad)]
    assert str(bad) in report.rejected[str(bad)]


def test_cli_refuses_an_empty_folder_without_traceback_and_task_map_pools(reg_home: Path, tmp_path: Path) -> None:
    empty = tmp_path / "not-a-run"
    empty.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "emergebench", "import-results", "helm", str(HELM), str(empty)]
        + ["--task-map", "helm/addition=addition"],
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=300,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "Imported 2 run(s)" in done.stdout and f"refused: {empty}: not a HELM run folder" in done.stderr
    assert sorted(rows("SELECT task FROM runs")) == [("addition",), ("helm/simple1",)]
