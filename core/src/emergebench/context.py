"""What a task's ``solve`` sees: the sample, seeded randomness, and model handles that cache,
retry and record every call."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import hashlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt

from .cache import CallCache
from .errors import UsageError
from .grader import Grader
from .model import Model, ModelError, TransientModelError
from .records import GenerateConfig, Message, ModelCall, ModelOutput, Sample, content_hash, utcnow
from .retry import RetryPolicy
from .sweep.limits import endpoint_key

current_context: contextvars.ContextVar[SolveContext | None] = contextvars.ContextVar(
    "emergebench_current_context", default=None
)


@dataclass
class CallStats:
    calls: int = 0
    cached: int = 0
    attempts: int = 0
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass
class RunServices:
    """Shared by every call of a run: cache, call concurrency bound, retry policy, counters."""

    cache: CallCache | None
    read_cache: bool
    call_slots: asyncio.Semaphore
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    stats: CallStats = field(default_factory=CallStats)
    model_resolver: Callable[[str, dict[str, Any]], Model] | None = None
    # Sweeps: a limit on calls in flight per endpoint shared with other processes (emergebench.sweep.limits),
    # a spending limit (emergebench.budget) and the price table that turns usage into cost (emergebench.pricing).
    endpoint_limiter: Any = None
    budget: Any = None
    prices: Any = None
    # Whether the last call took at least SLOW_ANSWER_S: how the next calls wait (``ModelHandle._timed``).
    answers_slowly: bool = False


# The answer time from which a call waits in its sample's own task (see ``ModelHandle._timed``).
SLOW_ANSWER_S = 0.1


def sample_seed(run_seed: int, sample_id: str, epoch: int) -> int:
    digest = hashlib.sha256(f"{run_seed}:{sample_id}:{epoch}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


class ModelHandle:
    """A model as a task uses it. Every call is cached by content, retried when transient, and
    appended to the sample's call records (cache hits too, marked ``cached``)."""

    def __init__(
        self,
        model: Model,
        *,
        role: str,
        services: RunServices,
        records: list[ModelCall],
        run_seed: int,
        epoch: int,
        override: GenerateConfig | None = None,
        base: GenerateConfig | None = None,
        attempt: int = 0,
    ) -> None:
        self.model = model
        self.attempt = attempt  # PassUntil's re-sampling: attempts after the first are cached apart
        self.base = base or GenerateConfig()
        self.role = role
        self.services = services
        self.records = records
        self.run_seed = run_seed
        self.epoch = epoch
        self.override = override

    @property
    def id(self) -> str:
        return self.model.model_id

    @property
    def supports_logprobs(self) -> bool:
        return self.model.supports_logprobs

    @property
    def supports_json_schema(self) -> bool:
        return self.model.supports_json_schema

    def cache_key(self, messages: list[Message], config: GenerateConfig, salt: str | None) -> str:
        identity = {
            "model": self.model.identity(),
            "messages": [m.model_dump() for m in messages],
            "config": config.model_dump(exclude_none=True),
            "seed": self.run_seed,
            "epoch": self.epoch,
            "salt": salt,
        }
        if self.attempt:  # only re-sampling attempts add a key, so every earlier cache entry still hits
            identity["attempt"] = self.attempt
        return content_hash(identity)

    async def generate(
        self,
        messages: list[Message] | str,
        config: GenerateConfig | None = None,
        *,
        cache_salt: str | None = None,
        role: str | None = None,
    ) -> ModelOutput:
        """Call the model. ``cache_salt`` tells apart calls that are meant to differ even with the
        same messages (e.g. the 2nd of 3 generation rounds)."""
        if isinstance(messages, str):
            messages = [Message(role="user", content=messages)]
        final = self.base.merged(config, self.override)
        key = self.cache_key(messages, final, cache_salt)
        # The call's record is made once, complete, when the call ends: setting its fields one by one
        # went through pydantic's __setattr__ eight times per call.
        call: dict[str, Any] = {
            "model": self.model.model_id,
            "role": role or self.role,
            "messages": messages,
            "config": final,
            "cache_key": key,
            "salt": cache_salt,
            "started_at": utcnow(),
        }
        stats = self.services.stats
        cache = self.services.cache
        if cache is not None and self.services.read_cache:
            hit = cache.get(key)
            if hit is not None:
                stats.cached += 1
                self._finish(call, hit, cached=True, latency=0.0, attempts=0)
                return hit
        budget = self.services.budget
        if budget is not None:
            budget.before_call(self.model.model_id)  # raises CostLimitReached: the run stops, resumable
        started = time.perf_counter()
        counter = [0]
        try:
            output = await self._call_with_retries(messages, final, counter)
        except ModelError as exc:
            self.records.append(
                ModelCall(
                    **call,
                    error=f"{type(exc).__name__}: {exc}",
                    attempts=counter[0],
                    latency_s=time.perf_counter() - started,
                )
            )
            raise
        stats.calls += 1
        if cache is not None:
            cache.put(key, output)
        self._finish(call, output, cached=False, latency=time.perf_counter() - started, attempts=counter[0])
        return output

    async def _call_with_retries(
        self, messages: list[Message], config: GenerateConfig, counter: list[int]
    ) -> ModelOutput:
        """First attempt on a fast path; tenacity takes over only once a transient error happened
        (its bookkeeping was a sixth of the client's CPU per call on the HTTP benchmark)."""
        policy = self.services.retry
        counter[0] += 1
        self.services.stats.attempts += 1
        try:
            return await self._attempt(messages, config)
        except TransientModelError as exc:
            if policy.max_attempts <= 1:
                raise
            await asyncio.sleep(policy.first_wait(exc))
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(TransientModelError),
            wait=policy.wait(),
            stop=stop_after_attempt(policy.max_attempts - 1),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                counter[0] += 1
                self.services.stats.attempts += 1
                output = await self._attempt(messages, config)
        return output

    async def _attempt(self, messages: list[Message], config: GenerateConfig) -> ModelOutput:
        timeout = self.services.retry.timeout_s
        async with self.services.call_slots:
            limiter = self.services.endpoint_limiter
            if limiter is None:
                return await self._timed(messages, config, timeout)
            async with limiter.slot(endpoint_key(self.model)):
                return await self._timed(messages, config, timeout)

    async def _timed(self, messages: list[Message], config: GenerateConfig, timeout: float | None) -> ModelOutput:
        """The call under its timeout, waited for in one of two ways, chosen by how fast answers come.

        Slow answers (a remote API: the event loop is mostly idle): in the sample's own task
        (``asyncio.timeout``), so the sample's next request goes out as soon as its answer is handled;
        with ``wait_for``'s task per call a burst of 64 answers was handled whole first, ~1.5 ms per
        round at 64 in flight (issue #18: +0.3-0.4 points of the ideal throughput at 200 ms). Fast
        answers (a local server; the client itself is the bottleneck): in a task of its own
        (``wait_for``), whose two extra loop turns per call let answers be handled in bursts, with
        ~15-20% less CPU per call than one at a time (docs/benchmarks.md).
        """
        services = self.services
        started = time.perf_counter()
        try:
            if services.answers_slowly:
                async with asyncio.timeout(timeout):
                    output = await self.model.generate(messages, config)
            else:
                output = await asyncio.wait_for(self.model.generate(messages, config), timeout)
        except TimeoutError as exc:
            services.answers_slowly = True
            raise TransientModelError(f"no answer within {timeout} s (timeout)") from exc
        services.answers_slowly = time.perf_counter() - started >= SLOW_ANSWER_S
        return output

    def _finish(
        self, call: dict[str, Any], output: ModelOutput, *, cached: bool, latency: float, attempts: int
    ) -> None:
        cost = None
        if not cached and self.services.prices is not None:
            cost = self.services.prices.cost(self.model.model_id, output.usage, batch=output.batched)
            if self.services.budget is not None and cost is not None:
                self.services.budget.charge(self.model.model_id, cost)
        self.services.stats.input_tokens += output.usage.input_tokens
        self.services.stats.output_tokens += output.usage.output_tokens
        self.records.append(
            ModelCall(
                **call,
                output=output.text,
                usage=output.usage,
                logprobs=output.logprobs,
                finish_reason=output.finish_reason,
                cached=cached,
                latency_s=latency,
                attempts=attempts,
                cost_usd=cost,
            )
        )


