"""Paired comparison of two runs: exact arithmetic on hand-checkable scripted runs, and clear errors."""

from __future__ import annotations

import json
import math

import pytest
from emergebench.errors import UsageError
from emergebench_registry.compare import compare_runs
from emergebench_registry.store import Store


def invoke(*args: str):
    from click.testing import CliRunner
    from emergebench.cli import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_paired_difference_is_exact(reg_run, reg_home) -> None:
    right = reg_run()  # answers every i+i correctly
    zero = reg_run(model="scripted/constant", model_args={"reply": "0"})  # right only on q0 (0+0)
    c = compare_runs(Store(), right.run_id, zero.run_id, metric="correct")
    # per-sample differences B - A: [0, -1, -1, -1, -1, -1]
    assert (c.metric, c.n_paired, c.only_a, c.only_b) == ("correct", 6, 0, 0)
    assert (c.mean_a, c.mean_b) == (1.0, pytest.approx(1 / 6))
    assert c.diff == pytest.approx(-5 / 6)
    sd = math.sqrt(((5 / 6) ** 2 + 5 * (1 / 6) ** 2) / 5)
    assert c.stderr == pytest.approx(sd / math.sqrt(6))
    assert c.ci == pytest.approx(
        (-5 / 6 - 1.959963984540054 * sd / math.sqrt(6), -5 / 6 + 1.959963984540054 * sd / math.sqrt(6))
    )
    assert c.p_value == pytest.approx(math.erfc((5 / 6) / (sd / math.sqrt(6)) / math.sqrt(2)))


def test_compare_by_model_ids_and_task_through_the_cli(reg_run, reg_home) -> None:
    reg_run()
    reg_run(model="scripted/constant", model_args={"reply": "0"})
    out = invoke(
        "compare",
        "scripted/function",
        "scripted/constant",
        "--task",
        "regtest/quiz",
        "--metric",
        "correct",
        "--format",
        "json",
    )
    assert out.exit_code == 0, out.output
    (row,) = json.loads(out.output)
    assert row["n_paired"] == 6 and row["diff_B_minus_A"] == round(-5 / 6, 4) and row["metric"] == "correct"


def test_only_shared_samples_are_paired(reg_run, reg_home) -> None:
    full = reg_run(task_args={"n": 6})
    part = reg_run(model="scripted/constant", model_args={"reply": "0"}, task_args={"n": 6}, limit=4)
    c = compare_runs(Store(), full.run_id, part.run_id, metric="correct")
    assert (c.n_paired, c.only_a, c.only_b) == (4, 2, 0)


def test_runs_of_different_task_versions_are_refused(reg_run, reg_home) -> None:
    a = reg_run()
    b = reg_run(task="regtest/quiz2")
    with pytest.raises(UsageError, match="different tasks or task versions"):
        compare_runs(Store(), a.run_id, b.run_id)


def test_unknown_run_and_metric_errors_say_what_to_do(reg_run, reg_home) -> None:
    a = reg_run()
    with pytest.raises(UsageError, match="emergebench runs"):
        compare_runs(Store(), a.run_id, "nope")
    with pytest.raises(UsageError, match="per-sample scores are correct, length: pick one with --metric"):
        compare_runs(Store(), a.run_id, a.run_id, metric="bleu")
    grouped = reg_run(task="regtest/grouped")  # accuracy only per group: no one score is its mean
    with pytest.raises(UsageError, match="'accuracy' \\(the task's main metric\\)"):
        compare_runs(Store(), grouped.run_id, grouped.run_id)


def test_compare_without_metric_uses_the_score_whose_mean_is_the_main_metric(reg_run, reg_home) -> None:
    """The README's `compare MODEL MODEL --task T` failed on main: the main metric (accuracy) is not a
    per-sample score name; the score whose mean it is (correct, 1/6 and 1) is compared instead."""
    reg_run()
    reg_run(model="scripted/constant", model_args={"reply": "0"})
    out = invoke("compare", "scripted/function", "scripted/constant", "--task", "regtest/quiz", "--format", "json")
    assert out.exit_code == 0, out.output
    (row,) = json.loads(out.output)
    assert (row["metric"], row["mean_A"], row["mean_B"]) == ("correct", 1.0, round(1 / 6, 4))
