"""The scoring phase: a stored output becomes scores. The runner calls it right after ``solve``;
``emergebench score`` calls it alone on a finished run's journal, with no subject model at all."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import passuntil
from .context import RunServices, ScoreContext
from .grader import Grader
from .metrics import MeanAccumulator, metric
from .model import Model
from .records import Metric, ModelCall, Sample, SampleOutput, SampleResult, utcnow
from .task import Task


@dataclass
class Scored:
    """What scoring one (sample, epoch) gave: scores and details, or the error that stopped it."""

    scores: dict[str, float] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    error_type: str | None = None
    calls: list[ModelCall] = field(default_factory=list)


def as_output(value: SampleOutput | str | None) -> SampleOutput:
    """A ``solve`` may return just the answer string; scoring always sees a SampleOutput."""
    if isinstance(value, SampleOutput):
        return value
    if value is None or isinstance(value, str):
        return SampleOutput(answer=value)
    raise TypeError(f"solve must return a str or SampleOutput, got {type(value).__name__}")


async def score_output(
    task: Task[Any],
    sample: Sample,
    output: SampleOutput,
    epoch: int,
    *,
    run_seed: int,
    services: RunServices,
    grader: Grader[Any] | None,
    grader_model: Model | None,
) -> Scored:
    """The task's own ``score``, then the user's grader when the task's scoring does not use it.

    Whether a grader fits the task was checked before the run started (``Task.check_grader``), so
    here a grader is either the one the task's scoring uses or one the core applies to the answer.
    """
    task_uses_grader = task.scores_in_score()
    ctx = ScoreContext(
        sample=sample,
        epoch=epoch,
        run_seed=run_seed,
        services=services,
        grader_model=grader_model,
        grader=grader if task_uses_grader else None,
    )
    scored = Scored(calls=ctx.calls)
    try:
        result = await task.score(sample, output, ctx)
        scored.scores, scored.metadata = dict(result.scores), dict(result.metadata)
        if grader is not None and not task_uses_grader:
            ctx.grader = grader
            grade = await grader.grade(output.answer or "", task.grading_target(sample), ctx)
            scored.scores[grader.name] = grade.value
            scored.metadata["user_grader"] = {"grader": grader.name, **grade.model_dump(exclude_defaults=True)}
    except (asyncio.CancelledError, KeyboardInterrupt):
        raise
    except Exception as exc:  # a sample whose scoring fails keeps its output and says why
        scored.error_type = type(exc).__name__
        scored.error = f"{scored.error_type}: {exc}"
        scored.scores = {}
    return scored


def sample_result(
    run_id: str,
    sample: Sample,
    epoch: int,
    output: SampleOutput,
    scored: Scored,
    *,
    calls: list[ModelCall],
    started: datetime,
) -> SampleResult:
    """The journal record of one solved and scored (sample, epoch): output and scores side by side."""
    return SampleResult(
        run_id=run_id,
        sample_id=sample.id,
        epoch=epoch,
        input=sample.input,
        target=sample.target,
        answer=output.answer,
        output=output.data,
        scores=scored.scores,
        error=scored.error,
        error_type=scored.error_type,
        error_phase="score" if scored.error is not None else None,
        calls=calls,
        metadata=scored.metadata,
        started_at=started,
        finished_at=utcnow(),
    )


class RunMetrics:
    """A run's metrics, folded as its final results arrive: the task's accumulator, the mean of a
    user's grader the core applied (the task's own metrics do not know that score exists) and, with
    ``--until-pass``, the pooled pass probability.

    A task accumulator that raises does not stop the run: the first error is kept and raised by
    ``metrics()``, so the run ends ``partial`` with "metrics failed", as when metrics were computed at the end.
    """

    def __init__(self, task: Task[Any], grader: str | None, until_pass: bool = False) -> None:
        self.task = task.metric_accumulator()
        self.grader = grader if grader and not task.scores_in_score() else None
        self.graded = MeanAccumulator(key=lambda name: (name, None) if name == self.grader else None)
        self.pooled = passuntil.PooledPasses() if until_pass else None
        self.failure: Exception | None = None

    def add(self, result: SampleResult) -> None:
        if self.grader is not None:
            self.graded.add(result)
        if self.pooled is not None:
            self.pooled.add(result)
        if self.failure is None:
            try:
                self.task.add(result)
            except Exception as exc:  # noqa: BLE001 - reported as the run's metrics failure at its end
                self.failure = exc

    def metrics(self) -> list[Metric]:
        if self.failure is not None:
            raise self.failure
        out = self.task.metrics()
        if self.grader is not None and not any(m.name == self.grader for m in out):
            out.append(metric(self.grader, self.graded.values.get((self.grader, None), [])))
        return out

    def extra(self) -> list[Metric]:
        """Metrics that do not depend on the task's own (PassUntil's), computed even when those fail."""
        return self.pooled.metrics() if self.pooled is not None else []


def run_metrics(task: Task[Any], results: list[SampleResult], grader: str | None) -> list[Metric]:
    """The task's metrics, plus the mean of a user's grader the core applied, over a list of results."""
    folded = RunMetrics(task, grader)
    for result in results:
        folded.add(result)
    return folded.metrics()
