"""What runs inside Ray: a worker actor that solves a run's samples and streams them back, a slots
actor for the per-endpoint limit, and a budget actor for ``--cost-limit``.

A worker needs no shared filesystem: it gets the spec and the samples already done, and sends every
finished SampleResult back to the driver, which journals it. It keeps the models it loaded (a GGUF
model in llama.cpp takes seconds and gigabytes) for the next runs that use them.
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from ..budget import Budget, CostLimitReached
from ..cache import CallCache
from ..context import RunServices
from ..model import Model
from ..pricing import load_prices
from ..records import RunSpec, canonical_json
from ..runner import Runner, resolve_model
from .jobs import WorkerConfig
from .limits import EndpointLimits


class EndpointSlots:
    """Async actor: ``acquire`` waits for one of ``limit`` slots of an endpoint; ``release_holder``
    frees what a dead worker held."""

    def __init__(self) -> None:
        self.held: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.condition: asyncio.Condition | None = None
        self.peak: dict[str, int] = defaultdict(int)

    def _cond(self) -> asyncio.Condition:
        if self.condition is None:
            self.condition = asyncio.Condition()
        return self.condition

    def _in_use(self, key: str) -> int:
        return sum(self.held[key].values())

    async def acquire(self, key: str, limit: int, holder: str) -> None:
        cond = self._cond()
        async with cond:
            await cond.wait_for(lambda: self._in_use(key) < limit)
            self.held[key][holder] += 1
            self.peak[key] = max(self.peak[key], self._in_use(key))

    async def release(self, key: str, holder: str) -> None:
        cond = self._cond()
        async with cond:
            if self.held[key][holder] > 0:
                self.held[key][holder] -= 1
            cond.notify_all()

    async def release_holder(self, holder: str) -> None:
        cond = self._cond()
        async with cond:
            for per_holder in self.held.values():
                per_holder.pop(holder, None)
            cond.notify_all()

    async def peaks(self) -> dict[str, int]:
        return dict(self.peak)


class BudgetTotal:
    """Actor: the sweep's running total of dollars spent."""

    def __init__(self) -> None:
        self.total = 0.0

    def add(self, cost: float) -> float:
        self.total += cost
        return self.total

    def get(self) -> float:
        return self.total


class RaySlotLimiter:
    """The worker's side of :class:`EndpointSlots` (the same ``slot`` interface as FileSlotLimiter)."""

    def __init__(self, actor: Any, limits: EndpointLimits, holder: str) -> None:
        self.actor, self.limits, self.holder = actor, limits, holder

    @asynccontextmanager
    async def slot(self, key: str) -> AsyncIterator[None]:
        limit = self.limits.limit_for(key)
        if limit is None:
            yield
            return
        await self.actor.acquire.remote(key, limit, self.holder)
        try:
            yield
        finally:
            self.actor.release.remote(key, self.holder)


class RayBudget(Budget):
    """A budget whose total lives in a :class:`BudgetTotal` actor. Charges are sent without waiting;
    ``spent`` is the last total the actor reported plus this worker's charges not yet confirmed."""

    def __init__(self, limit: float, actor: Any) -> None:
        super().__init__(limit)
        self.actor = actor
        self._known = 0.0
        self._unconfirmed = 0.0
        self._sync = threading.Lock()

    @property
    def spent(self) -> float:
        with self._sync:
            return self._known + self._unconfirmed

    def refresh(self, total: float) -> None:
        with self._sync:
            self._known = max(self._known, total)

    def _add(self, cost: float) -> None:
        with self._sync:
            self._unconfirmed += cost

        def confirmed(future: Any) -> None:
            with self._sync:
                self._unconfirmed -= cost
                if future.exception() is None:
                    self._known = max(self._known, future.result())

        self.actor.add.remote(cost).future().add_done_callback(confirmed)


class RunWorker:
    """Async actor: solves the samples of one run at a time and streams each result back."""

    def __init__(self, config: WorkerConfig, holder: str, slots: Any, budget: Any) -> None:
        from ..plugins import get_manager

        self.config = config
        self.holder = holder
        self.manager = get_manager()
        self.models: dict[str, Model] = {}
        self.model_loads = 0
        self.cache = CallCache(config.cache_path)
        self.prices = load_prices(config.prices_file)
        self.limiter = RaySlotLimiter(slots, config.limits, holder) if config.limits.active else None
        self.budget = RayBudget(config.cost_limit, budget) if config.cost_limit is not None else None
        self.budget_actor = budget

    def _model(self, model_id: str, options: dict[str, Any]) -> Model:
        key = canonical_json([model_id, options])
        if key not in self.models:
            self.models[key] = resolve_model(self.manager, model_id, options)
            self.model_loads += 1
        return self.models[key]

    def loads(self) -> int:
        return self.model_loads

    async def run(
        self, spec_json: str, secrets: dict[str, dict[str, Any]], done: list[tuple[str, int]], run_id: str
    ) -> AsyncIterator[dict[str, Any]]:
        spec = RunSpec.model_validate_json(spec_json)
        runner = Runner(spec, self.config.run_options(secrets), self.manager)
        runner.run_id = run_id
        task, grader = runner._task(), runner._grader()
        subject = self._model(spec.model, {**spec.model_args, **secrets.get(spec.model, {})})
        judge = (
            self._model(spec.grader_model, {**spec.grader_model_args, **secrets.get(spec.grader_model, {})})
            if spec.grader_model
            else None
        )
        yield {
            "kind": "start",
            "model": subject.info.model_dump_json(),
            "grader_model": judge.info.model_dump_json() if judge else None,
        }
        if self.budget is not None:
            self.budget.refresh(await self.budget_actor.get.remote())
        finished = {tuple(key) for key in done}
        samples = task.select(list(task.dataset(spec.seed)), spec.limit, spec.seed)
        jobs = iter([(s, e) for e in range(spec.epochs) for s in samples if (s.id, e) not in finished])
        services = RunServices(
            cache=self.cache,
            read_cache=self.config.use_cache,
            call_slots=asyncio.Semaphore(self.config.max_concurrency),
            retry=self.config.retry,
            model_resolver=self._model,
            endpoint_limiter=self.limiter,
            budget=self.budget,
            prices=self.prices,
        )
        results: asyncio.Queue[Any] = asyncio.Queue()

        async def work() -> None:
            for sample, epoch in jobs:
                await results.put(await runner._solve_one(task, sample, epoch, grader, subject, judge, services))

        async def all_work() -> None:
            workers = [asyncio.ensure_future(work()) for _ in range(self.config.max_concurrency)]
            try:
                await asyncio.gather(*workers)
                await results.put(None)
            except CostLimitReached:
                await results.put("cost_limit")
            finally:
                for w in workers:
                    w.cancel()

        driver = asyncio.ensure_future(all_work())
        try:
            while (item := await results.get()) is not None:
                if item == "cost_limit":
                    yield {"kind": "stopped", "by": "cost_limit"}
                    return
                yield {"kind": "sample", "result": item.model_dump_json()}
        finally:
            driver.cancel()
