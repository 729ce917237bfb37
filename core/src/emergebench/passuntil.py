"""PassUntil (Hu et al., 2023, "Predicting Emergent Abilities with Infinite Resolution Evaluation"):
re-sample a sample until it passes or a cap is reached, so that pass rates far below 1/N samples
become measurable.

Per sample, the number of attempts K until the first pass is geometric with the pass probability p.
The estimate is 1/K (the maximum-likelihood estimate) or 0 when no attempt passed within the cap N.
Its 95% interval is exact, in the Clopper-Pearson way, for the geometric law:
``P(K <= k; low) = 0.025`` and ``P(K >= k; high) = 0.025``, so ``low = 1 - 0.975^(1/k)`` and
``high = 1 - 0.025^(1/(k-1))`` (``high = 1`` for k = 1); with no pass in N attempts ``low = 0`` and
``high = 1 - 0.025^(1/N)``. Each tail has probability at most 2.5%, so coverage is at least 95%.

Per run, pooling S passes over T attempts of samples that share p, the estimate is S/T (the
likelihood of geometric and censored trials is proportional to p^S (1-p)^(T-S)) and the interval is
the likelihood-ratio one: every p within 3.84/2 log-likelihood of the maximum.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from .records import Metric, ModelCall, SampleResult

ALPHA = 0.05
CHI2_95 = 3.841458820694124
ATTEMPTS = "passuntil_attempts"
PASSED = "passuntil_passed"
ESTIMATE = "passuntil_p"
LOW = "passuntil_p_low"
HIGH = "passuntil_p_high"


def sample_interval(attempts: int, passed: bool, alpha: float = ALPHA) -> tuple[float, float, float]:
    """(estimate, low, high) for one sample: passed at attempt ``attempts``, or not within ``attempts``."""
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    if not passed:
        return 0.0, 0.0, 1.0 - (alpha / 2) ** (1.0 / attempts)
    low = 1.0 - (1.0 - alpha / 2) ** (1.0 / attempts)
    high = 1.0 if attempts == 1 else 1.0 - (alpha / 2) ** (1.0 / (attempts - 1))
    return 1.0 / attempts, low, high


def _loglik(p: float, passes: int, attempts: int) -> float:
    out = 0.0
    if passes:
        out += passes * math.log(p) if p > 0 else -math.inf
    if attempts - passes:
        out += (attempts - passes) * math.log1p(-p) if p < 1 else -math.inf
    return out


def pooled_interval(passes: int, attempts: int) -> tuple[float, float, float]:
    """(S/T, low, high): the likelihood-ratio 95% interval of a pass probability from S passes in T attempts."""
    if attempts < 1 or not 0 <= passes <= attempts:
        raise ValueError(f"need 0 <= passes <= attempts and attempts >= 1, got {passes}/{attempts}")
    p_hat = passes / attempts
    top = _loglik(p_hat, passes, attempts)

    def inside(p: float) -> bool:
        return 2.0 * (top - _loglik(p, passes, attempts)) <= CHI2_95

    def edge(lo: float, hi: float) -> float:  # lo inside, hi outside (or the reverse): bisect to the crossing
        for _ in range(200):
            mid = (lo + hi) / 2
            if inside(mid):
                lo = mid
            else:
                hi = mid
        return lo

    low = 0.0 if inside(0.0) else edge(p_hat, 0.0)
    high = 1.0 if inside(1.0) else edge(p_hat, 1.0)
    return p_hat, low, high


def sample_scores(attempts: int, passed: bool) -> dict[str, float]:
    """The per-sample record of a PassUntil sample (stored with its scores, so it is queryable and pooled)."""
    estimate, low, high = sample_interval(attempts, passed)
    return {ATTEMPTS: float(attempts), PASSED: float(passed), ESTIMATE: estimate, LOW: low, HIGH: high}


class PooledPasses:
    """Passes and attempts of a run's PassUntil samples, counted as they arrive (mergeable)."""

    def __init__(self) -> None:
        self.samples = 0
        self.attempts = 0.0
        self.passes = 0.0

    def add(self, result: SampleResult) -> None:
        if ATTEMPTS in result.scores:
            self.samples += 1
            self.attempts += result.scores[ATTEMPTS]
            self.passes += result.scores[PASSED]

    def merge(self, other: PooledPasses) -> None:
        self.samples += other.samples
        self.attempts += other.attempts
        self.passes += other.passes

    def metrics(self) -> list[Metric]:
        """The run's pooled pass probability (S/T with its likelihood-ratio interval) and attempt count."""
        if not self.samples:
            return []
        attempts, passes = int(self.attempts), int(self.passes)
        estimate, low, high = pooled_interval(passes, attempts)
        n = self.samples
        return [
            Metric(name="pass_probability", value=estimate, n=n, ci_low=low, ci_high=high),
            Metric(name="passuntil_total_attempts", value=float(attempts), n=n),
            Metric(name="passuntil_total_passes", value=float(passes), n=n),
        ]


def run_metrics(results: Iterable[SampleResult]) -> list[Metric]:
    """The run's pooled pass probability (S/T with its likelihood-ratio interval) and attempt count."""
    pooled = PooledPasses()
    for result in results:
        pooled.add(result)
    return pooled.metrics()


async def until_pass(attempt: Callable[[int], Awaitable[SampleResult]], task: Any, max_attempts: int) -> SampleResult:
    """Run ``attempt(0)``, ``attempt(1)``, ... until ``task.passed`` says yes or ``max_attempts`` ran.

    The returned result is the last attempt's, with every attempt's model calls (so cost and token
    counts stay true) and the PassUntil scores added. An attempt that raises ends the sample with its
    error, as a plain run would.
    """
    calls: list[ModelCall] = []
    started = None
    result: SampleResult | None = None
    verdict: bool | None = False
    used = 0
    for used in range(1, max_attempts + 1):
        result = await attempt(used - 1)
        started = started or result.started_at
        calls += result.calls
        if result.error is not None:
            break
        verdict = task.passed(result.scores)
        if verdict is None:
            result.error_type = "PassUntilError"
            result.error = (
                f"PassUntilError: task {task.name} gave no pass/fail score for this sample "
                f"(scores: {', '.join(sorted(result.scores)) or 'none'}); --until-pass needs one"
            )
            break
        if verdict:
            break
    assert result is not None
    result.calls = calls
    result.started_at = started or result.started_at
    result.metadata = {**result.metadata, "passuntil": {"attempts": used, "max_attempts": max_attempts}}
    if result.error is None:
        result.scores = {**result.scores, **sample_scores(used, bool(verdict))}
    return result
