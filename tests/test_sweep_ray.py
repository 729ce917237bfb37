"""`--executor ray` on a real local Ray instance (one per session, 2 CPUs): exact samples for scripted
models x first-party tasks, a worker actor killed mid-sweep (no duplicate, no lost sample), and the
per-endpoint limit on calls in flight holding across workers (observed by the HTTP server itself)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from emergebench.journal import read_result  # noqa: E402
from emergebench.plugins import get_manager, reset_manager  # noqa: E402
from emergebench.sweep.driver import SweepDriver  # noqa: E402
from emergebench.sweep.jobs import WorkerConfig  # noqa: E402
from emergebench.sweep.limits import EndpointLimits  # noqa: E402
from emergebench.sweep.plan import expand, parse_sweep  # noqa: E402
from emergebench.sweep.ray_executor import RayExecutor  # noqa: E402
from emergebench_testing.openai_server import FakeOpenAIServer  # noqa: E402

pytestmark = pytest.mark.slow
MARS = {"data": "sample"}  # the hand-written set shipped with the plugin: no download


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EMERGEBENCH_HOME", str(tmp_path / "home"))
    reset_manager()
    yield tmp_path / "home"
    reset_manager()


def config(home: Path, **kwargs) -> WorkerConfig:
    return WorkerConfig(runs_dir=home / "runs", cache_path=home / "cache.sqlite", **kwargs)


def journal_keys(run_dir: Path) -> list[tuple[str, int]]:
    lines = (run_dir / "journal.jsonl").read_text().splitlines()
    return [(r["sample_id"], r["epoch"]) for r in map(json.loads, filter(str.strip, lines))]


def selected_ids(task_name: str, args: dict, seed: int, limit: int) -> set[str]:
    """The task's own selection, computed here apart from the sweep."""
    task_cls = get_manager().catalog.task(task_name)
    task = task_cls(task_cls.Args(**args))
    return {s.id for s in task.select(list(task.dataset(seed)), limit, seed)}


def assert_exact(home: Path, planned) -> None:
    run_dirs = sorted(p for p in (home / "runs").iterdir() if not p.name.startswith("."))  # .new: staging
    assert len(run_dirs) == len(planned)  # one run per spec
    for run_dir in run_dirs:
        result = read_result(run_dir)
        keys = journal_keys(run_dir)
        assert len(keys) == len(set(keys))  # no duplicate
        expected = selected_ids(result.spec.task, result.spec.task_args, result.spec.seed, result.spec.limit)
        assert {k[0] for k in keys} == expected  # none lost, none extra
        assert (result.status, result.n_samples) == ("complete", len(expected))


def test_scripted_models_x_first_party_tasks_complete_with_exact_samples(local_ray, home):
    sweep = parse_sweep(
        {
            "models": [{"id": "scripted/constant", "args": {"reply": "A"}}, "scripted/random"],
            "tasks": [{"name": "mars/event", "args": MARS}, {"name": "mars/inference", "args": MARS}],
            "seeds": [0, 1],
            "limit": 4,
        },
        "test",
    )
    planned = expand(sweep, get_manager())
    executor = RayExecutor(2, num_cpus=0.5)
    loads: dict[int, int] = {}
    original_stop = executor.stop

    def stop() -> None:  # read the actors' counters before they are killed
        loads.update(executor.model_loads())
        original_stop()

    executor.stop = stop  # type: ignore[method-assign]
    result = SweepDriver(planned, executor, config(home), get_manager(), progress=False).run()
    assert result.ok and [o.status for o in result.outcomes] == ["complete"] * 8
    assert_exact(home, planned)
    # 8 runs of 2 models on 2 workers: each worker loaded each model at most once and reused it
    assert sum(loads.values()) <= 4 and all(n <= 2 for n in loads.values())


class KillingExecutor(RayExecutor):
    """Kills the first busy worker actor once `after` samples have come back, as a crash would."""

    def __init__(self, *args, after: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.after, self.seen, self.killed = after, 0, False

    def events(self, timeout: float):
        out = super().events(timeout)
        self.seen += len(out)
        if not self.killed and self.seen >= self.after and self.busy_workers():
            self.kill_worker(self.busy_workers()[0])
            self.killed = True
        return out


def test_a_worker_killed_mid_sweep_loses_and_duplicates_nothing(local_ray, home):
    sweep = parse_sweep(
        {
            "models": [
                {"id": "scripted/constant", "args": {"reply": "A", "delay_s": 0.1}},
                {"id": "scripted/constant", "args": {"reply": "B", "delay_s": 0.1}},
            ],
            "tasks": [{"name": "mars/event", "args": MARS}],
            "limit": 12,
        },
        "test",
    )
    planned = expand(sweep, get_manager())
    executor = KillingExecutor(2, num_cpus=0.5, after=3)
    result = SweepDriver(planned, executor, config(home, max_concurrency=2), get_manager(), progress=False).run()
    assert executor.killed
    assert result.ok, [(o.status, o.error) for o in result.outcomes]
    assert max(o.attempts for o in result.outcomes) == 2  # the killed run was handed to a new worker
    assert_exact(home, planned)


def test_the_per_endpoint_limit_holds_across_workers(local_ray, home):
    with FakeOpenAIServer(latency_s=0.2) as server:
        args = {"base_url": server.base_url}
        sweep = parse_sweep(
            {
                "models": [{"id": "openai/m1", "args": args}, {"id": "openai/m2", "args": args}],
                "tasks": [{"name": "testtask/qa", "args": {"n": 12}}],
            },
            "test",
        )
        planned = expand(sweep, get_manager())
        executor = RayExecutor(2, num_cpus=0.5)
        cfg = config(home, max_concurrency=6, limits=EndpointLimits(default=3))
        result = SweepDriver(planned, executor, cfg, get_manager(), progress=False).run()
        assert result.ok
        # 2 workers x 6 calls wanted at once, never more than 3 at the server
        assert server.max_in_flight == 3
        assert server.completed == 24


def test_cost_limit_holds_on_ray(local_ray, home, tmp_path):
    """testtask/qa prompts are 10 words = 10 scripted input tokens; at $1 per token a call costs $10."""
    prices = tmp_path / "prices.toml"
    prices.write_text('[models."scripted/*"]\ninput = 1000000\noutput = 0\n')
    sweep = parse_sweep(
        {
            "models": [{"id": "scripted/constant", "args": {"reply": "1"}}],
            "tasks": [{"name": "testtask/qa", "args": {"n": 8}}],
        },
        "test",
    )
    planned = expand(sweep, get_manager())
    cfg = config(home, max_concurrency=1, cost_limit=45.0, prices_file=prices)
    result = SweepDriver(planned, RayExecutor(1, num_cpus=0.5), cfg, get_manager(), progress=False).run()
    assert result.stopped_by == "cost_limit"
    (outcome,) = result.outcomes
    # $0 -> 10 -> 20 -> 30 -> 40; a fifth call would make $50 > $45
    assert (outcome.status, outcome.n_samples, outcome.cost_usd) == ("interrupted", 4, pytest.approx(40.0))
    (run_dir,) = [p for p in (home / "runs").iterdir() if not p.name.startswith(".")]
    assert len(journal_keys(run_dir)) == 4 and read_result(run_dir).stopped_by == "cost_limit"
