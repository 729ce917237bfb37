"""Re-scoring a stored run: its journaled outputs are scored again (a fixed grader, another judge, a
metric added later) and recorded as a new run whose spec names its source (``RunSpec.source_run``).

The subject model is never resolved, let alone called: scoring reads the stored output. Judge calls
go through the call cache under the same keys as in the source run, so re-scoring with nothing
changed costs no model call and gives identical scores.
"""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path
from typing import Any

from . import paths
from .cache import CallCache
from .context import RunServices
from .errors import UsageError
from .grader import Grader
from .journal import (
    JOURNAL_FILE,
    RESULT_FILE,
    SPEC_FILE,
    Journal,
    iter_journal,
    read_result,
    write_json_atomic,
)
from .liveness import run_is_alive
from .model import Model
from .plugins import PluginManager, get_manager
from .records import ModelInfo, RunResult, RunSpec, Sample, SampleResult, utcnow
from .resume import choose_run
from .runner import Runner, RunOptions, check_grader, resolve_model
from .scoring import sample_result, score_output
from .task import Task

RUN_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


def find_run(run_id: str, runs_dir: Path | None = None) -> Path:
    """The folder of a stored run; the id is checked before it becomes part of a path."""
    if not RUN_ID_RE.match(run_id) or ".." in run_id:
        raise UsageError(f"{run_id!r} is not a run id (like 3f2a...-20250101T120000-ab12); see `emergebench runs`")
    folder = (runs_dir or paths.runs_dir()) / run_id
    if not (folder / SPEC_FILE).is_file():
        raise UsageError(f"no run {run_id!r} in {folder.parent}; list stored runs with `emergebench runs`")
    return folder


def rescore_spec(
    source: RunSpec,
    source_run: str,
    *,
    grader: str | None = None,
    grader_args: dict[str, Any] | None = None,
    grader_model: str | None = None,
    grader_model_args: dict[str, Any] | None = None,
    manager: PluginManager | None = None,
) -> RunSpec:
    """The source's spec with the scoring choices replaced where given and the lineage recorded.

    The task version is the installed one: re-scoring old outputs with today's scoring is the point.
    """
    task_cls = (manager or get_manager()).catalog.task(source.task)
    name = grader if grader is not None else source.grader
    if grader is not None or grader_args:
        args = grader_args or {}
    else:
        args = source.grader_args
    checked = check_grader(task_cls, name, args, manager)
    judge: str | None
    if grader_model is not None:
        judge, judge_args = grader_model, grader_model_args or {}
    else:
        judge, judge_args = source.grader_model, {**source.grader_model_args, **(grader_model_args or {})}
    return source.model_copy(
        update={
            "task_version": task_cls.version,
            "grader": name,
            "grader_args": checked,
            "grader_model": judge,
            "grader_model_args": judge_args,
            "source_run": source_run,
        }
    )


