"""Grader conformance: every grader is built with default arguments and gives a finite ``Grade`` for
malformed answers (empty, whitespace, truncated JSON, adversarial verdicts, binary-looking, 20,000 chars)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from ..context import RunServices, ScoreContext
from ..errors import UsageError
from ..grader import Grade, Grader
from ..records import Sample
from ..runner import resolve_model, validate_args
from ..task import Task
from .runs import Check
from .specs import DEFAULT_GRADER_TARGETS, MALFORMED_ANSWERS, short


def check_grader(check: Check, name: str, cls: type[Grader[Any]], tasks: Mapping[str, type[Task[Any]]]) -> None:
    report = check.report
    where = f"grader {name}"
    if not cls.description.strip():
        report.warn(where, "has no description (shown by `emergebench graders`)")
    given = dict(check.grader_args.get(name, {}))
    try:
        grader = cls(cls.Args.model_validate(given))
    except (ValidationError, TypeError) as exc:
        report.error(
            where,
            f"cannot be built from {given!r}: {exc}. `--grader {name}` builds it "
            "with default arguments, so give every argument a default (or pass grader_args= here)",
        )
        return
    targets = list(check.grader_targets.get(name, ())) or targets_from_tasks(check, name, tasks)
    if cls.needs_model and check.judge is None:
        report.error(where, "is model-graded but the check was given grader_model=None")
        return
    try:
        failures = asyncio.run(grade_malformed(check, grader, targets))
    except Exception as exc:
        report.error(where, f"could not be exercised: {type(exc).__name__}: {exc}")
        return
    for failure in failures[:5]:
        report.error(where, failure)
    if len(failures) > 5:
        report.error(where, f"... and {len(failures) - 5} more malformed inputs failed")


def targets_from_tasks(check: Check, grader: str, tasks: Mapping[str, type[Task[Any]]]) -> list[Any]:
    """Targets shaped like the ones the plugin's tasks give this grader (their first samples)."""
    targets: list[Any] = []
    for task_name, cls in tasks.items():
        if cls.default_grader != grader:
            continue
        try:
            args = validate_args(cls.Args, dict(check.task_args.get(task_name, cls.demo_args or {})), "args")
            targets += [s.target for s in list(cls(args).dataset(check.seed))[:3]]
        except Exception:  # reported by the task checks
            continue
    return targets or list(DEFAULT_GRADER_TARGETS)


async def grade_malformed(check: Check, grader: Grader[Any], targets: list[Any]) -> list[str]:
    """Grade every malformed answer against every target; what raised or is not a finite Grade."""
    judge = resolve_model(check.plugins, check.judge.id, dict(check.judge.options)) if check.judge else None
    services = RunServices(cache=None, read_cache=False, call_slots=asyncio.Semaphore(4))
    failures: list[str] = []
    for target in targets:
        raised: list[tuple[str, Exception]] = []
        for answer in MALFORMED_ANSWERS:
            ctx = ScoreContext(
                sample=Sample(id="conformance", input="What is the answer?", target=target),
                epoch=0,
                run_seed=check.seed,
                services=services,
                grader_model=judge,
                grader=grader,
            )
            shown = answer if len(answer) < 40 else answer[:20] + f"...({len(answer)} chars)"
            try:
                grade = await grader.grade(answer, target, ctx)
            except Exception as exc:
                raised.append((shown, exc))
                continue
            if not isinstance(grade, Grade):
                failures.append(f"grade({shown!r}) returned {type(grade).__name__}, not Grade")
            elif not math.isfinite(grade.value):
                failures.append(f"grade({shown!r}) returned value {grade.value}")
        kinds = {UsageError if isinstance(exc, UsageError) else type(exc) for _, exc in raised}
        if len(raised) == len(MALFORMED_ANSWERS) and kinds == {UsageError}:
            first = raised[0][1]
            failures.append(
                f"rejects target {short(target)} whatever the answer ({type(first).__name__}: {first}); pass "
                f"grader_targets={{{grader.name!r}: [...]}} with targets like those its tasks give it"
            )
        else:
            failures += [
                f"grade({shown!r}, target={short(target)}) raised {type(exc).__name__}: {exc}" for shown, exc in raised
            ]
    return failures
