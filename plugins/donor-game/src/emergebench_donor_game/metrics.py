"""Aggregates simulations (samples x epochs) into the run's metrics.

Each simulation is one observation: means and standard errors are across runs, as the paper's
5-run curves with SEM shading are.
"""

from __future__ import annotations

from array import array
from typing import TypeVar

from emergebench import Metric, SampleResult
from emergebench.metrics import MetricAccumulator, metric

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
USAGE = ("model_calls", "input_tokens", "output_tokens")

Key = TypeVar("Key")


def _extend(mine: dict[Key, array], theirs: dict[Key, array]) -> None:
    """Append another accumulator's values key by key (one helper for the three differently keyed maps)."""
    for key, values in theirs.items():
        mine.setdefault(key, array("d")).extend(values)


class DonorMetrics(MetricAccumulator):
    """The headline means, the per-generation curves and the cost per simulation, folded as each
    simulation's result arrives (one float per value kept, the simulation itself let go)."""

    def __init__(self) -> None:
        self.headline: dict[str, array] = {}
        self.curves: dict[tuple[str, int], array] = {}
        self.usage: dict[str, array] = {}

    def add(self, result: SampleResult) -> None:
        if result.error is not None:
            return
        for name in HEADLINE:
            if name in result.scores:
                self.headline.setdefault(name, array("d")).append(result.scores[name])
        for row in result.metadata.get("generations", []):
            for key in PER_GENERATION:
                if row.get(key) is not None:
                    self.curves.setdefault((key, int(row["generation"])), array("d")).append(float(row[key]))
        usage = _usage(result)
        for name in USAGE:
            self.usage.setdefault(name, array("d")).append(float(usage[name]))

    def merge(self, other: DonorMetrics) -> None:
        _extend(self.headline, other.headline)
        _extend(self.curves, other.curves)
        _extend(self.usage, other.usage)

    def metrics(self) -> list[Metric]:
        out = [metric(name, self.headline[name]) for name in HEADLINE if name in self.headline]
        ordered = sorted(self.curves.items(), key=lambda item: (PER_GENERATION.index(item[0][0]), item[0][1]))
        for (key, gen), values in ordered:
            out.append(metric(CURVE_NAMES.get(key, key), values, group=f"generation={gen}"))
        out += [metric(name, self.usage[name]) for name in USAGE if name in self.usage]
        return out


def donor_metrics(results: list[SampleResult]) -> list[Metric]:
    """The Donor Game's metrics of a list of results (what a run folds as they arrive)."""
    return DonorMetrics().fold(results)


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
