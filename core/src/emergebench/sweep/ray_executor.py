"""``--executor ray``: the sweep's runs on a Ray cluster (``--ray-address``) or a local Ray instance.

The driver owns every run folder: it picks the run to resume, opens its journal, sends the worker
actor the samples already done, journals each result the actor streams back, and writes the result
and notifies the registry when the run ends, so resume and ingest work exactly as for local runs and
workers need no shared filesystem. The driver also copies each answer into its own call cache. A
worker that dies mid-run leaves an interrupted run that the driver hands to a new worker, which
continues from the journal.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from ..cache import CallCache
from ..errors import UsageError
from ..journal import RESULT_FILE, SPEC_FILE, Journal, write_json_atomic
from ..plugins import PluginManager, get_manager
from ..records import ModelInfo, ModelOutput, RunResult, RunSpec, SampleResult, utcnow
from ..resume import choose_run
from ..runner import Runner
from .jobs import RunEvent, RunJob, SampleEvent, WorkerConfig, sample_event

WORKER_DIED = "worker process died"


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise UsageError("--executor ray needs Ray: pip install 'emergebench[ray]'") from None
    return ray


class DriverRun:
    """The driver's half of one run on Ray: run folder, journal, result and registry notice."""

    def __init__(self, job: RunJob, config: WorkerConfig, manager: PluginManager, cache: CallCache) -> None:
        self.job = job
        self.spec = RunSpec.model_validate_json(job.spec_json)
        self.runner = Runner(self.spec, config.run_options(job.secrets), manager)
        self.config = config
        self.cache = cache

    def open(self) -> list[tuple[str, int]]:
        """Claim the run folder (resuming an unfinished run of the spec) and say which samples are
        done (a failed sample is not: it is solved again, as a local resume would)."""
        runner, spec = self.runner, self.spec
        self.chosen = choose_run(self.config.runs_dir, spec, resume=False, fresh=False)
        run_id, run_dir = self.chosen.run_id, self.chosen.run_dir
        runner.run_id, self.run_dir = run_id, run_dir
        self.journal = Journal(run_dir)
        self.journal.open()
        if not (run_dir / SPEC_FILE).exists():
            write_json_atomic(run_dir / SPEC_FILE, spec.model_dump_json(indent=2))
        self.task = runner._task()
        samples = self.task.select(list(self.task.dataset(spec.seed)), spec.limit, spec.seed)
        done = runner.open_ledger(self.task, self.journal, run_id, samples).good
        provider, _, name = spec.model.partition("/")
        self.result = RunResult(
            run_id=run_id,
            spec_id=spec.spec_id,
            spec=spec,
            status="running",
            task=self.task.info(),
            model=ModelInfo(id=spec.model, provider=provider, name=name),
            n_expected=len(samples) * spec.epochs,
            started_at=utcnow(),
            pid=os.getpid(),  # the driver writes this run (and holds its claim) while it lives
            provenance=runner.provenance(self.task),
        )
        write_json_atomic(run_dir / RESULT_FILE, self.result.model_dump_json(indent=2))
        return sorted(done)

    def started(self, model: str, grader_model: str | None) -> None:
        self.result.model = ModelInfo.model_validate_json(model)
        if grader_model:
            self.result.grader_model = ModelInfo.model_validate_json(grader_model)

    def sample(self, text: str) -> SampleResult:
        result = SampleResult.model_validate_json(text)
        self.journal.append(result)
        self.runner.record(result)
        for call in result.calls:  # the worker's cache may be on another machine: keep the answers here too
            if not call.cached and call.cache_key and call.output is not None and call.error is None:
                output = ModelOutput(
                    text=call.output, usage=call.usage, finish_reason=call.finish_reason, logprobs=call.logprobs
                )
                self.cache.put(call.cache_key, output)
        return result

    def finish(self, stop_reason: str | None = None, stopped_by: str | None = None) -> RunResult:
        """Write the run's result (``stop_reason`` set: it stopped early) and hand it to the registry."""
        self.journal.close()
        self.runner._stopped_by = stopped_by
        try:
            final = self.runner._finish(self.result, self.task, self.journal, stop_reason is not None, stop_reason)
            self.runner._notify(final, self.run_dir)
        finally:
            self.chosen.claim.release()
        return final


@dataclass
class Busy:
    job: RunJob
    run: DriverRun
    stream: Any


