"""Retry policy for model calls: tenacity, exponential backoff with jitter, Retry-After honoured."""

from __future__ import annotations

import random
from dataclasses import dataclass

from tenacity import RetryCallState, wait_random_exponential

from .model import TransientModelError


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    initial_wait_s: float = 1.0
    max_wait_s: float = 60.0
    timeout_s: float | None = 300.0

    def wait(self) -> RetryAfterWait:
        return RetryAfterWait(self)

    def first_wait(self, exc: TransientModelError) -> float:
        """The wait before the first retry: Retry-After if given, else full jitter up to the initial wait."""
        if exc.retry_after is not None:
            return min(max(exc.retry_after, 0.0), self.max_wait_s)
        return random.uniform(0, self.initial_wait_s)


class RetryAfterWait:
    """Waits what the server asked for (Retry-After), else exponential backoff with full jitter."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.backoff = wait_random_exponential(multiplier=policy.initial_wait_s, max=policy.max_wait_s)

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TransientModelError) and exc.retry_after is not None:
            return min(max(exc.retry_after, 0.0), self.policy.max_wait_s)
        return self.backoff(state)
