"""Benchmark (b): runner throughput through the openai provider against a slow HTTP endpoint.

A fake OpenAI-compatible server (emergebench_testing.openai_server, asyncio, in a subprocess so it does
not share this process's CPU time or GIL) answers every chat call after a fixed latency. With
``--max-concurrency C`` and latency L the ideal rate is C / L samples per second (64 / 0.2 s = 320/s);
the target is at least 90% of it. Needs emergebench-openai and tests/fixtures/eb-testtask installed.

testtask/qa draws its sums from 2,500 pairs, so ~16% of 1,000 samples repeat an earlier prompt and
are answered from the run's cache; ``--no-cache`` turns cache reads off so every sample is an HTTP
call. Each repetition prints its figures; the last line gives medians and judges the median rate.
``--profile`` adds one untimed run under cProfile (CPU clock) and prints where the client's CPU
went, grouped by package.

    .venv/bin/python benchmarks/bench_http_latency.py --samples 1000 --concurrency 64 --latency 0.2 --repeat 3
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from emergebench.journal import JOURNAL_FILE, iter_journal
from emergebench.retry import RetryPolicy
from emergebench.runner import RunOptions, build_spec, run_sync


def start_server(latency: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "emergebench_testing.openai_server", "--latency", str(latency), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("listening "):
        proc.kill()
        raise SystemExit(f"fake server did not start: {line!r}")
    return proc, line.split(" ", 1)[1]


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far; NaN where /proc is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop_server(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(10)


def sample_span(journal: Path) -> float:
    """Seconds from the first sample's start to the last sample's end: the run without its
    set-up and finish (final metrics, on_run_finished hooks such as the registry's ingest)."""
    results = list(iter_journal(journal))
    first = min(r.started_at for r in results)
    return (max(r.finished_at for r in results) - first).total_seconds()


def bench(
    samples: int, concurrency: int, latency: float, use_cache: bool, profiler: cProfile.Profile | None = None
) -> dict[str, float]:
    proc, base_url = start_server(latency)
    home = os.environ.get("EMERGEBENCH_HOME")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["EMERGEBENCH_HOME"] = tmp  # plugins' on_run_finished hooks write here, not to the user's data
            spec = build_spec(
                "testtask/qa",
                "openai/bench",
                task_args={"n": samples},
                model_args={"base_url": base_url, "max_connections": max(concurrency, 1)},
            )
            options = RunOptions(
                max_concurrency=concurrency,
                runs_dir=Path(tmp) / "runs",
                cache_path=Path(tmp) / "cache.sqlite",
                use_cache=use_cache,
                progress=False,
                retry=RetryPolicy(timeout_s=30.0),
            )
            server0 = process_cpu(proc.pid)  # the server's start-up (imports) is not counted
            cpu0, started = time.process_time(), time.perf_counter()
            if profiler is not None:
                profiler.enable()
            result = run_sync(spec, options)
            if profiler is not None:
                profiler.disable()
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
            server_cpu = process_cpu(proc.pid) - server0
            span = sample_span(Path(tmp) / "runs" / result.run_id / JOURNAL_FILE)
    finally:
        stop_server(proc)
        if home is None:
            os.environ.pop("EMERGEBENCH_HOME", None)
        else:
            os.environ["EMERGEBENCH_HOME"] = home
    accuracy = next((m.value for m in result.metrics if m.name == "accuracy" and m.group is None), None)
    ideal = concurrency / latency
    rate = result.n_samples / wall
    return {
        "samples": result.n_samples,
        "errors": result.n_errors,
        "accuracy": accuracy if accuracy is not None else float("nan"),
        "wall_s": round(wall, 3),
        "client_cpu_s": round(cpu, 3),
        "cpu_ms_per_sample": round(1000 * cpu / max(result.n_samples, 1), 3),
        "http_calls": result.model_calls,
        "cached_calls": result.cached_calls,
        "server_cpu_ms_per_call": round(1000 * server_cpu / max(result.model_calls, 1), 3),
        "samples_per_s": round(rate, 1),
        "ideal_per_s": round(ideal, 1),
        "efficiency": round(rate / ideal, 3),
        "http_calls_per_s": round(result.model_calls / wall, 1),
        "sample_span_s": round(span, 3),
        "outside_span_s": round(wall - span, 3),
        "span_samples_per_s": round(result.n_samples / span, 1),
    }


_PACKAGES = ("emergebench_openai", "emergebench_registry", "emergebench_testtask", "emergebench/")
_PACKAGES += ("openai", "httpx", "httpcore", "aiohttp", "yarl", "multidict", "tenacity", "pydantic", "asyncio", "json")


def package_of(filename: str, function: str) -> str:
    """A profile entry's owner: a package name, ``stdlib:<file>``, or a C function's name."""
    for package in _PACKAGES:
        if f"/{package}" in filename:
            return package.rstrip("/")
    if filename == "~":  # C functions: name the interesting ones
        for key, label in (("epoll", "(idle: epoll wait)"), ("sqlite3", "sqlite3"), ("pydantic_core", "pydantic")):
            if key in function:
                return label
        return f"C: {function[:40]}"
    if "site-packages" not in filename:
        return f"stdlib: {Path(filename).name}"
    return Path(filename).parent.name


def print_profile(profiler: cProfile.Profile, samples: int, top: int = 16) -> None:
    """Exclusive CPU time by package, idle waiting left out."""
    import pstats

    totals: Counter[str] = Counter()
    for (filename, _, function), (_, _, own, _, _) in pstats.Stats(profiler).stats.items():  # type: ignore[attr-defined]
        totals[package_of(filename, function)] += own
    totals.pop("(idle: epoll wait)", None)
    busy = sum(totals.values())
    print(
        f"client CPU under cProfile: {busy:.3f} s = {1000 * busy / samples:.3f} ms/sample (profiler overhead included)"
    )
    for package, seconds in totals.most_common(top):
        print(f"  {package:40s} {seconds:7.3f} s {100 * seconds / busy:5.1f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.2, help="server seconds per answer")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-cache", action="store_true", help="no cache reads: every sample is an HTTP call")
    parser.add_argument("--profile", action="store_true", help="one more, untimed run under cProfile")
    parser.add_argument("--target", type=float, default=0.9, help="exit 1 if the median is below this fraction")
    args = parser.parse_args()
    runs = []
    for _ in range(args.repeat):
        figures = bench(args.samples, args.concurrency, args.latency, use_cache=not args.no_cache)
        print(json.dumps(figures), flush=True)
        runs.append(figures)
    median = {
        key: statistics.median(run[key] for run in runs)
        for key in (
            "samples_per_s",
            "efficiency",
            "cpu_ms_per_sample",
            "server_cpu_ms_per_call",
            "http_calls_per_s",
            "span_samples_per_s",
            "outside_span_s",
        )
    }
    if args.profile:
        profiler = cProfile.Profile(time.process_time)
        bench(args.samples, args.concurrency, args.latency, use_cache=not args.no_cache, profiler=profiler)
        print_profile(profiler, args.samples)
    errors = sum(run["errors"] for run in runs)
    ok = errors == 0 and median["efficiency"] >= args.target
    print(
        f"median of {len(runs)}: {median['samples_per_s']}/s of ideal {runs[0]['ideal_per_s']}/s "
        f"({median['efficiency']:.0%}), client CPU {median['cpu_ms_per_sample']} ms/sample, "
        f"server CPU {median['server_cpu_ms_per_call']} ms/call, {median['http_calls_per_s']} HTTP calls/s; "
        f"between first start and last finish {median['span_samples_per_s']}/s, outside that "
        f"{median['outside_span_s']} s; {errors} errors ->",
        "OK" if ok else "BELOW TARGET",
    )
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