class Rescorer:
    """Scores every stored output of ``source_dir`` under ``spec`` into a new run folder."""

    def __init__(
        self, source_dir: Path, spec: RunSpec, options: RunOptions | None = None, manager: PluginManager | None = None
    ) -> None:
        self.source_dir = source_dir
        self.spec = spec
        self.options = options or RunOptions()
        self.options.fresh = True
        self.runner = Runner(spec, self.options, manager)

    def _source(self) -> tuple[RunResult | None, list[SampleResult]]:
        result = read_result(self.source_dir)
        name = self.source_dir.name
        if result is not None and run_is_alive(result, self.source_dir):
            raise UsageError(f"run {name!r} is still being written by process {result.pid}; score it when it ends")
        records = list(iter_journal(self.source_dir / JOURNAL_FILE))
        unstored = [r.sample_id for r in records if r.output is None and r.error is None]
        if unstored:
            raise UsageError(
                f"run {name!r} keeps no outputs apart from its scores ({len(unstored)} samples, e.g. "
                f"{unstored[0]!r}): it was written before outputs were stored (schema 1) or by a task that "
                "scores inside solve, so it cannot be re-scored; run it again with `emergebench run`"
            )
        return result, records

    async def run(self) -> RunResult:
        spec, runner = self.spec, self.runner
        source_result, records = self._source()
        task = runner._task()
        grader = runner._grader()
        secrets = self.options.secrets
        judge = (
            resolve_model(
                runner.manager, spec.grader_model, {**spec.grader_model_args, **secrets.get(spec.grader_model, {})}
            )
            if spec.grader_model
            else None
        )
        try:
            if grader is not None and grader.needs_model and judge is None:
                raise UsageError(f"grader {grader.name!r} is model-graded: choose a judge with --grader-model MODEL")
            chosen = choose_run(self.options.runs_dir or paths.runs_dir(), spec, resume=False, fresh=True)
            try:
                return await self._score_all(chosen.run_id, chosen.run_dir, source_result, records, task, grader, judge)
            finally:
                chosen.claim.release()
        finally:
            if judge is not None:
                await judge.aclose()

    async def _score_all(
        self,
        run_id: str,
        run_dir: Path,
        source_result: RunResult | None,
        records: list[SampleResult],
        task: Task[Any],
        grader: Grader[Any] | None,
        judge: Model | None,
    ) -> RunResult:
        spec, runner = self.spec, self.runner
        runner.run_id = run_id
        journal = Journal(run_dir)
        journal.open()
        cache = CallCache(self.options.cache_path or paths.cache_path(), report=runner._report)
        services = RunServices(
            cache=cache,
            read_cache=self.options.use_cache,
            call_slots=asyncio.Semaphore(self.options.max_concurrency),
            retry=self.options.retry,
            model_resolver=lambda mid, opts: resolve_model(runner.manager, mid, opts),
        )
        result = RunResult(
            run_id=run_id,
            spec_id=spec.spec_id,
            spec=spec,
            status="running",
            task=task.info(),
            model=source_result.model if source_result is not None else _model_info(spec),
            grader_model=judge.info if judge else None,
            n_expected=source_result.n_expected if source_result is not None else len(records),
            started_at=utcnow(),
            pid=os.getpid(),
            provenance=runner.provenance(task),
        )
        write_json_atomic(run_dir / RESULT_FILE, result.model_dump_json(indent=2))
        runner.open_ledger(task, journal, run_id, [])
        slots = asyncio.Semaphore(self.options.max_concurrency)

        async def one(record: SampleResult) -> None:
            async with slots:
                rescored = await self._score_one(record, run_id, task, grader, judge, services)
            journal.append(rescored)
            runner.record(rescored)

        stopped, reason = False, None
        try:
            await asyncio.gather(*(one(r) for r in records))
        except (asyncio.CancelledError, KeyboardInterrupt):
            stopped, reason = True, "interrupted by the user (Ctrl-C)"
            raise
        finally:
            self.result = final = runner._close(result, task, journal, cache, run_dir, stopped, reason)
        return final

    async def _score_one(
        self,
        record: SampleResult,
        run_id: str,
        task: Task[Any],
        grader: Grader[Any] | None,
        judge: Model | None,
        services: RunServices,
    ) -> SampleResult:
        output = record.stored_output
        if output is None or record.error_phase == "solve" or (record.error is not None and record.error_phase is None):
            # the model never produced an output here: the failure is carried over, not re-run
            return record.model_copy(update={"run_id": run_id, "calls": [], "scores": {}, "metadata": {}})
        sample = Sample(id=record.sample_id, input=record.input, target=record.target)
        started = utcnow()
        scored = await score_output(
            task,
            sample,
            output,
            record.epoch,
            run_seed=self.spec.seed,
            services=services,
            grader=grader,
            grader_model=judge,
        )
        return sample_result(run_id, sample, record.epoch, output, scored, calls=scored.calls, started=started)


def _model_info(spec: RunSpec) -> ModelInfo:
    provider, _, name = spec.model.partition("/")
    return ModelInfo(id=spec.model, provider=provider, name=name, args=spec.model_args)
