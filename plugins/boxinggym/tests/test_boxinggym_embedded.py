"""End to end on the embedded offline model (tiny: two checkpoints, one question, short replies)."""

from __future__ import annotations

from pathlib import Path

import pytest
from emergebench.journal import iter_journal
from emergebench.runner import RunOptions, build_spec, run_sync


@pytest.mark.slow
def test_peregrines_on_smollm2(emergebench_home: Path) -> None:
    pytest.importorskip("emergebench_llamacpp")
    args = {"budgets": "0,1", "num_evals": 1, "seeds": 1, "max_tokens": 32, "random_designs": 5}
    spec = build_spec("boxinggym/peregrines", "llamacpp/smollm2-135m", task_args=args, seed=0)
    result = run_sync(spec, RunOptions(runs_dir=emergebench_home / "runs", cache_path=emergebench_home / "c.db"))
    assert result.status == "complete" and result.n_errors == 0
    names = {(m.name, m.group) for m in result.metrics}
    assert {("z", "budget=0"), ("z", "budget=1"), ("z_final", None)} <= names
    rows = list(
        iter_journal(
            next(p for p in (emergebench_home / "runs").iterdir() if not p.name.startswith(".")) / "journal.jsonl"
        )
    )
    calls = rows[0].calls
    # one prediction turn (<= 4 tries) per checkpoint and one experiment (<= 3 x 4 tries)
    assert 3 <= len(calls) <= 4 + 12 + 4
    assert all(c.role == "subject" and c.output is not None for c in calls)
