"""Sweep and batch-mode overheads (figures in docs/benchmarks.md).

1. A sweep of M scripted models x 4 tasks (the three MARS tasks on their shipped sample set, and the
   test-only arithmetic task): wall time of `emergebench sweep` on the local executor and on a local
   Ray instance, against the sum of the same runs done one by one with `emergebench run` (what a
   shell loop does). Every variant starts from an empty home, so no run is skipped or cached.
2. Batch mode: N calls through the fake OpenAI server, direct (one request per call) and in batch
   mode (/v1/files + /v1/batches), wall and client CPU time; the difference per 10,000 calls.

Run: .venv/bin/python benchmarks/bench_sweep.py [--models 20] [--repeats 3] [--calls 10000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EB = [sys.executable, "-m", "emergebench"]
TASKS = [
    ("mars/event", {"data": "sample"}),
    ("mars/inference", {"data": "sample"}),
    ("mars/transition", {"data": "sample"}),
    ("testtask/qa", {"n": 12}),
]


def env_for(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EMERGEBENCH_")}
    env.update(EMERGEBENCH_HOME=str(home), EMERGEBENCH_LOAD_PLUGINS="mars,testtask")
    return env


def sweep_file(path: Path, models: int, delay: float, limit: int) -> None:
    lines = ["models = ["]
    lines += [
        f'  {{ id = "scripted/constant", args = {{ reply = "A{i}", delay_s = {delay} }} }},' for i in range(models)
    ]
    lines += ["]", "tasks = ["]
    for name, args in TASKS:
        inner = ", ".join(f"{k} = {v!r}" if isinstance(v, int) else f'{k} = "{v}"' for k, v in args.items())
        lines.append(f'  {{ name = "{name}", args = {{ {inner} }} }},')
    lines += ["]", f"limit = {limit}"]
    path.write_text("\n".join(lines) + "\n")


def timed(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:6])}... failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - t0


def one_by_one(models: int, delay: float, limit: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        env = env_for(Path(tmp))
        total = 0.0
        for i in range(models):
            for name, args in TASKS:
                task_args = [x for k, v in args.items() for x in ("-T", f"{k}={v}")]
                model = ["-m", "scripted/constant", "-M", f"reply=A{i}", "-M", f"delay_s={delay}"]
                total += timed([*EB, "run", name, *model, *task_args, "--limit", str(limit)], env)
        return total


def sweep(models: int, delay: float, limit: int, executor: str, max_runs: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sweep.toml"
        sweep_file(path, models, delay, limit)
        cmd = [*EB, "sweep", str(path), "--executor", executor, "--max-runs", str(max_runs), "--json"]
        return timed(cmd, env_for(Path(tmp) / "home"))


def ray_startup() -> float:
    code = "import ray, time; t=time.perf_counter(); ray.init(num_cpus=2, include_dashboard=False); ray.shutdown()"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    return time.perf_counter() - t0


def batch_overhead(calls: int, concurrency: int) -> dict[str, float]:
    from emergebench.plugins import reset_manager
    from emergebench.runner import RunOptions, build_spec, run_sync
    from emergebench_testing.openai_server import FakeOpenAIServer

    out = {}
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAIServer() as server:
        os.environ["EMERGEBENCH_HOME"] = tmp
        os.environ["EMERGEBENCH_LOAD_PLUGINS"] = "openai,testtask"
        reset_manager()
        for mode, extra in (
            ("direct", {}),
            ("batch", {"batch": True, "batch_size": 50_000, "batch_window": 0.05, "batch_poll": 0.05}),
        ):
            args = {"base_url": server.base_url, "max_connections": 1024, **extra}
            spec = build_spec("testtask/qa", f"openai/{mode}", task_args={"n": calls}, model_args=args)
            options = RunOptions(max_concurrency=concurrency, progress=False, use_cache=False)
            options.cache_path = Path(tmp) / f"{mode}.sqlite"
            cpu0, t0 = time.process_time(), time.perf_counter()
            result = run_sync(spec, options)
            assert result.status == "complete" and result.n_samples == calls, result.status
            out[f"{mode}_wall"] = time.perf_counter() - t0
            out[f"{mode}_cpu"] = time.process_time() - cpu0
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=int, default=20)
    parser.add_argument("--limit", type=int, default=6, help="samples per run")
    parser.add_argument("--delay", type=float, default=0.05, help="scripted model latency (s)")
    parser.add_argument("--max-runs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=1000)
    parser.add_argument("--skip", nargs="*", default=[], choices=["serial", "local", "ray", "batch"])
    args = parser.parse_args()
    runs = args.models * len(TASKS)
    print(
        f"{args.models} models x {len(TASKS)} tasks = {runs} runs, {args.limit} samples each, "
        f"model latency {args.delay}s, --max-runs {args.max_runs}; medians of {args.repeats}"
    )
    if "serial" not in args.skip:
        serial = one_by_one(args.models, args.delay, args.limit)
        print(f"one by one (`emergebench run` x {runs}, once): {serial:.1f} s, {serial / runs:.2f} s per run")
    for executor in ("local", "ray"):
        if executor in args.skip:
            continue
        walls = [sweep(args.models, args.delay, args.limit, executor, args.max_runs) for _ in range(args.repeats)]
        wall = statistics.median(walls)
        print(
            f"sweep --executor {executor}: median {wall:.1f} s ({', '.join(f'{w:.1f}' for w in walls)}), "
            f"{wall / runs:.2f} s per run"
        )
    if "ray" not in args.skip:
        starts = [ray_startup() for _ in range(args.repeats)]
        print(f"Ray start-up alone (local instance, 2 CPUs): median {statistics.median(starts):.1f} s")
    if "batch" not in args.skip:
        results = [batch_overhead(args.calls, args.concurrency) for _ in range(args.repeats)]
        med = {k: statistics.median(r[k] for r in results) for k in results[0]}
        per = 10_000 / args.calls
        print(
            f"{args.calls} calls, -c {args.concurrency}: direct {med['direct_wall']:.2f} s wall / "
            f"{med['direct_cpu']:.2f} s CPU; batch {med['batch_wall']:.2f} s wall / {med['batch_cpu']:.2f} s CPU; "
            f"batch overhead per 10,000 calls: {(med['batch_wall'] - med['direct_wall']) * per:+.2f} s wall, "
            f"{(med['batch_cpu'] - med['direct_cpu']) * per:+.2f} s CPU"
        )


if __name__ == "__main__":
    main()
