"""emergebench's command line as a user runs it (issue #18, item 3): every figure is a real
``emergebench`` process timed from its start to its exit, start-up and end-of-run work (metrics, the
registry's ingest) included, with its CPU time and peak RSS.

- start-up: ``--help``, ``--version``, ``tasks``, ``models`` in a home whose plugin index exists;
- runs: ``testtask/qa`` through the ``openai`` provider against the project's fake server on
  127.0.0.1 answering after ``--latency`` seconds, ``--max-concurrency 64``; the ideal is
  N x latency / 64 seconds. Reported: time to the first request, wall from start and from the first
  request to exit (the active period, end-of-run ingest included), % of the ideal for both, CPU ms per
  sample (process and children: start-up and ingest included), peak RSS of the run's process and of
  the registry's ingest process;
- zero latency: the same run with an instant server, for CPU per sample end to end.

Each repetition uses a new ``--seed`` (new prompts, so nothing comes from the call cache) in a home
warmed once (plugin index and registry exist, as for a user's second run). Medians of ``--reps``,
interleaved by size; the load average is printed beside every wall figure.

    .venv/bin/python benchmarks/cli_bench.py --reps 5
    .venv/bin/python benchmarks/cli_bench.py --reps 3 --sizes 1000,5000 --skip-startup

``--compare OTHER`` times a second ``emergebench`` executable (e.g. a worktree of main:
``../bench/.venv/bin/emergebench``) in its own warmed home against the same servers, alternating
which goes first every repetition, for an A/B on a shared machine; its rows are labelled ``[OTHER]``.

    .venv/bin/python benchmarks/cli_bench.py --reps 5 --sizes 5000 --skip-startup --zero-latency-size 0 \
        --compare ../bench/.venv/bin/emergebench
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from cli_runs import EMERGEBENCH, Measured, TimedServer, loadavg, measure, median, versions

STARTUP = {"--help": ["--help"], "--version": ["--version"], "tasks": ["tasks"], "models": ["models"]}
CONCURRENCY = 64


def warm_home(home: Path, exe: str = EMERGEBENCH) -> dict[str, str]:
    """A home with its plugin index and registry made (what any earlier command leaves)."""
    env = {"EMERGEBENCH_HOME": str(home)}
    for command in (["--help"], ["sql", "SELECT 1"]):
        done = measure([exe, *command], env)
        if done.returncode != 0:
            raise SystemExit(f"emergebench {' '.join(command)} failed: {done.stderr}")
    return env


def run_command(n: int, seed: int, base_url: str, exe: str = EMERGEBENCH) -> list[str]:
    return [
        exe,
        "run",
        "testtask/qa",
        "-m",
        "openai/bench",
        "-M",
        f"base_url={base_url}",
        "-M",
        f"max_connections={CONCURRENCY}",
        "-T",
        f"n={n}",
        "--seed",
        str(seed),
        "-c",
        str(CONCURRENCY),
    ]


def run_row(n: int, latency: float, done: Measured) -> dict[str, Any]:
    if done.returncode not in (0, 1) or done.requests < n:
        raise SystemExit(f"run of {n} failed ({done.returncode}, {done.requests} requests): {done.stderr[-2000:]}")
    ideal = n * latency / CONCURRENCY
    active = done.wall_s - (done.first_request_s or 0.0)
    return {
        **done.row(),
        "n": n,
        "latency": latency,
        "active_s": active,
        "ideal_s": ideal,
        "of_ideal_from_start": ideal / done.wall_s if ideal else None,
        "of_ideal_active": ideal / active if ideal else None,
        "cpu_ms_per_sample": 1000 * done.cpu_s / n,
        "load": loadavg(),
    }


def summarise(rows: list[dict[str, Any]], keys: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in keys:
        values = [r[key] for r in rows if r.get(key) is not None]
        out[key] = median(values) if values else None
    out["loads"] = [r["load"] for r in rows]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--sizes", default="1000,5000", help="sample counts at --latency")
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--zero-latency-size", type=int, default=5000, help="0 skips the zero-latency run")
    parser.add_argument("--skip-startup", action="store_true")
    parser.add_argument("--json", type=Path, help="also write every repetition here")
    parser.add_argument("--compare", help="another emergebench executable, run alternately (an A/B)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    print(json.dumps(versions()))
    every: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = warm_home(Path(tmp) / "home")
        tools = [("", EMERGEBENCH, env)]
        if args.compare:
            tools.append((f" [{args.compare}]", args.compare, warm_home(Path(tmp) / "other", args.compare)))
        if not args.skip_startup:
            for _ in range(args.reps):
                for name, command in STARTUP.items():
                    done = measure([EMERGEBENCH, *command], env)
                    assert done.returncode == 0, done.stderr
                    every.setdefault(f"startup {name}", []).append({**done.row(), "load": loadavg()})
        seed = 1000
        with TimedServer(args.latency) as slow, TimedServer(0.0) as instant:
            for rep in range(args.reps):
                for label, exe, home_env in tools[rep % len(tools) :] + tools[: rep % len(tools)]:
                    for n in sizes:
                        seed += 1
                        done = measure(run_command(n, seed, slow.base_url, exe), home_env, slow)
                        row = run_row(n, args.latency, done)
                        every.setdefault(f"run n={n} latency={args.latency}{label}", []).append(row)
                        print(
                            f"  n={n}{label}: {row['of_ideal_active']:.2%} of ideal from the first request, "
                            f"last request to exit {done.after_last_request_s:.3f} s, load {row['load']}",
                            flush=True,
                        )
                    if args.zero_latency_size:
                        n, seed = args.zero_latency_size, seed + 1
                        done = measure(run_command(n, seed, instant.base_url, exe), home_env, instant)
                        every.setdefault(f"run n={n} latency=0{label}", []).append(run_row(n, 0.0, done))
                print(f"rep {rep + 1}/{args.reps} done, load {loadavg()}", flush=True)
    keys = [
        "wall_s",
        "cpu_s",
        "peak_mb",
        "child_peak_mb",
        "first_request_s",
        "after_last_request_s",
        "settled_s",
        "active_s",
        "of_ideal_from_start",
        "of_ideal_active",
        "cpu_ms_per_sample",
    ]
    for name, rows in every.items():
        summary = summarise(rows, keys)
        shown = {k: round(v, 4) if isinstance(v, float) else v for k, v in summary.items() if v is not None}
        print(f"{name} (median of {len(rows)}): {json.dumps(shown)}")
    if args.json:
        args.json.write_text(json.dumps({"versions": versions(), "runs": every}, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
