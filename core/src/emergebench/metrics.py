"""Small statistics shared by tasks: mean with standard error and a normal 95% interval, and the
accumulators that fold a run's results into its metrics as they arrive.

A run used to keep every ``SampleResult`` (its calls, prompts and outputs, ~6.5 KB each) until the end
just to compute its metrics. An accumulator keeps only what the metrics read (a float per score per
sample), so a run's memory no longer grows with its results (issue #18).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .records import Metric, SampleResult

Z95 = 1.959963984540054


def mean_stderr(values: Sequence[float]) -> tuple[float | None, float | None]:
    """Mean and standard error of the mean (sample standard deviation / sqrt(n))."""
    n = len(values)
    if n == 0:
        return None, None
    mean = math.fsum(values) / n
    if n == 1:
        return mean, None
    var = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, math.sqrt(var / n)


def metric(name: str, values: Sequence[float], group: str | None = None) -> Metric:
    mean, se = mean_stderr(values)
    low = high = None
    if mean is not None and se is not None:
        low, high = mean - Z95 * se, mean + Z95 * se
    return Metric(name=name, value=mean, stderr=se, n=len(values), ci_low=low, ci_high=high, group=group)


def wilson_interval(successes: int, n: int) -> tuple[float | None, float | None]:
    """Wilson score interval for a proportion: sane at 0 and 1, unlike the normal interval."""
    if n == 0:
        return None, None
    p = successes / n
    denom = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denom
    return centre - half, centre + half


class MetricAccumulator:
    """Folds a run's final results, one ``add`` per (sample, epoch), into its metrics.

    ``merge`` joins another accumulator of the same kind (results gathered elsewhere: a resumed run's
    journal, another worker). An accumulator keeps a few numbers per sample at most, never the results.
    """

    def add(self, result: SampleResult) -> None:
        raise NotImplementedError

    def merge(self, other: Any) -> None:
        raise NotImplementedError

    def metrics(self) -> list[Metric]:
        raise NotImplementedError

    def fold(self, results: Iterable[SampleResult]) -> list[Metric]:
        """The metrics of ``results`` (a list, a journal read back): what a run streams, computed at once."""
        for result in results:
            self.add(result)
        return self.metrics()


def _extend(into: dict[Any, array[float]], other: dict[Any, array[float]]) -> None:
    for key, values in other.items():
        into.setdefault(key, array("d")).extend(values)


class MeanAccumulator(MetricAccumulator):
    """Mean and standard error of every score of the samples without error.

    Values are kept as 8-byte floats (not a running sum) so the two-pass ``mean_stderr`` gives exactly
    the figures it gave over the whole list. ``key`` maps a score name to its (metric name, group), or
    None to leave the score out; ``order`` sorts the (name, group) pairs for the output.
    """

    def __init__(
        self,
        key: Callable[[str], tuple[str, str | None] | None] | None = None,
        order: Callable[[tuple[str, str | None]], Any] | None = None,
    ) -> None:
        self.values: dict[tuple[str, str | None], array[float]] = {}
        self._key = key
        self._order = order

    def add(self, result: SampleResult) -> None:
        if result.error is not None:
            return
        for name, value in result.scores.items():
            key = self._key(name) if self._key is not None else (name, None)
            if key is not None:
                column = self.values.get(key)
                if column is None:
                    column = self.values[key] = array("d")
                column.append(float(value))

    def merge(self, other: MeanAccumulator) -> None:
        _extend(self.values, other.values)

    def metrics(self) -> list[Metric]:
        order = self._order or (lambda key: (key[0], key[1] or ""))
        ordered = sorted(self.values.items(), key=lambda item: order(item[0]))
        return [metric(name, values, group=group) for (name, group), values in ordered]


class ResultsAccumulator(MetricAccumulator):
    """For a task that only overrides ``metrics(results)``: keeps the results, as every run once did.
    Such a task's runs grow with their results; ``Task.metric_accumulator`` is the way out."""

    def __init__(self, compute: Callable[[list[SampleResult]], list[Metric]]) -> None:
        self.results: list[SampleResult] = []
        self._compute = compute

    def add(self, result: SampleResult) -> None:
        self.results.append(result)

    def merge(self, other: ResultsAccumulator) -> None:
        self.results.extend(other.results)

    def metrics(self) -> list[Metric]:
        return self._compute(self.results)


def mean_metrics(results: Iterable[SampleResult]) -> list[Metric]:
    """Mean of every score name over the samples that finished without error."""
    return MeanAccumulator().fold(results)
