"""Executing one run of a sweep inside a worker (a local process; Ray actors reuse the pieces)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..budget import Budget, CostLimitReached
from ..errors import UsageError
from ..pricing import PriceTable
from ..records import RunSpec
from ..runner import Runner, run_coroutine
from .jobs import RunEvent, RunJob, WorkerConfig, sample_event


def execute(
    job: RunJob,
    config: WorkerConfig,
    send: Callable[[Any], None],
    *,
    limiter: Any = None,
    budget: Budget | None = None,
    prices: PriceTable | None = None,
) -> None:
    """Run (or resume) the job's spec with the ordinary runner, which journals every sample and
    hands the finished run to the registry; report samples and the end to the driver."""
    spec = RunSpec.model_validate_json(job.spec_json)
    options = config.run_options(job.secrets)
    options.endpoint_limiter, options.budget, options.prices = limiter, budget, prices
    runner = Runner(spec, options)
    runner.on_progress = lambda result: send(sample_event(job.job_id, result))
    try:
        result = run_coroutine(runner.run())
    except CostLimitReached:
        result = runner.result
    except UsageError as exc:
        send(RunEvent(job.job_id, error=str(exc)))
        return
    except Exception as exc:  # reported to the driver, which marks the run failed and goes on
        result = getattr(runner, "result", None)
        if result is None:
            send(RunEvent(job.job_id, error=f"{type(exc).__name__}: {exc}"))
            return
    send(RunEvent(job.job_id, result_json=result.model_dump_json()))
