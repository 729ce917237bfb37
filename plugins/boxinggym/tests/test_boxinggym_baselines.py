"""Baseline models and the shipped normalisation constants."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from emergebench.runner import RunOptions, build_spec, run_sync
from emergebench_boxinggym.norms import compute_norm, fixed_norm


def run(home: Path, task: str, model: str, **args):
    spec = build_spec(task, model, task_args=args, seed=3)
    return run_sync(spec, RunOptions(runs_dir=home / "runs", cache_path=home / "cache.db", progress=False))


@pytest.mark.parametrize(("env", "goal", "tol"), [("irt", "direct", 0.02), ("death_process", "infection", 0.03)])
def test_shipped_norms_rederive(env: str, goal: str, tol: float) -> None:
    """A fresh, smaller baseline computation (other seed) agrees with norms.json."""
    mu, sigma = fixed_norm(env, goal)
    again = compute_norm(env, goal, n_worlds=300, seed=99)
    assert again["mu"] == pytest.approx(mu, abs=tol + 3 * sigma / np.sqrt(again["n_items"]))
    assert again["sigma"] == pytest.approx(sigma, rel=0.15)


def test_prior_mean_baseline_scores_zero_on_average(emergebench_home: Path) -> None:
    """The baseline that defines the normalisation has z ~ 0 across worlds (fixed mode)."""
    result = run(emergebench_home, "boxinggym/dugongs", "boxinggym/prior-mean", budgets="1", seeds=40, eig=False)
    z = next(m for m in result.metrics if m.name == "z_final")
    assert z.n == 40
    assert abs(z.value) < 3 * z.stderr + 0.05


def test_random_design_bayesian_beats_the_prior(emergebench_home: Path) -> None:
    result = run(emergebench_home, "boxinggym/peregrines", "boxinggym/random-design", budgets="0,5", seeds=6, eig=False)
    z = {(m.name, m.group): m.value for m in result.metrics}
    assert z[("z", "budget=5")] < z[("z", "budget=0")]
    assert z[("unparsed_rate", None)] == 0.0


def test_baselines_refuse_outside_a_boxinggym_run(emergebench_home: Path) -> None:
    spec = build_spec("boxinggym/irt", "boxinggym/prior-mean", task_args={"seeds": 1, "budgets": "1", "eig": False})
    ok = run_sync(spec, RunOptions(runs_dir=emergebench_home / "r", cache_path=emergebench_home / "c.db"))
    assert ok.n_errors == 0
    from emergebench.plugins import get_manager
    from emergebench.runner import resolve_model

    model = resolve_model(get_manager(), "boxinggym/random-design", {})
    import asyncio

    from emergebench import Message, ModelError

    with pytest.raises(ModelError, match="only answers inside"):
        asyncio.run(model.generate([Message(role="user", content="hi")], None))  # type: ignore[arg-type]
