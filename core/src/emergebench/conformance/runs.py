"""What every check shares: the options and state of one check, and running a task through the real
runner in the private home, then validating what the run wrote."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..journal import JOURNAL_FILE, RESULT_FILE, SPEC_FILE
from ..plugins import PluginManager
from ..records import RunResult, RunSpec, SampleResult
from ..runner import Runner, RunOptions, build_spec
from ..task import Task
from .report import ConformanceReport
from .specs import ModelSpec

RunRecords = tuple[RunResult, list[SampleResult]]


@dataclass
class Check:
    """One call of ``check_plugin``: its options, the report being filled and the private manager."""

    report: ConformanceReport
    home: Path
    subjects: list[ModelSpec]
    task_models: dict[str, list[ModelSpec]]
    judge: ModelSpec | None
    task_args: Mapping[str, Mapping[str, Any]]
    only_tasks: Sequence[str] | None
    limit: int
    seed: int
    grader_args: Mapping[str, Mapping[str, Any]]
    grader_targets: Mapping[str, Sequence[Any]]
    check_models: list[ModelSpec]
    allow_sample_errors: bool
    manager: PluginManager | None = None
    runs_started: int = field(default=0)

    @property
    def plugins(self) -> PluginManager:
        assert self.manager is not None, "the plugin is checked only once its manager is loaded"
        return self.manager


def run_task(
    check: Check,
    where: str,
    task: str,
    args: dict[str, Any],
    subject: ModelSpec,
    judge: ModelSpec | None,
    *,
    cache: str,
) -> RunRecords | None:
    """Run ``task`` on ``subject`` with the cache named ``cache``; a failure is a finding, not an error."""
    check.runs_started += 1
    runs_dir = check.home / f"runs-{check.runs_started}"
    try:
        spec = build_spec(
            task,
            subject.id,
            task_args=args,
            model_args=dict(subject.options),
            grader_model=judge.id if judge else None,
            grader_model_args=dict(judge.options) if judge else None,
            seed=check.seed,
            limit=check.limit,
            manager=check.plugins,
        )
        options = RunOptions(
            max_concurrency=4, progress=False, runs_dir=runs_dir, cache_path=check.home / f"cache-{cache}.sqlite"
        )
        result = asyncio.run(Runner(spec, options, check.plugins).run())
    except Exception as exc:
        check.report.error(where, f"the run failed: {type(exc).__name__}: {exc}")
        return None
    check.report.runs += 1
    return result, read_records(check.report, where, runs_dir / result.run_id)


def read_records(report: ConformanceReport, where: str, run_dir: Path) -> list[SampleResult]:
    """The run's sample records; files or lines that do not validate are findings."""
    try:
        RunSpec.model_validate_json((run_dir / SPEC_FILE).read_text())
        RunResult.model_validate_json((run_dir / RESULT_FILE).read_text())
    except (OSError, ValidationError) as exc:
        report.error(where, f"run files do not validate: {exc}")
    samples = []
    for number, line in enumerate((run_dir / JOURNAL_FILE).read_bytes().splitlines(), 1):
        try:
            samples.append(SampleResult.model_validate_json(line))
        except ValidationError as exc:
            report.error(where, f"journal line {number} does not validate: {exc}")
    return samples


def check_result(
    check: Check, where: str, cls: type[Task[Any]], result: RunResult, samples: list[SampleResult]
) -> None:
    """A finished run: complete, no sample raised, finite scores and metrics, the main metric present."""
    report = check.report
    failed = [s for s in samples if s.error is not None]
    # A run with a failed sample is never 'complete' (docs/architecture.md, "Status and exit code").
    acceptable = {"complete", "partial", "failed"} if check.allow_sample_errors else {"complete"}
    if result.status not in acceptable or len(samples) != result.n_expected:
        report.error(where, f"run ended {result.status} with {len(samples)}/{result.n_expected} samples")
    if failed and not check.allow_sample_errors:
        shown = "; ".join(f"{s.sample_id}: {s.error}" for s in failed[:3])
        report.error(
            where,
            f"{len(failed)} of {len(samples)} sample(s) raised on malformed model replies ({shown}). Score "
            "unreadable answers 0 instead, or pass allow_sample_errors=True",
        )
    for kind in result.errors:
        if kind.startswith("metrics failed"):
            report.error(where, kind)
    for sample in samples:
        for key, value in sample.scores.items():
            if not math.isfinite(value):
                report.error(where, f"sample {sample.sample_id} has a non-finite score {key}={value}")
        if sample.error is None and not any(c.role == "subject" for c in sample.calls):
            report.warn(where, f"sample {sample.sample_id} finished without calling the subject model")
    for metric in result.metrics:
        if metric.value is not None and not math.isfinite(metric.value):
            report.error(where, f"metric {metric.name} is {metric.value}")
    ok = [s for s in samples if s.error is None]
    names = {m.name for m in result.metrics}
    if cls.main_metric and ok and cls.main_metric not in names:
        report.error(where, f"main_metric {cls.main_metric!r} is not among the run's metrics {sorted(names)}")
