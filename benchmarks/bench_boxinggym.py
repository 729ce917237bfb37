"""BoxingGym speed: EIG of one design per world (default sample counts, both modes), the SMC
posterior over a 10-experiment trajectory, and a full 10-world run with the scripted scientist.
Run: .venv/bin/python benchmarks/bench_boxinggym.py (figures are medians over --repeats runs)"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
from emergebench.runner import RunOptions, build_spec, run_sync
from emergebench_boxinggym.eig import EIGSettings, eig_needs_draws, expected_information_gain
from emergebench_boxinggym.envs import ENVIRONMENTS
from emergebench_boxinggym.posterior import posterior_samples


def median_ms(fn: Callable[[], object], repeats: int) -> str:
    """Median wall and CPU milliseconds: on a shared, oversubscribed machine CPU time is what one design
    costs when it has a core to itself (NumPy runs these element-wise kernels on one thread)."""
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return f"{statistics.median(wall):.1f} / {statistics.median(cpu):.1f}"


def bench_eig(repeats: int) -> None:
    print("| world | outcome | prior EIG, fixed | posterior EIG, fixed | paper EIG | SMC 10 steps (s wall / cpu) |")
    print("|---|---|---|---|---|---|")
    for key, cls in ENVIRONMENTS.items():
        if cls.outcome == "deterministic":
            print(f"| {key} | deterministic | n/a | n/a | n/a | n/a |")
            continue
        rng = np.random.default_rng(0)
        env = cls(rng, phrase=False)
        fixed, paper = EIGSettings(), EIGSettings(paper=True)
        prior = posterior_samples(env, [], eig_needs_draws(env, fixed, prior=True), rng).theta
        paper_draws = posterior_samples(env, [], eig_needs_draws(env, paper, prior=True), rng).theta
        designs = [env.random_design(rng) for _ in range(repeats)]
        cells = [median_ms(partial(expected_information_gain, env, prior, designs[0], rng, fixed), repeats)]
        data: list = []
        post = None
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(10):  # the trajectory's posterior: each step starts from the previous one
            d = env.random_design(rng)
            data.append((d, env.step(d)))
            post = posterior_samples(env, data, fixed.n_posterior, rng, previous=post)
        smc = f"{time.perf_counter() - t0:.1f} / {time.process_time() - c0:.1f}"
        assert post is not None
        cells.append(median_ms(partial(expected_information_gain, env, post.theta, designs[1], rng, fixed), repeats))
        cells.append(median_ms(partial(expected_information_gain, env, paper_draws, designs[2], rng, paper), repeats))
        row = f"| {key} | {cls.outcome} | {cells[0]} | {cells[1]} | {cells[2]} | {smc} |"
        print(row, flush=True)


def bench_full_run(random_designs: int) -> None:
    print(
        "\nFull run, scripted scientist, budgets 0,1,3,5,7,10, 10 questions, 1 trajectory, "
        f"{random_designs} random designs"
    )
    print("| world | seconds |")
    print("|---|---|")
    total = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for key in ENVIRONMENTS:
            spec = build_spec(
                f"boxinggym/{key}",
                "scripted/function",
                model_args={"function": "emergebench_boxinggym.scripted:constant_scientist"},
                task_args={"seeds": 1, "random_designs": random_designs},
            )
            t0 = time.perf_counter()
            result = run_sync(
                spec, RunOptions(runs_dir=Path(tmp) / "runs", cache_path=Path(tmp) / "c.db", progress=False)
            )
            took = time.perf_counter() - t0
            total += took
            assert result.n_errors == 0, result.errors
            print(f"| {key} | {took:.1f} |", flush=True)
    print(f"| **all 10** | **{total:.1f}** |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--random-designs", type=int, default=100)
    parser.add_argument("--skip-run", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore", RuntimeWarning)
    bench_eig(args.repeats)
    if not args.skip_run:
        bench_full_run(args.random_designs)
