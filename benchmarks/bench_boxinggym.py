"""BoxingGym speed: EIG of one design per world (default sample counts, both modes), and a full
10-world run with the scripted scientist. Run: .venv/bin/python benchmarks/bench_boxinggym.py"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from emergebench.runner import RunOptions, build_spec, run_sync
from emergebench_boxinggym.eig import EIGSettings, eig_needs_draws, expected_information_gain, posterior_samples
from emergebench_boxinggym.envs import ENVIRONMENTS


def bench_eig(repeats: int) -> None:
    print("| world | outcome | fixed EIG (ms) | paper EIG (ms) | SIR posterior, 5 obs (ms) |")
    print("|---|---|---|---|---|")
    for key, cls in ENVIRONMENTS.items():
        if cls.outcome == "deterministic":
            print(f"| {key} | deterministic | n/a | n/a | n/a |")
            continue
        rng = np.random.default_rng(0)
        env = cls(rng, phrase=False)
        data = []
        for _ in range(5):
            d = env.random_design(rng)
            data.append((d, env.step(d)))
        cells = []
        for paper in (False, True):
            settings = EIGSettings(paper=paper)
            t0 = time.perf_counter()
            post = posterior_samples(env, data, eig_needs_draws(env, settings), rng, settings.n_prior)
            sir = (time.perf_counter() - t0) * 1000
            design = env.random_design(rng)
            expected_information_gain(env, post.theta, design, rng, settings)  # warm-up
            t0 = time.perf_counter()
            for _ in range(repeats):
                expected_information_gain(env, post.theta, design, rng, settings)
            cells.append((time.perf_counter() - t0) * 1000 / repeats)
        print(f"| {key} | {cls.outcome} | {cells[0]:.1f} | {cells[1]:.1f} | {sir:.1f} |", flush=True)


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
    bench_eig(args.repeats)
    if not args.skip_run:
        bench_full_run(args.random_designs)
