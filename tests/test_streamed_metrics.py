"""Metrics are folded as results arrive (issue #18): for every first-party task, the metrics a run
writes to run.json equal an independent computation from its journal file, read here with ``json``
and aggregated with ``statistics`` and hand-written counts, not with the code under test.

A resumed run folds the journal an earlier writer left plus the samples it computes; its metrics
must match the journal's too.
"""

from __future__ import annotations

import importlib.util
import json
import math
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from emergebench.records import Metric, RunResult
from emergebench.runner import RunOptions, build_spec, run_sync


def _rescore_cases() -> Any:
    """The one small offline run per first-party task that tests/test_rescore.py defines."""
    spec = importlib.util.spec_from_file_location("_rescore_cases", Path(__file__).with_name("test_rescore.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_CASES = _rescore_cases()
FIRST_PARTY: dict[str, dict[str, Any]] = _CASES.FIRST_PARTY
SKILLMIX_TESTS: Path = _CASES.SKILLMIX_TESTS

Z95 = 1.959963984540054
Row = dict[str, Any]


def journal_rows(home: Path, result: RunResult) -> list[Row]:
    """The journal's lines as plain dicts, one per (sample, epoch): first good line wins, else first."""
    chosen: dict[tuple[str, int], Row] = {}
    for line in (home / "runs" / result.run_id / "journal.jsonl").read_text().splitlines():
        row = json.loads(line)
        key = (row["sample_id"], row.get("epoch", 0))
        if key not in chosen or (chosen[key].get("error") and not row.get("error")):
            chosen[key] = row
    return list(chosen.values())


def mean_ci(values: list[float]) -> dict[str, Any]:
    """Mean, standard error and normal 95% interval, from ``statistics``."""
    n = len(values)
    if n == 0:
        return {"value": None, "stderr": None, "n": 0}
    mean = statistics.fmean(values)
    if n == 1:
        return {"value": mean, "stderr": None, "n": 1}
    se = statistics.stdev(values) / math.sqrt(n)
    return {"value": mean, "stderr": se, "n": n, "ci_low": mean - Z95 * se, "ci_high": mean + Z95 * se}


def proportion(hits: int, n: int) -> dict[str, Any]:
    return {"value": hits / n if n else None, "n": n}


def ok_rows(rows: list[Row]) -> list[Row]:
    return [r for r in rows if not r.get("error")]


def expected_means(rows: list[Row]) -> dict[tuple[str, str | None], dict[str, Any]]:
    by: dict[str, list[float]] = defaultdict(list)
    for r in ok_rows(rows):
        for name, value in r["scores"].items():
            by[name].append(float(value))
    return {(name, None): mean_ci(values) for name, values in by.items()}


def expected_boxinggym(rows: list[Row]) -> dict[tuple[str, str | None], dict[str, Any]]:
    by: dict[tuple[str, str | None], list[float]] = defaultdict(list)
    for r in ok_rows(rows):
        for name, value in r["scores"].items():
            base, at, budget = name.partition("@")
            by[(base, f"budget={budget}") if at else (name, None)].append(float(value))
    return {key: mean_ci(values) for key, values in by.items()}


def expected_skillmix(rows: list[Row]) -> dict[tuple[str, str | None], dict[str, Any]]:
    names = ("ratio_of_full_marks", "ratio_of_all_skills", "skill_fraction")
    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    ks = set()
    for r in ok_rows(rows):
        meta = r["metadata"]
        group = f"k={meta['k']}"
        ks.add(group)
        if meta.get("gradings"):
            values[("grader_parse_failure_rate", group)].append(meta["grader_parse_failures"] / meta["gradings"])
        if not meta.get("filtered"):
            for name in names:
                if name in r["scores"]:
                    values[(name, group)].append(r["scores"][name])
    keys = [(name, group) for group in ks for name in (*names, "grader_parse_failure_rate")]
    return {key: mean_ci(values[key]) for key in keys}


def expected_donor(rows: list[Row]) -> dict[tuple[str, str | None], dict[str, Any]]:
    from emergebench_donor_game.metrics import HEADLINE as headline  # the names only; the means are computed here

    curve_names = {"average": "resources", "donation_fraction": "donation_fraction"}
    curve_names |= {"selection_differential": "selection_differential", "punishment_share": "punishment_share"}
    values: dict[tuple[str, str | None], list[float]] = defaultdict(list)
    for r in ok_rows(rows):
        for name in headline:
            if name in r["scores"]:
                values[(name, None)].append(r["scores"][name])
        for gen in r["metadata"].get("generations", []):
            for key, name in curve_names.items():
                if gen.get(key) is not None:
                    values[(name, f"generation={gen['generation']}")].append(float(gen[key]))
        for name, count in r["output"]["usage"].items():
            values[(name, None)].append(float(count))
    return {key: mean_ci(v) for key, v in values.items()}


def _f1(labels: list[int], preds: list[int | None]) -> float:
    total = 0.0
    for c in (0, 1):
        tp = sum(1 for y, p in zip(labels, preds, strict=True) if y == c and p == c)
        fp = sum(1 for y, p in zip(labels, preds, strict=True) if y != c and p == c)
        fn = sum(1 for y, p in zip(labels, preds, strict=True) if y == c and p != c)
        total += 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else 0.0
    return total / 2


def expected_mars(rows: list[Row]) -> dict[tuple[str, str | None], dict[str, Any]]:
    done = [r for r in ok_rows(rows) if "prediction" in r["metadata"]]
    labels = [int(r["target"]) for r in done]
    preds = [r["metadata"]["prediction"] for r in done]
    n = len(done)
    out: dict[tuple[str, str | None], dict[str, Any]] = {
        ("accuracy", None): proportion(sum(p == y for y, p in zip(labels, preds, strict=True)), n),
        ("extraction_failure_rate", None): proportion(sum(1 for r in done if r["scores"]["extraction_failed"]), n),
        ("yes_rate", None): proportion(sum(p for p in preds if p is not None), sum(p is not None for p in preds)),
        ("macro_f1", None): {"value": _f1(labels, preds), "n": n},
    }
    for label, word in ((1, "yes"), (0, "no")):
        hits = [p == label for y, p in zip(labels, preds, strict=True) if y == label]
        out[("accuracy", f"label={word}")] = proportion(sum(hits), len(hits))
    groups: dict[str, list[bool]] = defaultdict(list)
    for r, y, p in zip(done, labels, preds, strict=True):
        for column, value in (r["output"].get("groups") or {}).items():
            groups[f"{column}={value}"].append(p == y)
    for group, hits in groups.items():
        out[("accuracy", group)] = proportion(sum(hits), len(hits))
    scored = [(int(r["target"]), r["output"]["p_yes"]) for r in done if r["output"].get("p_yes") is not None]
    if scored:  # ROC-AUC as the share of (positive, negative) pairs ranked right, ties counted half
        pos = [s for y, s in scored if y == 1]
        neg = [s for y, s in scored if y == 0]
        wins = sum(1.0 if p > q else 0.5 if p == q else 0.0 for p in pos for q in neg)
        out[("roc_auc", None)] = {"value": wins / (len(pos) * len(neg)), "n": len(scored)}
    return out


EXPECTED = {
    "mars": expected_mars,
    "skill-mix": expected_skillmix,
    "boxinggym": expected_boxinggym,
    "donor-game": expected_donor,
}


def assert_matches(metrics: list[Metric], expected: dict[tuple[str, str | None], dict[str, Any]]) -> None:
    got = {(m.name, m.group): m for m in metrics}
    assert set(got) == set(expected), set(got) ^ set(expected)
    for key, want in expected.items():
        for field, value in want.items():
            have = getattr(got[key], field)
            assert have == pytest.approx(value, rel=1e-12, abs=1e-15), (key, field, have, value)


@pytest.fixture
def home(emergebench_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(SKILLMIX_TESTS))  # the skill-mix scripted student and judge
    return emergebench_home


def _options(home: Path) -> RunOptions:
    return RunOptions(runs_dir=home / "runs", cache_path=home / "cache.sqlite", progress=False)


@pytest.mark.parametrize("plugin", sorted(FIRST_PARTY))
def test_streamed_metrics_equal_an_independent_computation_from_the_journal(home: Path, plugin: str) -> None:
    kwargs = dict(FIRST_PARTY[plugin])
    if plugin == "mars":
        kwargs["epochs"] = 2  # more rows, and one key per (sample, epoch)
    spec = build_spec(kwargs.pop("task"), kwargs.pop("model"), **kwargs)
    result = run_sync(spec, _options(home))
    assert result.status == "complete", result.errors
    rows = journal_rows(home, result)
    assert len(rows) == result.n_samples == result.n_expected
    assert_matches(result.metrics, EXPECTED[plugin](rows))


def test_resumed_run_folds_the_earlier_journal_and_its_recomputed_failures(home: Path) -> None:
    """A run whose first writer failed some samples is resumed: good lines are folded in as read, failed
    ones are replaced by their recomputed results, and the metrics and counts equal the journal's."""
    spec = build_spec(
        "mars/transition",
        "scripted/cycle",
        model_args={"replies": ["Yes.", "no", "It is not plausible.", "maybe"]},
        task_args={"data": "sample"},
        limit=8,
    )
    first = run_sync(spec, _options(home))
    journal = home / "runs" / first.run_id / "journal.jsonl"
    lines = journal.read_text().splitlines()
    # Make the first writer's 3rd and 6th samples failures and drop the last two: a partial run to resume.
    damaged = []
    for index in (2, 5):
        row = json.loads(lines[index])
        row.update(error="TransientModelError: boom", error_type="TransientModelError", scores={})
        damaged.append(row["sample_id"])
        lines[index] = json.dumps(row)
    journal.write_text("\n".join(lines[:-2]) + "\n")
    status = json.loads((home / "runs" / first.run_id / "run.json").read_text())
    status["status"] = "partial"
    (home / "runs" / first.run_id / "run.json").write_text(json.dumps(status))

    resumed = run_sync(spec, _options(home))
    assert resumed.run_id == first.run_id and resumed.status == "complete"
    rows = journal_rows(home, resumed)
    assert len(rows) == resumed.n_samples == 8 and resumed.n_errors == 0
    assert {r["sample_id"] for r in rows if r["sample_id"] in damaged and not r.get("error")} == set(damaged)
    assert resumed.model_calls + resumed.cached_calls == sum(len(r["calls"]) for r in rows)
    assert_matches(resumed.metrics, expected_mars(rows))


def test_mars_breakdowns_and_auc_streamed_from_a_journal_file(tmp_path: Path) -> None:
    """The MARS paths a scripted run does not reach (P(yes) for ROC-AUC, component-type groups), folded
    line by line from a journal file and checked against the same independent computation."""
    from emergebench.journal import iter_lines
    from emergebench_mars.tasks import EventTask

    journal = tmp_path / "journal.jsonl"
    lines = []
    for i in range(40):
        label, pred = i % 2, (i // 3) % 2 if i % 7 else None
        lines.append(
            {
                "run_id": "r",
                "sample_id": f"s{i}",
                "target": label,
                "scores": {"correct": float(pred == label), "extraction_failed": float(pred is None)},
                "output": {"p_yes": None if i % 5 == 0 else (i * 37 % 11) / 10, "groups": {"type": "abc"[i % 3]}},
                "metadata": {"prediction": pred},
                **({"error": "ValueError: x", "error_type": "ValueError"} if i == 13 else {}),
            }
        )
    journal.write_text("".join(json.dumps(line) + "\n" for line in lines))
    accumulator = EventTask().metric_accumulator()
    for _, result in iter_lines(journal):
        assert result is not None
        accumulator.add(result)
    rows = [json.loads(line) for line in journal.read_text().splitlines()]
    expected = expected_mars(rows)
    assert ("roc_auc", None) in expected and ("accuracy", "type=b") in expected
    assert_matches(accumulator.metrics(), expected)
