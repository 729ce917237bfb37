"""The async runner: expands a RunSpec into (sample, epoch) jobs, runs them with bounded
concurrency, journals each as it finishes, resumes killed runs and aggregates metrics."""

from __future__ import annotations

import asyncio
import os
import platform
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from . import __version__, paths
from .budget import CostLimitReached
from .cache import CallCache
from .context import RunServices, SolveContext, current_context
from .errors import UsageError
from .grader import Grader
from .journal import RESULT_FILE, SPEC_FILE, Journal, describe_damage, write_json_atomic
from .ledger import Resumed, RunLedger
from .liveness import hostname_hash
from .model import Model
from .passuntil import until_pass
from .plugins import PluginManager, get_manager
from .pricing import load_prices
from .progress import RunProgress
from .records import (
    ErrorPhase,
    GenerateConfig,
    ModelCall,
    Provenance,
    RunResult,
    RunSpec,
    Sample,
    SampleOutput,
    SampleResult,
    SampleScore,
    utcnow,
)
from .resume import choose_run
from .retry import RetryPolicy
from .scoring import as_output, sample_result, score_output
from .status import METRICS_FAILED, final_status
from .task import Task


class JournalWriteError(Exception):
    """The journal could not be written (disk full, I/O error): the run must stop, not go on unrecorded."""


@dataclass
class RunOptions:
    """How a run goes; none of this changes what it computes, so none of it is in the spec id."""

    max_concurrency: int = 8
    use_cache: bool = True
    resume: bool = False
    fresh: bool = False
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    progress: bool | None = None
    contributor: str | None = None
    runs_dir: Path | None = None
    cache_path: Path | None = None
    secrets: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Set by sweeps and --cost-limit (see RunServices): shared call limits, spending limit, price table.
    endpoint_limiter: Any = None
    budget: Any = None
    prices: Any = None
    report: Callable[[str], None] | None = None  # where problems met during the run are told (stderr)


