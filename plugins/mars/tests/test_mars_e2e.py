"""End to end on the embedded offline model: a tiny run on the bundled sample set."""

from __future__ import annotations

from pathlib import Path

import pytest
from emergebench.runner import RunOptions, build_spec, run_sync
from emergebench_mars import TransitionTask

pytest.importorskip("emergebench_llamacpp")


@pytest.mark.slow
def test_transition_on_smollm2(emergebench_home: Path) -> None:
    spec = build_spec("mars/transition", "llamacpp/smollm2-135m", task_args=TransitionTask.demo_args, limit=4)
    result = run_sync(spec, RunOptions(progress=False, runs_dir=emergebench_home / "runs"))
    assert result.status == "complete" and result.n_errors == 0 and result.n_samples == 4
    metrics = {(m.name, m.group): m for m in result.metrics}
    assert metrics[("accuracy", None)].n == 4
    assert metrics[("extraction_failure_rate", None)].value is not None
    # llamacpp declares logprob support, so P(yes) is read and ROC-AUC is scored
    assert metrics[("roc_auc", None)].n == 4
    assert result.model.provider == "llamacpp"
