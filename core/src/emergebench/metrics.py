"""Small statistics shared by tasks: mean with standard error and a normal 95% interval."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence

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


def mean_metrics(results: Iterable[SampleResult]) -> list[Metric]:
    """Mean of every score name over the samples that finished without error."""
    by_name: dict[str, list[float]] = defaultdict(list)
    for result in results:
        if result.error is None:
            for name, value in result.scores.items():
                by_name[name].append(float(value))
    return [metric(name, values) for name, values in sorted(by_name.items())]
