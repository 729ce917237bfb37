"""Sweep pieces on their own: plan expansion, the cross-process endpoint limit, prices, budgets."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from pathlib import Path

import pytest
from emergebench.budget import Budget, CostLimitReached
from emergebench.errors import UsageError
from emergebench.pricing import PriceTable, load_prices, parse_prices
from emergebench.records import Usage
from emergebench.sweep.limits import EndpointLimits, FileSlotLimiter
from emergebench.sweep.plan import grid_points, parse_sweep, read_sweep_file


def test_grid_points_cross_every_value_in_order():
    assert grid_points({"k": [1, 2], "mode": ["a", "b", "c"]}) == [
        {"k": 1, "mode": "a"},
        {"k": 1, "mode": "b"},
        {"k": 1, "mode": "c"},
        {"k": 2, "mode": "a"},
        {"k": 2, "mode": "b"},
        {"k": 2, "mode": "c"},
    ]
    assert grid_points({}) == [{}]


def test_toml_and_yaml_sweep_files_read_the_same(tmp_path: Path):
    toml = tmp_path / "s.toml"
    toml.write_text(
        'models = ["scripted/constant", { id = "scripted/cycle", args = { replies = ["1", "2"] } }]\n'
        'seeds = [0, 1]\nlimit = 5\n[[tasks]]\nname = "t/a"\ngrid = { k = [1, 2] }\n'
    )
    yaml = tmp_path / "s.yaml"
    yaml.write_text(
        "models:\n  - scripted/constant\n  - id: scripted/cycle\n    args: {replies: ['1', '2']}\n"
        "seeds: [0, 1]\nlimit: 5\ntasks:\n  - name: t/a\n    grid: {k: [1, 2]}\n"
    )
    assert read_sweep_file(toml) == read_sweep_file(yaml)


@pytest.mark.parametrize(
    "data, needle",
    [
        ({"tasks": ["t"]}, "models"),
        ({"models": [], "tasks": ["t"]}, "models"),
        ({"models": ["m"], "tasks": [{"name": "t", "grid": {"k": []}}]}, "no values"),
        ({"models": ["m"], "tasks": ["t"], "limit": 0}, "limit"),
        ({"models": ["m"], "tasks": ["t"], "colour": "red"}, "colour"),
    ],
)
def test_invalid_sweeps_name_the_key(data, needle):
    with pytest.raises(UsageError, match=needle):
        parse_sweep(data, "test")


def test_expand_is_models_x_tasks_x_grid_x_seeds_and_collapses_duplicates(manager):
    from emergebench.sweep.plan import expand

    sweep = parse_sweep(
        {
            "models": ["scripted/constant", {"id": "scripted/constant", "args": {"reply": "7"}}],
            "tasks": [{"name": "core-test/add", "grid": {"n": [3, 4]}}, "core-test/add"],
            "seeds": [0, 1],
        },
        "test",
    )
    planned = expand(sweep, manager)
    # 2 models x (2 grid points + the default n, which differs from 3 and 4) x 2 seeds
    default_n = manager.catalog.task("core-test/add").Args().n
    assert default_n not in (3, 4)
    assert len(planned) == 2 * 3 * 2
    assert len({p.spec.spec_id for p in planned}) == len(planned)
    twice = parse_sweep({"models": ["scripted/constant"] * 2, "tasks": ["core-test/add"]}, "test")
    assert len(expand(twice, manager)) == 1


def _hold_slots(directory: str, n_calls: int, hold_s: float, peak, current, lock) -> None:
    limiter = FileSlotLimiter(Path(directory), EndpointLimits(default=3))

    async def call() -> None:
        async with limiter.slot("http://127.0.0.1:9/v1"):
            with lock:
                current.value += 1
                peak.value = max(peak.value, current.value)
            await asyncio.sleep(hold_s)
            with lock:
                current.value -= 1

    async def main() -> None:
        await asyncio.gather(*(call() for _ in range(n_calls)))

    asyncio.run(main())


def test_file_slots_bound_calls_in_flight_across_processes(tmp_path: Path):
    ctx = multiprocessing.get_context("spawn")
    peak, current, lock = ctx.Value("i", 0), ctx.Value("i", 0), ctx.Lock()
    workers = [ctx.Process(target=_hold_slots, args=(str(tmp_path), 6, 0.05, peak, current, lock)) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
        assert w.exitcode == 0
    assert peak.value == 3  # 18 calls wanting to overlap, never more than the limit at once


def test_a_killed_holder_frees_its_slot(tmp_path: Path):
    ctx = multiprocessing.get_context("spawn")
    peak, current, lock = ctx.Value("i", 0), ctx.Value("i", 0), ctx.Lock()
    holder = ctx.Process(target=_hold_slots, args=(str(tmp_path), 3, 3600, peak, current, lock))
    holder.start()
    deadline = time.monotonic() + 60
    while current.value < 3:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    holder.kill()
    holder.join()
    limiter = FileSlotLimiter(tmp_path, EndpointLimits(default=3))

    async def take_all() -> None:
        async with limiter.slot("http://127.0.0.1:9/v1"):
            async with limiter.slot("http://127.0.0.1:9/v1"):
                async with limiter.slot("http://127.0.0.1:9/v1"):
                    pass

    asyncio.run(asyncio.wait_for(take_all(), 10))


def test_endpoint_limits_per_endpoint_and_default():
    limits = EndpointLimits(default=8, per_endpoint={"http://h:1/v1/": 2})
    assert limits.limit_for("http://h:1/v1") == 2
    assert limits.limit_for("http://other/v1") == 8
    assert EndpointLimits().limit_for("x") is None
    with pytest.raises(ValueError):
        EndpointLimits(default=0)


def test_prices_exact_snapshot_glob_and_batch():
    table = PriceTable(
        parse_prices(
            '[models."openai/gpt-4o"]\ninput = 2.5\noutput = 10\nbatch_input = 1.25\nbatch_output = 5\n'
            '[models."local/*"]\ninput = 1\noutput = 1\n[models."local/big*"]\ninput = 3\noutput = 3\n',
            "test",
        )
    )
    usage = Usage(input_tokens=1_000, output_tokens=500)
    # hand-worked: (1000 * 2.5 + 500 * 10) / 1e6
    assert table.cost("openai/gpt-4o", usage) == pytest.approx(0.0075)
    assert table.cost("openai/gpt-4o-2024-08-06", usage) == pytest.approx(0.0075)
    assert table.cost("openai/gpt-4o", usage, batch=True) == pytest.approx(0.00375)
    assert table.cost("local/big-9b", usage) == pytest.approx(0.0045)  # the longer pattern wins
    assert table.cost("local/small", usage) == pytest.approx(0.0015)
    assert table.cost("unknown/model", usage) is None


def test_user_price_file_overrides_the_shipped_table(tmp_path: Path, monkeypatch, eb_home):
    monkeypatch.delenv("EMERGEBENCH_PRICES", raising=False)
    shipped = load_prices()
    assert shipped.price("openai/gpt-4o-mini").input == pytest.approx(0.15)
    user = tmp_path / "prices.toml"
    user.write_text('[models."openai/gpt-4o-mini"]\ninput = 0\noutput = 0\n')
    monkeypatch.setenv("EMERGEBENCH_PRICES", str(user))
    assert load_prices().cost("openai/gpt-4o-mini", Usage(input_tokens=10, output_tokens=10)) == 0
    user.write_text('[models."x"]\ninput = -1\noutput = 0\n')
    with pytest.raises(UsageError, match="negative"):
        load_prices()


def test_budget_refuses_the_call_that_would_pass_the_limit():
    budget = Budget(limit=1.0)
    budget.before_call("m")  # nothing known yet: allowed
    budget.charge("m", 0.4)
    budget.before_call("m")  # 0.4 + 0.4 <= 1.0
    budget.charge("m", 0.4)
    with pytest.raises(CostLimitReached):
        budget.before_call("m")  # 0.8 + 0.4 > 1.0
    budget.before_call("other")  # a model with no price seen yet is estimated at 0


def test_sweep_view_line_counts_and_eta():
    from emergebench.sweep.view import SweepCounts, SweepView, eta_seconds, format_duration

    # 30 of 100 samples done in this session's 60 s: 0.5/s, 60 left -> 120 s (the 10 resumed do not count)
    assert eta_seconds(done_now=40, done_at_start=10, total=100, elapsed=60.0) == pytest.approx(120.0)
    assert eta_seconds(done_now=10, done_at_start=10, total=100, elapsed=60.0) is None
    assert format_duration(3725) == "1:02:05" and format_duration(None) == "-:--:--"
    counts = SweepCounts(runs=10, skipped=2, done=3, running=2, failed=1, calls=1234, cached=34, cost=0.5, priced=True)
    line = SweepView(counts, enabled=False).status_line()
    assert "runs 5/10 done" in line and "2 running" in line and "1 failed" in line and "2 pending" in line
    assert "1,234 calls (34 cached)" in line and "$0.5000" in line
