"""The pydantic records that flow through a run.

They are the contract between the runner, plugins and the registry, so every record carries
``schema_version`` and changes to them must bump ``SCHEMA_VERSION`` (see docs/architecture.md).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# 2: a sample's stored output (``output``) is kept apart from its scores, and a run may be the re-scoring of
# another (``RunSpec.source_run``). Version 1 records read as version 2 with no stored output.
SCHEMA_VERSION = 2

Role = Literal["system", "user", "assistant"]
RunStatus = Literal["running", "complete", "partial", "interrupted", "failed"]


def utcnow() -> datetime:
    return datetime.now(UTC)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the input of every identity hash."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def content_hash(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Message(Record):
    role: Role
    content: str


class GenerateConfig(Record):
    """Decoding settings. ``None`` means "the provider's default"; only set fields are hashed."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: list[str] | None = None
    seed: int | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    response_format: dict[str, Any] | None = Field(
        default=None, description="OpenAI-style response_format, e.g. a JSON schema"
    )

    def merged(self, *overrides: GenerateConfig | None) -> GenerateConfig:
        """Later configs win field by field, but only for the fields they set."""
        data = self.model_dump(exclude_none=True)
        for override in overrides:
            if override is not None:
                data.update(override.model_dump(exclude_none=True))
        return GenerateConfig(**data)


class Usage(Record):
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class TokenLogprob(Record):
    token: str
    logprob: float
    top: dict[str, float] | None = None


class ModelOutput(Record):
    """What a provider returns for one chat call."""

    text: str
    usage: Usage = Field(default_factory=Usage)
    finish_reason: str | None = None
    logprobs: list[TokenLogprob] | None = None
    batched: bool | None = Field(default=None, description="answered through a provider's batch API (its prices)")


class ModelInfo(Record):
    """Who answered: pooled results are compared across providers, families and sizes."""

    id: str
    provider: str
    name: str
    family: str | None = None
    parameters: int | None = Field(default=None, description="parameter count, where known")
    quantization: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)


class ModelCall(Record):
    """One model call as it happened (or as it was replayed from the cache)."""

    model: str
    role: str = Field(default="subject", description="subject, grader, or a task-specific role")
    messages: list[Message]
    config: GenerateConfig = Field(default_factory=GenerateConfig)
    output: str | None = None
    usage: Usage = Field(default_factory=Usage)
    logprobs: list[TokenLogprob] | None = None
    finish_reason: str | None = None
    latency_s: float = 0.0
    cached: bool = False
    attempts: int = 1
    error: str | None = None
    cache_key: str | None = None
    salt: str | None = Field(default=None, description="the task's cache_salt: tells deliberate repeats apart")
    started_at: datetime = Field(default_factory=utcnow)
    cost_usd: float | None = Field(
        default=None, description="US dollars paid for this call; None when unpriced or replayed from the cache"
    )


class Sample(Record):
    """One item of a task's dataset. ``input`` and ``target`` are task-defined."""

    id: str
    input: Any = None
    target: Any = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class SampleOutput(Record):
    """What a task's ``solve`` produced for one sample, before any scoring.

    ``answer`` is the model's final answer (what a generic grader reads); ``data`` is whatever else the
    task needs to score it later without calling the subject model again: a transcript, parsed actions,
    a simulation trace. It is journaled as it is, so it must be JSON-serialisable.
    """

    answer: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class SampleScore(Record):
    """What a task's ``score`` returns for one sample: score values and the details behind them.

    (A ``solve`` that still returns a SampleScore scores in place: its run works but cannot be re-scored.)
    """

    scores: dict[str, float] = Field(default_factory=dict)
    answer: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


ErrorPhase = Literal["solve", "score"]


def upgrade_record(data: Any, kind: str) -> Any:
    """Migrate a record's raw dict to ``SCHEMA_VERSION`` (called before validation).

    Version 1 differs only by what is missing (no stored ``output``, no ``source_run``), so it reads
    as version 2 unchanged; a version newer than this core knows is refused with a clear message.
    """
    if not isinstance(data, dict):
        return data
    version = data.get("schema_version", 1)
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise ValueError(
            f"{kind} has schema_version {version}, newer than this emergebench-core understands "
            f"({SCHEMA_VERSION}): upgrade emergebench-core"
        )
    if version != SCHEMA_VERSION:
        data = {**data, "schema_version": SCHEMA_VERSION}
    return data


