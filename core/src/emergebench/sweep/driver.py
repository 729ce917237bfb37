"""The sweep driver: skips specs already complete, hands the rest to an executor, keeps one view
of the whole sweep, and stops dispatching at ``--cost-limit`` or Ctrl-C (every run resumable)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..journal import iter_journal, read_result
from ..plugins import PluginManager
from ..records import RunResult, RunSpec
from ..resume import find_resumable
from ..runner import run_cost, validate_args
from .jobs import RunEvent, RunJob, SampleEvent, WorkerConfig
from .plan import PlannedRun
from .view import SweepCounts, SweepView

RETRIES_AFTER_WORKER_DEATH = 2
POLL_S = 0.2


class Executor(Protocol):
    name: str
    capacity: int

    def start(self, config: WorkerConfig) -> None: ...
    def charge_prior(self, cost: float) -> None: ...
    def idle(self) -> int: ...
    def submit(self, job: RunJob) -> None: ...
    def events(self, timeout: float) -> list[SampleEvent | RunEvent]: ...
    def stop(self) -> None: ...


@dataclass
class RunOutcome:
    """What became of one planned run in this sweep."""

    planned: PlannedRun
    status: str = (
        "pending"  # pending, skipped (complete before), running, complete, partial, interrupted, failed, error
    )
    run_id: str | None = None
    n_samples: int = 0
    n_expected: int | None = None
    n_errors: int = 0
    model_calls: int = 0
    cached_calls: int = 0
    cost_usd: float | None = None
    error: str | None = None
    attempts: int = 0

    def absorb(self, result: RunResult) -> None:
        self.status, self.run_id = result.status, result.run_id
        self.n_samples, self.n_expected, self.n_errors = result.n_samples, result.n_expected, result.n_errors
        self.model_calls, self.cached_calls, self.cost_usd = result.model_calls, result.cached_calls, result.cost_usd


@dataclass
class SweepResult:
    outcomes: list[RunOutcome]
    counts: SweepCounts
    stopped_by: str | None = None  # "cost_limit" or "interrupt"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.stopped_by is None and all(o.status in ("complete", "skipped") for o in self.outcomes)


def complete_runs(runs_dir: Path, spec_ids: Iterable[str]) -> dict[str, RunResult]:
    """The newest complete run of each spec in the runs folder."""
    wanted = set(spec_ids)
    found: dict[str, RunResult] = {}
    if not runs_dir.exists():
        return found
    for run_dir in sorted(runs_dir.iterdir()):
        spec_id = run_dir.name[:16]
        if spec_id not in wanted:
            continue
        result = read_result(run_dir)
        if result is not None and result.status == "complete" and result.spec_id == spec_id:
            found[spec_id] = result
    return found


def resumable_progress(runs_dir: Path, spec: RunSpec) -> tuple[int, float]:
    """Samples already journaled by the unfinished run this spec would resume, and what they cost."""
    run_dir = find_resumable(runs_dir, spec.spec_id)
    if run_dir is None:
        return 0, 0.0
    results = list(iter_journal(run_dir / "journal.jsonl"))
    return len(results), run_cost([c for r in results for c in r.calls]) or 0.0


class ExpectedSamples:
    """How many (sample, epoch) pairs a spec will run: the task's own selection, computed once per
    distinct (task, args, seed, limit)."""

    def __init__(self, manager: PluginManager) -> None:
        self.manager = manager
        self._known: dict[str, int | None] = {}

    def __call__(self, spec: RunSpec) -> int | None:
        key = json.dumps([spec.task, spec.task_args, spec.seed, spec.limit], sort_keys=True)
        if key not in self._known:
            try:
                task_cls = self.manager.catalog.task(spec.task)
                task = task_cls(validate_args(task_cls.Args, spec.task_args, "task args"))
                self._known[key] = len(task.select(list(task.dataset(spec.seed)), spec.limit, spec.seed))
            except Exception:  # the run itself will report the problem
                self._known[key] = None
        n = self._known[key]
        return None if n is None else n * spec.epochs


class SweepDriver:
    def __init__(
        self,
        planned: list[PlannedRun],
        executor: Executor,
        config: WorkerConfig,
        manager: PluginManager,
        *,
        completed_elsewhere: dict[str, str] | None = None,
        progress: bool | None = None,
    ) -> None:
        self.planned = planned
        self.executor = executor
        self.config = config
        self.manager = manager
        self.completed_elsewhere = completed_elsewhere or {}
        self.progress = progress

    def prepare(self) -> tuple[list[RunOutcome], SweepCounts, float]:
        """Outcomes with skips filled in, counts for the view (with all that was spent before), and
        what the skipped complete runs cost (an unfinished run adds its own journal's cost to the
        budget when it resumes)."""
        expected = ExpectedSamples(self.manager)
        done = complete_runs(self.config.runs_dir, (p.spec.spec_id for p in self.planned))
        counts = SweepCounts(runs=len(self.planned))
        outcomes, prior_cost, skipped_cost = [], 0.0, 0.0
        for planned in self.planned:
            outcome = RunOutcome(planned)
            spec_id = planned.spec.spec_id
            if spec_id in done:
                outcome.absorb(done[spec_id])
                outcome.status = "skipped"
                skipped_cost += done[spec_id].cost_usd or 0.0
            elif spec_id in self.completed_elsewhere:
                outcome.status, outcome.run_id = "skipped", self.completed_elsewhere[spec_id]
            else:
                outcome.n_expected = expected(planned.spec)
                outcome.n_samples, cost = resumable_progress(self.config.runs_dir, planned.spec)
                prior_cost += cost
            if outcome.status == "skipped":
                counts.skipped += 1
            else:
                counts.samples_total += outcome.n_expected or 0
                counts.samples_done += outcome.n_samples
            outcomes.append(outcome)
        counts.cost = prior_cost + skipped_cost
        return outcomes, counts, skipped_cost

    def run(self) -> SweepResult:
        outcomes, counts, skipped_cost = self.prepare()
        counts.priced = self.config.cost_limit is not None or counts.cost > 0
        queue = [i for i, o in enumerate(outcomes) if o.status == "pending"]
        queue.reverse()  # pop() from the end takes them in plan order
        in_flight: set[int] = set()
        stopped_by: str | None = None
        self.executor.start(self.config)
        self.executor.charge_prior(skipped_cost)
        view = SweepView(counts, enabled=self.progress)
        try:
            with view:
                while queue or in_flight:
                    while queue and stopped_by is None and self.executor.idle() > 0:
                        index = queue.pop()
                        outcome = outcomes[index]
                        outcome.status, outcome.attempts = "running", outcome.attempts + 1
                        counts.running += 1
                        in_flight.add(index)
                        spec = outcome.planned.spec
                        self.executor.submit(RunJob(index, spec.model_dump_json(), outcome.planned.secrets))
                    if stopped_by is not None and not in_flight:
                        break
                    for event in self.executor.events(POLL_S):
                        stop = self._handle(event, outcomes, counts, in_flight, queue, view)
                        stopped_by = stopped_by or stop
                    view.refresh()
        except KeyboardInterrupt:
            stopped_by = "interrupt"
            self._drain(outcomes, counts, in_flight, queue, view)
        finally:
            self.executor.stop()
        return SweepResult(outcomes, counts, stopped_by)

    def _drain(
        self, outcomes: list[RunOutcome], counts: SweepCounts, in_flight: set[int], queue: list[int], view: SweepView
    ) -> None:
        """After Ctrl-C the workers end their runs as interrupted; keep their last word (10 s at most)."""
        for _ in range(50):
            if not in_flight:
                return
            try:
                for event in self.executor.events(POLL_S):
                    self._handle(event, outcomes, counts, in_flight, queue, view)
            except KeyboardInterrupt:
                return

    def _handle(
        self,
        event: SampleEvent | RunEvent,
        outcomes: list[RunOutcome],
        counts: SweepCounts,
        in_flight: set[int],
        queue: list[int],
        view: SweepView,
    ) -> str | None:
        outcome = outcomes[event.job_id]
        if isinstance(event, SampleEvent):
            outcome.n_samples += 1
            counts.samples_done += 1
            counts.samples_failed += int(event.failed)
            counts.calls += event.calls
            counts.cached += event.cached
            counts.cost += event.cost
            counts.priced = counts.priced or event.cost > 0
            return None
        in_flight.discard(event.job_id)
        counts.running -= 1
        label = outcome.planned.label
        if event.result_json is None:
            outcome.error = event.error
            if "worker process died" in (event.error or "") and outcome.attempts <= RETRIES_AFTER_WORKER_DEATH:
                view.note(f"[yellow]retrying[/] {label}: {event.error}; it resumes from its journal")
                outcome.status = "pending"
                queue.append(event.job_id)
                return None
            outcome.status = "error"
            counts.failed += 1
            view.note(f"[red]error[/] {label}: {event.error}")
            return None
        result = RunResult.model_validate_json(event.result_json)
        counts.samples_done += result.n_samples - outcome.n_samples  # a retried run's journal may hold more
        outcome.absorb(result)
        if result.status == "complete":
            counts.done += 1
        else:
            counts.failed += 1
        cost = f", ${result.cost_usd:.4f}" if result.cost_usd is not None else ""
        view.note(
            f"{result.status} {label}: {result.n_samples}/{result.n_expected} samples, {result.n_errors} failed, "
            f"{result.model_calls} calls{cost} (run {result.run_id})"
        )
        return "cost_limit" if result.stopped_by == "cost_limit" else None