class BaseContext:
    """What both phases of a sample see: the sample, seeded randomness, the grader and judge model,
    and the list every call is recorded in."""

    phase: str = "solve"
    rng_salt: str = ""  # the scoring phase draws from its own stream of the sample's seed

    def __init__(
        self,
        *,
        sample: Sample,
        epoch: int,
        run_seed: int,
        services: RunServices,
        grader_model: Model | None,
        grader: Grader[Any] | None,
        attempt: int = 0,
    ) -> None:
        self.sample = sample
        self.epoch = epoch
        self.run_seed = run_seed
        self.attempt = attempt  # > 0 only for PassUntil's re-sampling of the same (sample, epoch)
        self.seed = sample_seed(run_seed, sample.id if not attempt else f"{sample.id}#attempt={attempt}", epoch)
        self.services = services
        self.calls: list[ModelCall] = []
        self.grader = grader
        self.grader_model = self._handle(grader_model, "grader", None) if grader_model else None
        self._extra: dict[tuple[str, str], ModelHandle] = {}

    @functools.cached_property
    def rng(self) -> random.Random:
        """The sample's seeded randomness, made on first use: most samples never draw, and seeding a
        Random per sample was ~2% of a run's CPU at zero latency."""
        return random.Random(f"{self.rng_salt}{self.seed}" if self.rng_salt else self.seed)

    def _handle(
        self, model: Model, role: str, override: GenerateConfig | None, base: GenerateConfig | None = None
    ) -> ModelHandle:
        return ModelHandle(
            model,
            role=role,
            services=self.services,
            records=self.calls,
            run_seed=self.run_seed,
            epoch=self.epoch,
            override=override,
            base=base,
            attempt=self.attempt,
        )

    def grader_model_or_fail(self) -> ModelHandle:
        if self.grader_model is None:
            raise UsageError("this task is model-graded: choose a judge with --grader-model MODEL")
        return self.grader_model

    def get_model(self, model_id: str, role: str, **options: Any) -> ModelHandle:
        """Another model for a task-specific role (e.g. BoxingGym's novice), recorded like the rest."""
        key = (model_id, role)
        if key not in self._extra:
            if self.services.model_resolver is None:
                raise UsageError("no model resolver is configured for this run")
            model = self.services.model_resolver(model_id, options)
            self._extra[key] = self._handle(model, role, None)
        return self._extra[key]


