"""Aggregates simulations (samples x epochs) into the run's metrics.

Each simulation is one observation: means and standard errors are across runs, as the paper's
5-run curves with SEM shading are.
"""

from __future__ import annotations

from collections import defaultdict

from emergebench import Metric, SampleResult
from emergebench.metrics import metric

HEADLINE = (
    "final_resources",
    "donation_fraction",
    "donation_fraction_slope",
    "first_generation_donation",
    "punishment_share",
    "invalid_share",
    "failed_share",
)
PER_GENERATION = ("average", "donation_fraction", "selection_differential", "punishment_share")
CURVE_NAMES = {"average": "resources"}


def donor_metrics(results: list[SampleResult]) -> list[Metric]:
    ok = [r for r in results if r.error is None]
    out: list[Metric] = []
    for name in HEADLINE:
        values = [r.scores[name] for r in ok if name in r.scores]
        if values:
            out.append(metric(name, values))
    curves: dict[tuple[str, int], list[float]] = defaultdict(list)
    for r in ok:
        for row in r.metadata.get("generations", []):
            for key in PER_GENERATION:
                if row.get(key) is not None:
                    curves[(key, int(row["generation"]))].append(float(row[key]))
    for (key, gen), values in sorted(curves.items(), key=lambda item: (PER_GENERATION.index(item[0][0]), item[0][1])):
        out.append(metric(CURVE_NAMES.get(key, key), values, group=f"generation={gen}"))
    for name in ("model_calls", "input_tokens", "output_tokens"):
        values = [float(_usage(r)[name]) for r in ok]
        if values:
            out.append(metric(name, values))
    return out


def _usage(result: SampleResult) -> dict[str, int]:
    """What the simulation cost, as stored with it (a schema-1 record: counted from its calls)."""
    if result.output is not None and "usage" in result.output:
        return result.output["usage"]
    calls = result.calls
    return {
        "model_calls": len(calls),
        "input_tokens": sum(c.usage.input_tokens for c in calls),
        "output_tokens": sum(c.usage.output_tokens for c in calls),
    }
