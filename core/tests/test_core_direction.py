"""A task's lower-is-better metrics: declared once on the Task, agreed with its metric pairs, and
recorded in the run's TaskInfo so a stored run keeps its direction without the plugin."""

from __future__ import annotations

import pytest
from emergebench import MetricPair, Task
from emergebench.metric_pairs import is_lower_better
from emergebench.records import TaskInfo


def test_a_pair_marked_lower_is_better_declares_its_continuous_score() -> None:
    class Errors(Task):
        name = "t/errors"
        version = "1"
        lower_is_better = frozenset({"regret"})
        metric_pairs = (MetricPair(headline="solved", continuous="z_final", lower_is_better=True, threshold=0.0),)

    assert Errors.lower_is_better == {"regret", "z_final"}
    assert Errors.info().lower_is_better == ["regret", "z_final"]
    from emergebench.task_help import detail

    assert detail(Errors)["lower_is_better"] == ["regret", "z_final"]


def test_a_pair_that_contradicts_the_task_is_refused_where_it_is_defined() -> None:
    with pytest.raises(TypeError, match="lower_is_better=True on the pair"):

        class Contradiction(Task):
            name = "t/contradiction"
            version = "1"
            lower_is_better = frozenset({"z_final"})
            metric_pairs = (MetricPair(headline="solved", continuous="z_final", threshold=0.0),)


def test_per_budget_scores_take_their_base_names_direction() -> None:
    assert is_lower_better("z@10", ["z"]) and is_lower_better("z", ["z"])
    assert not is_lower_better("zeta", ["z"]) and not is_lower_better("accuracy", [])


def test_a_run_record_without_the_field_reads_as_higher_is_better() -> None:
    old = TaskInfo.model_validate({"name": "t", "version": "1", "main_metric": "accuracy"})
    assert old.lower_is_better == []


def test_first_party_tasks_declare_their_errors() -> None:
    from emergebench_boxinggym.tasks import BoxingGymTask
    from emergebench_mars.tasks import MarsTask

    assert {"z", "err", "z_final", "err_final", "eig_regret"} <= BoxingGymTask.lower_is_better
    assert "eig" not in BoxingGymTask.lower_is_better
    assert "brier" in MarsTask.lower_is_better and "accuracy" not in MarsTask.lower_is_better