def split_secrets(
    model_id: str, options: dict[str, Any], manager: PluginManager | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Separate a model's secret options (API keys) from the ones that belong in the spec."""
    provider, _ = (manager or get_manager()).catalog.provider_for(model_id)
    public = {k: v for k, v in options.items() if k not in provider.secret_options}
    secret = {k: v for k, v in options.items() if k in provider.secret_options}
    if provider.public_options is not None:
        redacted = provider.public_options(dict(public))
        secret.update({k: v for k, v in public.items() if redacted.get(k) != v})
        public = redacted
    return public, secret


def run_cost(calls: list[Any]) -> float | None:
    """Dollars paid for the calls that were priced; None when none was (unpriced models)."""
    priced = [c.cost_usd for c in calls if c.cost_usd is not None]
    return sum(priced) if priced else None


def validate_args(model: type[BaseModel], values: dict[str, Any], what: str) -> BaseModel:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "(all)"
            given = err.get("input")
            shown = f" (got {given!r})" if err["type"] != "missing" and not isinstance(given, dict) else ""
            problems.append(f"{loc}: {err['msg']}{shown}")
        fields = ", ".join(model.model_fields) or "none"
        raise UsageError(f"invalid {what}: " + "; ".join(problems) + f". Accepted keys: {fields}.") from None


def check_grader(
    task_cls: type[Task[Any]], grader: str | None, grader_args: dict[str, Any], manager: PluginManager | None = None
) -> dict[str, Any]:
    """Validate a grader and its ``-A`` options for a task: a grader the task's outputs cannot be
    graded by is refused here, before anything runs, never silently ignored."""
    if not grader:
        if grader_args:
            raise UsageError(
                f"-A grader options given but task {task_cls.name!r} uses no grader; pick one with --grader"
            )
        return {}
    grader_cls = (manager or get_manager()).catalog.grader(grader)
    task_cls.check_grader(grader_cls)
    checked = validate_args(grader_cls.Args, grader_args, f"-A options for grader {grader!r}")
    return checked.model_dump(mode="json")


def build_spec(
    task: str,
    model: str,
    *,
    task_args: dict[str, Any] | None = None,
    model_args: dict[str, Any] | None = None,
    generate: GenerateConfig | None = None,
    grader: str | None = None,
    grader_args: dict[str, Any] | None = None,
    grader_model: str | None = None,
    grader_model_args: dict[str, Any] | None = None,
    seed: int = 0,
    limit: int | None = None,
    epochs: int = 1,
    until_pass: int | None = None,
    manager: PluginManager | None = None,
) -> RunSpec:
    """Validate user input against the catalog and produce the canonical spec (defaults filled in,
    so ``-T k=3`` and the default ``k=3`` share one spec id)."""
    catalog = (manager or get_manager()).catalog
    task_cls = catalog.task(task)
    args = validate_args(task_cls.Args, task_args or {}, f"-T options for task {task!r}")
    model_args, _ = split_secrets(model, model_args or {}, manager)
    if grader_model:
        grader_model_args, _ = split_secrets(grader_model, grader_model_args or {}, manager)
    grader = grader or task_cls.default_grader
    checked_grader_args = check_grader(task_cls, grader, grader_args or {}, manager)
    if limit is not None and limit < 1:
        raise UsageError(f"--limit must be at least 1, got {limit}")
    if epochs < 1:
        raise UsageError(f"--epochs must be at least 1, got {epochs}")
    if until_pass is not None and not 1 <= until_pass <= 1_000_000:
        raise UsageError(f"--max-attempts must be between 1 and 1000000, got {until_pass}")
    return RunSpec(
        task=task,
        task_version=task_cls.version,
        task_args=args.model_dump(mode="json"),
        model=model,
        model_args=model_args or {},
        generate=generate or GenerateConfig(),
        grader=grader,
        grader_args=checked_grader_args,
        grader_model=grader_model,
        grader_model_args=grader_model_args or {},
        seed=seed,
        limit=limit,
        epochs=epochs,
        until_pass=until_pass,
    )


def resolve_model(manager: PluginManager, model_id: str, options: dict[str, Any]) -> Model:
    provider, name = manager.catalog.provider_for(model_id)
    try:
        model = provider.factory(name, dict(options))
        args = {k: v for k, v in model.info.args.items() if k not in provider.secret_options}
        model.info.args = provider.public_options(args) if provider.public_options else args
        return model
    except UsageError:
        raise
    except (ValueError, TypeError, FileNotFoundError) as exc:
        raise UsageError(f"cannot load model {model_id!r}: {exc}") from exc


class Runner:
    def __init__(self, spec: RunSpec, options: RunOptions | None = None, manager: PluginManager | None = None):
        self.spec = spec
        self.options = options or RunOptions()
        self.manager = manager or get_manager()
        self.on_progress: Callable[[SampleResult], None] | None = None
        self._warnings: list[str] = []
        self._ledger: RunLedger | None = None  # counts and metrics of the final results (no result is kept)
        self._journal: Journal | None = None
        # Set by a caller that has end work of its own (the CLI prints the summary): the end of what
        # ``on_run_finished`` started is then left to its ``settle()`` call, so the two overlap.
        self.settle_later = False
        self._unsettled: list[Callable[[], object]] = []

    def _task(self) -> Task[Any]:
        task_cls = self.manager.catalog.task(self.spec.task)
        if task_cls.version != self.spec.task_version:
            raise UsageError(
                f"task {self.spec.task!r} is version {task_cls.version} here but the spec asks for "
                f"{self.spec.task_version}; install that version of its plugin or start a new run"
            )
        args = validate_args(task_cls.Args, self.spec.task_args, f"-T options for task {self.spec.task!r}")
        return task_cls(args)

    def _grader(self) -> Grader[Any] | None:
        if not self.spec.grader:
            return None
        grader_cls = self.manager.catalog.grader(self.spec.grader)
        args = validate_args(grader_cls.Args, self.spec.grader_args, f"-A options for grader {self.spec.grader!r}")
        return grader_cls(args)

    def provenance(self, task: Task[Any]) -> Provenance:
        versions = self.manager.plugin_versions()
        versions.update({f"task:{k}": str(v) for k, v in task.provenance().items()})
        return Provenance(
            emergebench_version=__version__,
            plugin_versions=versions,
            python=sys.version.split()[0],
            platform=platform.platform(),
            contributor=self.options.contributor,
            hostname_hash=hostname_hash(),
        )

    async def run(self) -> RunResult:
        spec, options = self.spec, self.options
        task = self._task()
        grader = self._grader()
        secrets = self.options.secrets
        subject = resolve_model(self.manager, spec.model, {**spec.model_args, **secrets.get(spec.model, {})})
        grader_model = (
            resolve_model(
                self.manager, spec.grader_model, {**spec.grader_model_args, **secrets.get(spec.grader_model, {})}
            )
            if spec.grader_model
            else None
        )
        if grader is not None and grader.needs_model and grader_model is None:
            raise UsageError(f"grader {grader.name!r} is model-graded: choose a judge with --grader-model MODEL")
        samples = task.select(list(task.dataset(spec.seed)), spec.limit, spec.seed)
        ids = [s.id for s in samples]
        if len(set(ids)) != len(ids):
            dupes = [i for i, c in Counter(ids).items() if c > 1][:5]
            raise UsageError(f"task {spec.task!r} produced duplicate sample ids: {dupes}")

        runs_dir = options.runs_dir or paths.runs_dir()
        try:
            chosen = choose_run(runs_dir, spec, resume=options.resume, fresh=options.fresh)
            try:
                return await self._run_claimed(
                    chosen.run_id, chosen.run_dir, chosen.resuming, task, grader, samples, subject, grader_model
                )
            finally:
                if self._journal is not None:
                    self._journal.close()  # already closed unless the run folder could not be set up
                chosen.claim.release()
        except OSError as exc:  # samples, cache and journal handle their own; this is the run folder itself
            raise UsageError(
                f"cannot write the run folder under {runs_dir} ({exc.strerror or exc}); free disk space or fix "
                "its permissions, then re-run the same command (finished samples are kept)"
            ) from None
        finally:
            for model in (subject, grader_model):
                if model is not None:
                    await model.aclose()

    def _report(self, message: str) -> None:
        self._warnings.append(message)
        (self.options.report or _print_problem)(message)

    async def _run_claimed(
        self,
        run_id: str,
        run_dir: Path,
        resuming: bool,
        task: Task[Any],
        grader: Grader[Any] | None,
        samples: list[Sample],
        subject: Model,
        grader_model: Model | None,
    ) -> RunResult:
        spec, options = self.spec, self.options
        self.run_id = run_id
        journal = Journal(run_dir)
        self._journal = journal
        torn = journal.open()
        if torn:
            self._report(torn)
        if not (run_dir / SPEC_FILE).exists():
            write_json_atomic(run_dir / SPEC_FILE, spec.model_dump_json(indent=2))
        # One result per (sample, epoch); a failed or damaged one is recomputed, and its new line wins.
        resumed = self.open_ledger(task, journal, run_id, samples)
        if options.budget is not None:  # a resumed run's earlier calls count against --cost-limit
            options.budget.charge_prior(resumed.prior_cost)
        jobs = [(s, e) for e in range(spec.epochs) for s in samples if (s.id, e) not in resumed.good]

        # --no-cache skips reading; answers are still written so later runs can reuse them.
        cache = CallCache(options.cache_path or paths.cache_path(), report=self._report)
        services = RunServices(
            cache=cache,
            read_cache=options.use_cache,
            call_slots=asyncio.Semaphore(options.max_concurrency),
            retry=options.retry,
            model_resolver=lambda mid, opts: resolve_model(self.manager, mid, opts),
            endpoint_limiter=options.endpoint_limiter,
            budget=options.budget,
            prices=options.prices if options.prices is not None else load_prices(),
        )
        started = utcnow()
        result = RunResult(
            run_id=run_id,
            spec_id=spec.spec_id,
            spec=spec,
            status="running",
            task=task.info(),
            model=subject.info,
            grader_model=grader_model.info if grader_model else None,
            n_expected=len(samples) * spec.epochs,
            started_at=started,
            pid=os.getpid(),
            provenance=self.provenance(task),
        )
        write_json_atomic(run_dir / RESULT_FILE, result.model_dump_json(indent=2))
        progress = RunProgress(
            total=result.n_expected,
            done=result.n_expected - len(jobs),
            enabled=options.progress,
            label=spec.task,
            resuming=resuming,
            stats=services.stats,
        )
        stop_reason = None
        stopped = False
        self._stopped_by: str | None = None
        try:
            self.manager.call_guarded("on_run_started", result=result, run_dir=run_dir)
            with progress:
                await self._run_jobs(jobs, task, grader, subject, grader_model, services, journal, progress)
        except (asyncio.CancelledError, KeyboardInterrupt):
            stopped = True
            stop_reason = "interrupted by the user (Ctrl-C)"
            raise
        except CostLimitReached:
            stopped, self._stopped_by = True, "cost_limit"
            stop_reason = "the --cost-limit spending budget was reached"
            raise
        except JournalWriteError as exc:
            stopped = True
            stop_reason = str(exc)
        finally:
            final = self._close(result, task, journal, cache, run_dir, stopped, stop_reason)
        return final

    def open_ledger(self, task: Task[Any], journal: Journal, run_id: str, samples: list[Sample]) -> Resumed:
        """Start counting this run's results, folding in what its journal already holds (a resume):
        the (sample, epoch) keys done without error, and the earlier calls' cost. Damaged lines are reported."""
        spec = self.spec
        self._ledger = RunLedger(task, spec.grader, until_pass=bool(spec.until_pass))
        if not journal.path.exists() or journal.path.stat().st_size == 0:
            return Resumed()
        expected = {(s.id, e) for e in range(spec.epochs) for s in samples}
        resumed = self._ledger.resume(journal.path, run_id, expected)
        damage = describe_damage(journal.path, resumed.damaged)
        if damage:
            self._report(damage)
        return resumed

    def record(self, result: SampleResult) -> None:
        """A (sample, epoch)'s final result, already journaled: counted, folded into the metrics, let go."""
        assert self._ledger is not None, "open_ledger first"
        self._ledger.add(result)

    async def _run_jobs(
        self,
        jobs: list[tuple[Sample, int]],
        task: Task[Any],
        grader: Grader[Any] | None,
        subject: Model,
        grader_model: Model | None,
        services: RunServices,
        journal: Journal,
        progress: RunProgress,
    ) -> None:
        queue = iter(jobs)

        async def worker() -> None:
            for sample, epoch in queue:
                result = await self._solve_one(task, sample, epoch, grader, subject, grader_model, services)
                try:
                    journal.append(result)
                except OSError as exc:
                    raise JournalWriteError(
                        f"the journal {journal.path} could not be written ({exc.strerror or exc}); free some disk space"
                    ) from exc
                self.record(result)
                progress.advance(failed=result.error is not None)
                if self.on_progress is not None:
                    self.on_progress(result)

        workers = [asyncio.ensure_future(worker()) for _ in range(max(1, min(self.options.max_concurrency, len(jobs))))]
        try:
            await asyncio.gather(*workers)
        finally:
            for w in workers:
                w.cancel()

    async def _solve_one(
        self,
        task: Task[Any],
        sample: Sample,
        epoch: int,
        grader: Grader[Any] | None,
        subject: Model,
        grader_model: Model | None,
        services: RunServices,
    ) -> SampleResult:
        args = (task, sample, epoch, grader, subject, grader_model, services)
        if not self.spec.until_pass:
            return await self._solve_attempt(*args)
        return await until_pass(lambda attempt: self._solve_attempt(*args, attempt=attempt), task, self.spec.until_pass)

    async def _solve_attempt(
        self,
        task: Task[Any],
        sample: Sample,
        epoch: int,
        grader: Grader[Any] | None,
        subject: Model,
        grader_model: Model | None,
        services: RunServices,
        attempt: int = 0,
    ) -> SampleResult:
        ctx = SolveContext(
            attempt=attempt,
            sample=sample,
            epoch=epoch,
            run_seed=self.spec.seed,
            services=services,
            subject=subject,
            grader_model=grader_model,
            grader=grader,
            override=self.spec.generate,
            task_config=task.generate_config,
        )
        token = current_context.set(ctx)
        started = utcnow()
        solved: SampleOutput | str | SampleScore | None = None
        try:
            solved = await task.solve(sample, ctx)
        except (asyncio.CancelledError, KeyboardInterrupt):
            raise
        except Exception as exc:  # one failing sample never stops the run
            return self._sample_result(sample, epoch, started, calls=ctx.calls, error=exc, phase="solve")
        finally:
            current_context.reset(token)
        if isinstance(solved, SampleScore):  # a task that still scores in solve: nothing to re-score later
            return self._sample_result(
                sample, epoch, started, calls=ctx.calls, answer=solved.answer, scores=solved.scores,
                metadata=solved.metadata,
            )  # fmt: skip
        try:
            # scored exactly as stored: a re-scoring of the journal then reads the very same values
            output = SampleOutput.model_validate_json(as_output(solved).model_dump_json())
        except (TypeError, ValueError) as exc:
            return self._sample_result(sample, epoch, started, calls=ctx.calls, error=exc, phase="solve")
        scored = await score_output(
            task,
            sample,
            output,
            epoch,
            run_seed=self.spec.seed,
            services=services,
            grader=grader,
            grader_model=grader_model,
        )
        return sample_result(
            self.run_id, sample, epoch, output, scored, calls=[*ctx.calls, *scored.calls], started=started
        )

    def _sample_result(
        self,
        sample: Sample,
        epoch: int,
        started: datetime,
        *,
        calls: list[ModelCall],
        error: Exception | None = None,
        phase: ErrorPhase | None = None,
        answer: str | None = None,
        scores: dict[str, float] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> SampleResult:
        error_type = type(error).__name__ if error is not None else None
        return SampleResult(
            run_id=self.run_id,
            sample_id=sample.id,
            epoch=epoch,
            input=sample.input,
            target=sample.target,
            answer=answer,
            scores=scores or {},
            error=f"{error_type}: {error}" if error is not None else None,
            error_type=error_type,
            error_phase=phase,
            calls=calls,
            metadata=metadata or {},
            started_at=started,
            finished_at=utcnow(),
        )

    def _close(
        self,
        result: RunResult,
        task: Task[Any],
        journal: Journal,
        cache: CallCache,
        run_dir: Path,
        stopped: bool,
        stop_reason: str | None,
    ) -> RunResult:
        """The end of a run or a re-scoring: close the journal, commit the cache's answers, finish the
        result, tell plugins, then close the cache (its checkpoint, ~5-15 ms) while what a plugin handed
        on (the registry's ingest process) works, and wait for that unless ``settle_later``."""
        journal.close()
        cache.flush()  # a commit error is reported in the result's warnings; closing reports nothing
        final = self._finish(result, task, journal, stopped, stop_reason)
        self._notify(final, run_dir)
        cache.close()
        self.result = final
        if not self.settle_later:
            self.settle()
        return final

    def _finish(
        self, result: RunResult, task: Task[Any], journal: Journal, stopped: bool, stop_reason: str | None
    ) -> RunResult:
        ledger = self._ledger or RunLedger(task, self.spec.grader, until_pass=bool(self.spec.until_pass))
        ledger.close()
        errors = Counter(ledger.errors)
        metrics_ok = True
        try:
            metrics = ledger.run_metrics()
        except Exception as exc:
            metrics, metrics_ok = [], False
            errors[f"{METRICS_FAILED}: {type(exc).__name__}: {exc}"] += 1
        metrics = [*metrics, *ledger.metrics.extra()]
        final = result.model_copy(
            update={
                "status": final_status(result.n_expected, ledger.ok, stopped=stopped, metrics_ok=metrics_ok),
                "metrics": metrics,
                "n_samples": ledger.samples,
                "n_errors": ledger.samples - ledger.ok,
                "errors": dict(errors),
                "model_calls": ledger.model_calls,
                "cached_calls": ledger.cached_calls,
                "input_tokens": ledger.input_tokens,
                "output_tokens": ledger.output_tokens,
                "cost_usd": ledger.cost_usd,
                "stopped_by": getattr(self, "_stopped_by", None),
                "finished_at": utcnow(),
                "stop_reason": stop_reason,
                "warnings": list(self._warnings),
            }
        )
        try:
            write_json_atomic(journal.run_dir / RESULT_FILE, final.model_dump_json(indent=2))
        except OSError as exc:
            self._report(
                f"could not write {journal.run_dir / RESULT_FILE} ({exc.strerror or exc}); the journal keeps every "
                "finished sample and the next run of this spec resumes it"
            )
        return final

    def _notify(self, result: RunResult, run_dir: Path) -> None:
        finishing = self.manager.call_guarded("on_run_finished", result=result, run_dir=run_dir)
        self._unsettled += [done for done in finishing if callable(done)]

    def settle(self) -> None:
        """Wait for the work ``on_run_finished`` implementations left running (they returned a function
        that waits for it); a failing one is printed, never raised, as a failing hook is."""
        while self._unsettled:
            done = self._unsettled.pop(0)
            try:
                done()
            except Exception as exc:  # noqa: BLE001 - the run's own outcome stands
                _print_problem(f"finishing on_run_finished raised {type(exc).__name__}: {exc}")


def _print_problem(message: str) -> None:
    print(f"Warning: {message}", file=sys.stderr, flush=True)


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when it is installed (a third less client CPU per HTTP call), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run_coroutine(coro: Any) -> Any:
    """``asyncio.run`` on the fastest available event loop; Ctrl-C cancels the coroutine as usual."""
    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        return runner.run(coro)


def run_sync(spec: RunSpec, options: RunOptions | None = None, manager: PluginManager | None = None) -> RunResult:
    """Run a spec to the end from synchronous code (tests, notebooks, the CLI)."""
    result: RunResult = run_coroutine(Runner(spec, options, manager).run())
    return result