class SampleResult(Record):
    """One finished (sample, epoch): appended to the run journal as soon as it completes.

    The output (``answer`` and ``output``) and the scores (``scores`` and their details in
    ``metadata``) are separate: ``emergebench score`` re-scores the stored output without calling the
    subject model. ``output`` is None when nothing was stored apart from the scores (a version 1
    record, or a task whose ``solve`` still scores in place). ``calls`` are the calls this record made:
    solve and scoring calls in a run, scoring calls only in a re-scoring run.
    """

    schema_version: int = SCHEMA_VERSION
    run_id: str
    sample_id: str
    epoch: int = 0
    input: Any = None
    target: Any = None
    answer: str | None = None
    output: dict[str, Any] | None = None
    scores: dict[str, float] = Field(default_factory=dict)
    error: str | None = None
    error_type: str | None = None
    error_phase: ErrorPhase | None = Field(default=None, description="solve or score: where the error happened")
    calls: list[ModelCall] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict, description="the scoring's details")
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime = Field(default_factory=utcnow)

    @model_validator(mode="before")
    @classmethod
    def upgrade_schema(cls, data: Any) -> Any:
        return upgrade_record(data, "sample result")

    @property
    def key(self) -> tuple[str, int]:
        return (self.sample_id, self.epoch)

    @property
    def stored_output(self) -> SampleOutput | None:
        """The output as ``score`` receives it, or None when the record keeps none."""
        return None if self.output is None else SampleOutput(answer=self.answer, data=self.output)


class Metric(Record):
    name: str
    value: float | None
    stderr: float | None = None
    n: int = 0
    ci_low: float | None = None
    ci_high: float | None = None
    group: str | None = Field(default=None, description="a breakdown label, e.g. 'k=3'")


class TaskInfo(Record):
    name: str
    version: str
    description: str = ""
    plugin: str | None = None
    main_metric: str | None = None
    lower_is_better: list[str] = Field(
        default_factory=list, description="metric names where a smaller value is better (ranked ascending)"
    )
    args_schema: dict[str, Any] = Field(default_factory=dict)


class RunSpec(Record):
    """Everything that decides what a run computes; ``spec_id`` hashes exactly these fields.

    Concurrency, retries, cache use and transport options are deliberately absent: they change how
    fast a run goes, never what it computes.
    """

    task: str
    task_version: str
    task_args: dict[str, Any] = Field(default_factory=dict)
    model: str
    model_args: dict[str, Any] = Field(default_factory=dict)
    generate: GenerateConfig = Field(default_factory=GenerateConfig)
    grader: str | None = None
    grader_args: dict[str, Any] = Field(default_factory=dict)
    grader_model: str | None = None
    grader_model_args: dict[str, Any] = Field(default_factory=dict)
    seed: int = 0
    limit: int | None = None
    epochs: int = 1
    until_pass: int | None = Field(
        default=None, description="PassUntil: re-sample each sample until it passes, at most this many attempts"
    )
    source_run: str | None = Field(
        default=None, description="set on a re-scoring run: the run whose stored outputs it scored"
    )

    @property
    def spec_id(self) -> str:
        return content_hash(self.model_dump(mode="json", exclude_none=True))[:16]


class Provenance(Record):
    emergebench_version: str
    plugin_versions: dict[str, str] = Field(default_factory=dict)
    python: str
    platform: str
    contributor: str | None = None
    hostname_hash: str | None = None


class RunResult(Record):
    """The summary written when a run ends (or is interrupted)."""

    schema_version: int = SCHEMA_VERSION
    run_id: str
    spec_id: str
    spec: RunSpec
    status: RunStatus
    task: TaskInfo
    model: ModelInfo
    grader_model: ModelInfo | None = None
    metrics: list[Metric] = Field(default_factory=list)
    n_samples: int = 0
    n_expected: int = 0
    n_errors: int = 0
    errors: dict[str, int] = Field(default_factory=dict, description="error type -> count")
    model_calls: int = 0
    cached_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = Field(default=None, description="sum of the priced calls made (cache hits cost 0)")
    stopped_by: str | None = Field(default=None, description="'cost_limit' when --cost-limit stopped the run")
    started_at: datetime
    finished_at: datetime | None = None
    pid: int | None = Field(
        default=None,
        description="process that wrote the run; with provenance.hostname_hash "
        "it tells a killed run (pid gone) from one still running",
    )
    provenance: Provenance
    stop_reason: str | None = Field(default=None, description="why an interrupted run stopped, in words")
    warnings: list[str] = Field(
        default_factory=list, description="problems met outside the samples (cache set aside, damaged journal lines)"
    )

    @model_validator(mode="before")
    @classmethod
    def upgrade_schema(cls, data: Any) -> Any:
        return upgrade_record(data, "run result")
