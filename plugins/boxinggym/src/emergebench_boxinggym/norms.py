"""Normalisation constants of the standardized error (spec 4.2), from a prior-predictive baseline.

The baseline answers every question with the prior-predictive mean (or the majority class) and
never looks at data. mu0 is its mean per-item error over many simulated worlds and sigma0 the
standard deviation of those per-item errors, so z = (error - mu0) / sigma0 is 0 for the baseline
in expectation and negative when a scientist beats it. The constants are computed by this module
with NumPy and shipped in ``norms.json`` (a run must not spend minutes re-deriving them);
``python -m emergebench_boxinggym.norms`` regenerates the file and the tests re-derive a few.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from .envs import ENVIRONMENTS

NORMS_FILE = "norms.json"
DEFAULT_WORLDS = 1000
DEFAULT_PRIOR_DRAWS = 2000
NORM_SEED = 20250101


def baseline_item_errors(
    env_key: str, goal_name: str, *, n_worlds: int, n_evals: int = 10, n_prior: int = DEFAULT_PRIOR_DRAWS, seed: int
) -> np.ndarray:
    """Per-item errors of the prior-predictive baseline over ``n_worlds`` worlds drawn from the prior."""
    env_cls = ENVIRONMENTS[env_key]
    goal_cls = env_cls.goals[goal_name]
    rng = np.random.default_rng(seed)
    prior = env_cls(np.random.default_rng(seed + 1)).sample_prior(rng, n_prior)
    memo: dict[str, Any] = {}  # queries repeat (e.g. times rounded to 0.1): predict each once
    errors: list[float] = []
    for _ in range(n_worlds):
        env = env_cls(np.random.default_rng(rng.integers(2**63)), "fixed", phrase=False)
        goal = goal_cls(env)
        for point in goal.eval_points(rng, n_evals):
            key = repr(point.query)
            if key not in memo:
                memo[key] = goal.baseline_prediction(point.query, prior, rng)
            errors.append(goal.item_error(memo[key], point.truth))
    return np.asarray(errors)


def compute_norm(
    env_key: str, goal_name: str, n_worlds: int = DEFAULT_WORLDS, seed: int = NORM_SEED
) -> dict[str, float]:
    errors = baseline_item_errors(env_key, goal_name, n_worlds=n_worlds, seed=seed)
    return {"mu": float(np.mean(errors)), "sigma": float(np.std(errors)), "n_items": int(len(errors))}


@cache
def shipped_norms() -> dict[str, dict[str, float]]:
    text = resources.files(__package__).joinpath(NORMS_FILE).read_text()
    return json.loads(text)["norms"]


def fixed_norm(env_key: str, goal_name: str) -> tuple[float, float]:
    """(mu0, sigma0) for fixed mode."""
    key = f"{env_key}/{goal_name}"
    norms = shipped_norms()
    if key not in norms:
        raise KeyError(f"no normalisation constants for {key}; run `python -m emergebench_boxinggym.norms`")
    entry = norms[key]
    sigma = entry["sigma"] if entry["sigma"] > 0 else 1.0
    return entry["mu"], sigma


def main(argv: list[str] | None = None) -> None:
    """Recompute every constant and write norms.json next to this module."""
    argv = sys.argv[1:] if argv is None else argv
    n_worlds = int(argv[0]) if argv else DEFAULT_WORLDS
    out: dict[str, Any] = {}
    for env_key, env_cls in ENVIRONMENTS.items():
        for goal_name in env_cls.goals:
            out[f"{env_key}/{goal_name}"] = compute_norm(env_key, goal_name, n_worlds)
            print(env_key, goal_name, out[f"{env_key}/{goal_name}"], flush=True)
    meta = {"worlds": n_worlds, "evals_per_world": 10, "prior_draws": DEFAULT_PRIOR_DRAWS, "seed": NORM_SEED}
    path = resources.files(__package__).joinpath(NORMS_FILE)
    with resources.as_file(path) as target:
        target.write_text(
            json.dumps({"generated_by": "emergebench_boxinggym.norms", **meta, "norms": out}, indent=2) + "\n"
        )


if __name__ == "__main__":
    main()
