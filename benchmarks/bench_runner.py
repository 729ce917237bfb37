"""Runner overhead (issue #2, benchmarks a and c).

An instant in-process model answers 10,000 samples with journaling and the call cache on; each
repetition runs in a fresh subprocess with a fresh EMERGEBENCH_HOME, so the cache starts empty
(every call is a real model call plus a cache write) and peak RSS is the child's own.

    .venv/bin/python benchmarks/bench_runner.py --samples 10000 --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any


def child(samples: int, concurrency: int) -> None:
    from emergebench import Sample, SampleScore, Task, hookimpl
    from emergebench.plugins import get_manager
    from emergebench.runner import RunOptions, build_spec, run_sync

    class Instant(Task):
        name = "bench/instant"
        version = "1"

        def dataset(self, seed: int) -> list[Sample]:
            return [Sample(id=str(i), input=f"question {i}", target="OK") for i in range(samples)]

        async def solve(self, sample: Sample, ctx: Any) -> SampleScore:
            out = await ctx.model.generate(sample.input)
            return SampleScore(scores={"accuracy": float(out.text == sample.target)}, answer=out.text)

    class Plugin:
        @staticmethod
        @hookimpl
        def register_tasks(register: Any) -> None:
            register(Instant)

    manager = get_manager()
    manager.register_module(Plugin, "bench")
    spec = build_spec("bench/instant", "scripted/constant", manager=manager)
    started = time.perf_counter()
    result = run_sync(spec, RunOptions(max_concurrency=concurrency, progress=False), manager)
    seconds = time.perf_counter() - started
    assert result.n_samples == samples and result.model_calls == samples, result
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_rss_mb": rss_kb / 1024}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.samples, args.concurrency)
        return
    rows = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as home:
            env = {**os.environ, "EMERGEBENCH_HOME": home, "EMERGEBENCH_LOAD_PLUGINS": ""}
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    "--samples",
                    str(args.samples),
                    "--concurrency",
                    str(args.concurrency),
                ],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            rows.append(json.loads(out.stdout))
    rates = [args.samples / r["seconds"] for r in rows]
    print(f"samples={args.samples} concurrency={args.concurrency} repeats={args.repeat}")
    print("samples/s per run: " + ", ".join(f"{r:.0f}" for r in rates))
    print(f"median samples/s: {statistics.median(rates):.0f}")
    print(f"median peak RSS: {statistics.median(r['peak_rss_mb'] for r in rows):.1f} MB")


if __name__ == "__main__":
    main()
