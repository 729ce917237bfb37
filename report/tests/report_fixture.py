"""A small but complete registry for the report tests: toy-model scaling runs with a metric pair and
some failing samples, plus baseline runs of the first-party tasks whose plugins contribute views."""

from __future__ import annotations

from typing import Any

TOY_MODELS = ["toy/alpha-10m", "toy/alpha-30m", "toy/alpha-100m", "toy/alpha-300m", "toy/alpha-1000m", "toy/beta-10m"]

# (task, model, build_spec keyword arguments) for the first-party views
FIRST_PARTY: list[tuple[str, str, dict[str, Any]]] = [
    ("mars/transition", "mars/random", {"task_args": {"data": "sample"}, "limit": 8}),
    ("mars/event", "mars/majority", {"task_args": {"data": "sample"}, "limit": 8}),
    (
        "donor-game",
        "donor-game/reciprocate",
        {"task_args": {"population": 4, "generations": 3, "runs": 2}},
    ),
    (
        "boxinggym/peregrines",
        "boxinggym/random-design",
        {"task_args": {"budgets": "0,1,2", "num_evals": 2, "seeds": 2, "random_designs": 10}},
    ),
]


def fill(run: Any, first_party: bool = True) -> list[Any]:
    """Run everything through the real runner; returns the RunResults."""
    results = [
        run(model, task_args={"n": 12}, model_args={"fail_first": 2} if model == "toy/alpha-10m" else {})
        for model in TOY_MODELS
    ]
    if first_party:
        for task, model, kwargs in FIRST_PARTY:
            results.append(run(model, task=task, **kwargs))
    return results
