"""Task conformance: names, version, a strict ``Args`` model, a deterministic dataset, and seeded runs on
scripted models that repeat identically and replay from the cache without a model call."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from ..records import Sample
from ..runner import validate_args
from ..task import Task
from .runs import Check, RunRecords, check_result, run_task
from .specs import ModelSpec, short


def check_task_names(check: Check, names: list[str]) -> None:
    """A plugin's only task may be named after it; several tasks are named ``PLUGIN/<task>``."""
    plugin = check.report.plugin
    for task_name in names:
        if task_name == plugin or task_name.startswith(f"{plugin}/"):
            continue
        if len(names) > 1:
            check.report.error(
                f"task {task_name}", f"a plugin with several tasks names them '{plugin}/<task>', got {task_name!r}"
            )
        else:
            check.report.warn(f"task {task_name}", f"the convention is to name a plugin's only task {plugin!r}")


def check_task(check: Check, name: str, cls: type[Task[Any]]) -> None:
    report = check.report
    where = f"task {name}"
    if not cls.version.strip() or any(ch.isspace() for ch in cls.version):
        report.error(where, f"version {cls.version!r} must be a non-empty string without spaces, e.g. '1.0'")
    if not cls.description.strip():
        report.warn(where, "has no description (shown by `emergebench tasks`)")
    if not (isinstance(cls.Args, type) and issubclass(cls.Args, BaseModel)):
        report.error(where, f"Args must be a pydantic BaseModel subclass, got {cls.Args!r}")
        return
    if cls.Args.model_config.get("extra") != "forbid":
        report.error(where, 'Args must set model_config = ConfigDict(extra="forbid") so a mistyped -T key is an error')
    try:
        cls.info().model_dump_json()
    except Exception as exc:
        report.error(where, f"its Args JSON schema cannot be built: {exc}")
    if cls.default_grader is not None and cls.default_grader not in check.plugins.catalog.graders:
        report.error(
            where,
            f"default_grader {cls.default_grader!r} is not installed (pass also_load=[...] if it is another plugin's)",
        )
        return
    raw_args = dict(check.task_args.get(name, cls.demo_args or {}))
    try:
        args = validate_args(cls.Args, raw_args, f"-T options for task {name!r}")
    except Exception as exc:
        report.error(where, f"arguments {raw_args!r} do not validate: {exc}")
        return
    if cls.demo_args is not None and name in check.task_args:
        try:
            validate_args(cls.Args, dict(cls.demo_args), "demo_args")
        except Exception as exc:
            report.error(where, f"demo_args {cls.demo_args!r} do not validate: {exc}")
    task = cls(args)
    if not check_dataset(check, where, task):
        return
    try:
        task.metrics([])
    except Exception as exc:
        report.error(
            where,
            f"metrics([]) raised {type(exc).__name__}: {exc}; a run where every sample failed must still finish",
        )
    for subject in check.task_models.get(name, check.subjects):
        check_runs(check, name, cls, raw_args, subject)


def check_dataset(check: Check, where: str, task: Task[Any]) -> bool:
    """Non-empty, Sample records with unique ids, the same on every call, JSON-able; ``select`` obeys the limit."""
    report, seed, limit = check.report, check.seed, check.limit
    try:
        first = list(task.dataset(seed))
        second = list(task.dataset(seed))
    except Exception as exc:
        report.error(where, f"dataset({seed}) raised {type(exc).__name__}: {exc}")
        return False
    if not first:
        report.error(where, "dataset() returned no samples")
        return False
    bad = [s for s in first if not isinstance(s, Sample)]
    if bad:
        report.error(where, f"dataset() must yield Sample records, got {type(bad[0]).__name__}")
        return False
    ids = [s.id for s in first]
    if len(set(ids)) != len(ids):
        report.error(where, "dataset() yields duplicate sample ids")
    if [s.model_dump(mode="json") for s in first] != [s.model_dump(mode="json") for s in second]:
        report.error(where, f"dataset({seed}) differs between two calls: derive all randomness from the seed")
    try:
        for sample in first:
            sample.model_dump_json()
    except Exception as exc:
        report.error(where, f"a sample is not JSON-serialisable: {exc}")
        return False
    try:
        chosen = task.select(list(first), limit, seed)
    except Exception as exc:
        report.error(where, f"select() raised {type(exc).__name__}: {exc}")
        return False
    if len(chosen) > limit or not set(s.id for s in chosen) <= set(ids):
        report.error(where, f"select(limit={limit}) must return at most {limit} of the dataset's samples")
    return True


def check_runs(check: Check, name: str, cls: type[Task[Any]], args: dict[str, Any], subject: ModelSpec) -> None:
    """Two runs with fresh caches agree, and a replay from the first cache calls no model and agrees too."""
    report = check.report
    where = f"task {name} on {subject.id}"
    first = run_task(check, where, name, args, subject, check.judge, cache="a")
    if first is None:
        return
    second = run_task(check, where, name, args, subject, check.judge, cache="b")
    replay = run_task(check, where, name, args, subject, check.judge, cache="a")
    if second is None or replay is None:
        return
    if fingerprint(first) != fingerprint(second):
        report.error(
            where,
            "two runs with the same seed differ: "
            + first_difference(first, second)
            + ". Derive randomness from ctx.rng / ctx.seed and keep no state between samples",
        )
    if replay[0].model_calls:
        report.error(
            where,
            f"re-running from the cache made {replay[0].model_calls} new model call(s): prompts must be "
            "a function of the sample and seed, or pass cache_salt= to tell calls apart",
        )
    elif fingerprint(first) != fingerprint(replay):
        report.error(where, "a run replayed from the cache scores differently: " + first_difference(first, replay))
    result, samples = first
    check_result(check, where, cls, result, samples)


FINGERPRINT_FIELDS = (
    "sample_id",
    "epoch",
    "input",
    "target",
    "answer",
    "output",
    "scores",
    "error",
    "metadata",
    "calls",
)


def fingerprint(run: RunRecords) -> Any:
    """What must not change between two runs of one spec: everything but ids, clocks and cache flags."""
    result, samples = run
    rows = []
    for s in sorted(samples, key=lambda s: s.key):
        calls = [
            (c.role, c.model, [m.model_dump() for m in c.messages], c.config.model_dump(), c.output) for c in s.calls
        ]
        rows.append((s.sample_id, s.epoch, s.input, s.target, s.answer, s.output, s.scores, s.error, s.metadata, calls))
    metrics = [m.model_dump() for m in result.metrics]
    return rows, metrics


def first_difference(a: RunRecords, b: RunRecords) -> str:
    rows_a, metrics_a = fingerprint(a)
    rows_b, metrics_b = fingerprint(b)
    for row_a, row_b in zip(rows_a, rows_b, strict=False):
        for label, x, y in zip(FINGERPRINT_FIELDS, row_a, row_b, strict=True):
            if x != y:
                return f"sample {row_a[0]} epoch {row_a[1]}: {label} {short(x)} vs {short(y)}"
    if len(rows_a) != len(rows_b):
        return f"{len(rows_a)} vs {len(rows_b)} samples"
    return f"metrics {short(metrics_a)} vs {short(metrics_b)}"
