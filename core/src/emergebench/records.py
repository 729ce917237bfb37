"""The pydantic records that flow through a run.

They are the contract between the runner, plugins and the registry, so every record carries
``schema_version`` and changes to them must bump ``SCHEMA_VERSION`` (see docs/architecture.md).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

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


class SampleScore(Record):
    """What a task's ``solve`` returns for one sample."""

    scores: dict[str, float] = Field(default_factory=dict)
    answer: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class SampleResult(Record):
    """One finished (sample, epoch): appended to the run journal as soon as it completes."""

    schema_version: int = SCHEMA_VERSION
    run_id: str
    sample_id: str
    epoch: int = 0
    input: Any = None
    target: Any = None
    answer: str | None = None
    scores: dict[str, float] = Field(default_factory=dict)
    error: str | None = None
    error_type: str | None = None
    calls: list[ModelCall] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime = Field(default_factory=utcnow)

    @property
    def key(self) -> tuple[str, int]:
        return (self.sample_id, self.epoch)


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
