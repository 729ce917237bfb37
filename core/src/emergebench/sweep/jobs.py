"""What travels between a sweep's driver and its workers: jobs out, events back (all picklable)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..records import SampleResult
from ..retry import RetryPolicy
from ..runner import RunOptions
from .limits import EndpointLimits


@dataclass
class RunJob:
    """One run to execute: the spec as JSON and the secrets its models need (never written down)."""

    job_id: int
    spec_json: str
    secrets: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class WorkerConfig:
    """How every run of the sweep goes: the same for each worker."""

    runs_dir: Path
    cache_path: Path
    max_concurrency: int = 8
    use_cache: bool = True
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    contributor: str | None = None
    limits: EndpointLimits = field(default_factory=EndpointLimits)
    slots_dir: Path | None = None
    cost_limit: float | None = None
    prices_file: Path | None = None

    def run_options(self, secrets: dict[str, dict[str, Any]]) -> RunOptions:
        return RunOptions(
            max_concurrency=self.max_concurrency,
            use_cache=self.use_cache,
            retry=self.retry,
            progress=False,
            contributor=self.contributor,
            runs_dir=self.runs_dir,
            cache_path=self.cache_path,
            secrets=secrets,
        )


@dataclass
class SampleEvent:
    """A sample finished: enough for the sweep view (the sample itself is in the run's journal)."""

    job_id: int
    failed: bool
    calls: int
    cached: int
    cost: float


@dataclass
class RunEvent:
    """A run ended (``result_json`` is its RunResult) or could not start (``error``)."""

    job_id: int
    result_json: str | None = None
    error: str | None = None


def sample_event(job_id: int, result: SampleResult) -> SampleEvent:
    return SampleEvent(
        job_id=job_id,
        failed=result.error is not None,
        calls=sum(1 for c in result.calls if not c.cached),
        cached=sum(1 for c in result.calls if c.cached),
        cost=sum(c.cost_usd or 0.0 for c in result.calls),
    )