class SolveContext(BaseContext):
    """Per (sample, epoch) while ``solve`` runs: adds the subject model (``model``) and a scratch ``state``."""

    def __init__(
        self,
        *,
        sample: Sample,
        epoch: int,
        run_seed: int,
        services: RunServices,
        subject: Model,
        grader_model: Model | None,
        grader: Grader[Any] | None,
        override: GenerateConfig | None,
        task_config: GenerateConfig | None = None,
        attempt: int = 0,
    ) -> None:
        super().__init__(
            sample=sample,
            epoch=epoch,
            run_seed=run_seed,
            services=services,
            grader_model=grader_model,
            grader=grader,
            attempt=attempt,
        )
        self.task_config = task_config
        self.state: dict[str, Any] = {}
        self.model = self._handle(subject, "subject", override, task_config)

    def with_model(self, handle: ModelHandle, role: str) -> ModelHandle:
        """The same model under another role name (e.g. 'novice' played by the subject)."""
        return self._handle(handle.model, role, handle.override, handle.base)


class ScoreContext(BaseContext):
    """Per (sample, epoch) while ``score`` runs, live or re-scoring a stored run.

    There is deliberately no subject model here: scoring reads the stored output, so re-scoring never
    calls the model under test. Judge calls (``grader_model``) are cached under the same keys as in the
    original run, so re-scoring with an unchanged judge costs nothing. ``rng`` is seeded from the
    sample (apart from the solve phase's), so scoring that draws randomness re-scores identically.
    """

    phase = "score"
    rng_salt = "score:"