class RayExecutor:
    """Worker actors (one per run at a time), created as needed and reused across runs."""

    name = "ray"

    def __init__(self, workers: int, address: str | None = None, *, num_cpus: float = 1.0) -> None:
        self.capacity = workers
        self.address = address
        self.num_cpus = num_cpus
        self._actors: dict[int, Any] = {}
        self._busy: dict[int, Busy] = {}
        self._next = 0
        self._config: WorkerConfig | None = None
        self._owns_ray = False

    def start(self, config: WorkerConfig) -> None:
        from .ray_actors import BudgetTotal, EndpointSlots, RunWorker

        ray = import_ray()
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if self.address is None:
                kwargs["num_cpus"] = max(1, int(self.capacity * self.num_cpus))
            ray.init(address=self.address, **kwargs)
            self._owns_ray = True
        self._ray = ray
        self._config = config
        self._manager = get_manager()
        self._cache = CallCache(config.cache_path)
        self._worker_cls = ray.remote(RunWorker)
        self.slots = ray.remote(EndpointSlots).remote()
        self.budget = ray.remote(BudgetTotal).remote()

    def charge_prior(self, cost: float) -> None:
        if cost:
            self._ray.get(self.budget.add.remote(cost))

    def idle(self) -> int:
        return self.capacity - len(self._busy)

    def _actor(self) -> int:
        free = [i for i in self._actors if i not in self._busy]
        if free:
            return free[0]
        index = self._next
        self._next += 1
        self._actors[index] = self._worker_cls.options(num_cpus=self.num_cpus, max_concurrency=1000).remote(
            self._config, f"worker-{index}", self.slots, self.budget
        )
        return index

    def submit(self, job: RunJob) -> None:
        assert self._config is not None
        run = DriverRun(job, self._config, self._manager, self._cache)
        done = run.open()
        index = self._actor()
        stream = (
            self._actors[index]
            .run.options(num_returns="streaming")
            .remote(job.spec_json, job.secrets, done, run.runner.run_id)
        )
        self._busy[index] = Busy(job, run, stream)

    def events(self, timeout: float) -> list[SampleEvent | RunEvent]:
        if not self._busy:
            time.sleep(timeout)
            return []
        streams = {id(b.stream): i for i, b in self._busy.items()}
        ready, _ = self._ray.wait([b.stream for b in self._busy.values()], num_returns=1, timeout=timeout)
        out: list[SampleEvent | RunEvent] = []
        for stream in ready:
            index = streams[id(stream)]
            out.extend(self._drain(index))
        return out

    def _drain(self, index: int) -> list[SampleEvent | RunEvent]:
        """Every item the worker has streamed so far, or the run's end."""
        ray, busy = self._ray, self._busy[index]
        out: list[SampleEvent | RunEvent] = []
        while True:
            if busy.stream.is_finished():
                out.append(self._end(index))
                return out
            if not busy.stream.next_ready():
                return out
            try:
                ref = next(busy.stream)
            except StopIteration:  # it finished between the two checks above
                out.append(self._end(index))
                return out
            try:
                item = ray.get(ref)
            except (ray.exceptions.RayActorError, ray.exceptions.ActorDiedError, ray.exceptions.WorkerCrashedError):
                out.append(self._end(index, "its Ray worker was lost", error=f"{WORKER_DIED} (Ray actor lost)"))
                self._lost(index)
                return out
            except ray.exceptions.RayTaskError as exc:
                cause = exc.cause if isinstance(getattr(exc, "cause", None), Exception) else exc
                message = str(cause) if isinstance(cause, UsageError) else f"{type(cause).__name__}: {cause}"
                out.append(self._end(index, message, error=message))
                return out
            if item["kind"] == "start":
                busy.run.started(item["model"], item["grader_model"])
            elif item["kind"] == "sample":
                out.append(sample_event(busy.job.job_id, busy.run.sample(item["result"])))
            elif item["kind"] == "stopped":
                out.append(self._end(index, "the --cost-limit spending budget was reached", stopped_by=item["by"]))
                return out

    def _end(
        self, index: int, stop_reason: str | None = None, *, error: str | None = None, stopped_by: str | None = None
    ) -> RunEvent:
        busy = self._busy.pop(index)
        final = busy.run.finish(stop_reason, stopped_by)
        if error is not None:
            return RunEvent(busy.job.job_id, error=error)
        return RunEvent(busy.job.job_id, result_json=final.model_dump_json())

    def _lost(self, index: int) -> None:
        self._actors.pop(index, None)
        self.slots.release_holder.remote(f"worker-{index}")

    def kill_worker(self, index: int) -> None:
        """Fault injection for tests: kill a worker actor as a crash would."""
        self._ray.kill(self._actors[index], no_restart=True)

    def busy_workers(self) -> list[int]:
        return list(self._busy)

    def model_loads(self) -> dict[int, int]:
        return {i: self._ray.get(a.loads.remote()) for i, a in self._actors.items()}

    def endpoint_peaks(self) -> dict[str, int]:
        peaks: dict[str, int] = self._ray.get(self.slots.peaks.remote())
        return peaks

    def stop(self) -> None:
        for index in list(self._busy):
            self._end(index, "the sweep was stopped")
        for actor in self._actors.values():
            self._ray.kill(actor)
        self._actors.clear()
        self._cache.close()
        if self._owns_ray:
            self._ray.shutdown()
