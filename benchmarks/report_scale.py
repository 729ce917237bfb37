"""Benchmark: `emergebench analyze` and `emergebench report` over 10,000,000 score rows, run as a user runs them.

Synthetic registry (built with DuckDB SQL, seeded, no Python loop over rows): 1,000 models in 10
families with parameter counts spread log-uniformly over 10M-1T, 20 tasks, one complete run per
(model, task), 250 samples per run, two scores per sample: `exact` (0/1, the headline: per-token
accuracy p to the power of the answer length) and `p_correct` (continuous in (0, 1), 250 distinct
values per run: the bootstrap's costly path). A small plugin, installed for the benchmark only
(a ``*.dist-info`` with an ``emergebench`` entry point on PYTHONPATH), declares the pair
exact / p_correct for every synthetic task through the ``register_metric_pairs`` hook.

Each command runs in its own subprocess (the `emergebench` console script of this environment), so
the figures include start-up and rendering. Per command: wall clock, CPU (user + system, from
``RUSAGE_CHILDREN``), peak RSS (the child's own ``VmHWM`` from ``/proc/<pid>/status``, polled every
20 ms: ``ru_maxrss`` of a forked child can report the parent's high-water mark), output size and the
load average; medians of ``--reps`` runs after one warm-up.

Usage: python benchmarks/report_scale.py [--scores N] [--reps K] [--what startup|analyze|report|both] [--keep DIR]
``--keep DIR`` builds the registry in DIR once and reuses it on later calls.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

TASKS, MODELS, FAMILIES, SCORES_PER_SAMPLE = 20, 1000, 10, 2

PLUGIN = '''"""Benchmark-only plugin: the synthetic tasks' metric pair."""
from emergebench.metric_pairs import MetricPair
from emergebench import hookimpl


@hookimpl
def register_metric_pairs(register):
    for t in range({tasks}):
        register(f"task-{{t}}", MetricPair(headline="exact", continuous="p_correct"))
'''


def build(path: Path, n_scores: int) -> None:
    """Write the synthetic registry at ``path`` with DuckDB SQL only."""
    from emergebench_registry.store import Store

    runs = TASKS * MODELS
    samples = n_scores // (runs * SCORES_PER_SAMPLE)
    store = Store(path)
    with store.writer() as con:
        con.execute("SET enable_progress_bar = false")
        con.execute("SELECT setseed(0.42)")
        con.execute(
            f"""INSERT INTO model_sources
                SELECT 'prov/model-' || m, 'prov', 'model-' || m, 'family-' || (m % {FAMILIES}),
                  CAST(pow(10, 7 + 5 * ((m * 7919) % {MODELS}) / {MODELS}) AS BIGINT), NULL, 'local'
                FROM range({MODELS}) t(m)"""
        )
        con.execute(
            f"""INSERT INTO runs (run_id, spec_id, status, task, task_version, task_args, main_metric, model_id, seed,
                  epochs, n_samples, n_expected, n_errors, started_at, finished_at)
                SELECT 'run-' || r, 'spec-' || r, 'complete', 'task-' || (r % {TASKS}), '1', '{{}}', 'exact',
                       'prov/model-' || (r // {TASKS}), 0, 1, {samples}, {samples}, 0,
                       TIMESTAMPTZ '2026-01-01' + INTERVAL (r) SECOND, TIMESTAMPTZ '2026-01-01' + INTERVAL (r) SECOND
                FROM range({runs}) t(r)"""
        )
        # per-token accuracy rises linearly in log10(parameters); the task sets the answer length
        con.execute(
            """CREATE TEMP TABLE acc AS
                SELECT r.run_id, least(0.995, 0.55 + 0.09 * (log10(m.parameters) - 7)) AS p,
                       2 + CAST(regexp_extract(r.task, '[0-9]+') AS INT) AS len
                FROM runs r JOIN models m USING (model_id)"""
        )
        con.execute(
            f"""INSERT INTO samples (run_id, sample_id, epoch, input, target, answer, n_calls, started_at, finished_at)
                SELECT run_id, 's' || i, 0, '"question ' || i || '"', '"answer"', 'reply ' || i, 1,
                       TIMESTAMPTZ '2026-01-01', TIMESTAMPTZ '2026-01-01'
                FROM acc, range({samples}) t(i)"""
        )
        con.execute(
            f"""INSERT INTO scores
                SELECT run_id, 's' || i, 0, 'exact', CAST(random() < pow(p, len) AS DOUBLE)
                FROM acc, range({samples}) t(i)
                UNION ALL
                SELECT run_id, 's' || i, 0, 'p_correct', least(0.999999, greatest(1e-6, p + 0.2 * (random() - 0.5)))
                FROM acc, range({samples}) t(i)"""
        )
        con.execute("CHECKPOINT")


def install_plugin(folder: Path) -> None:
    """A benchmark-only plugin found through its entry point, like any installed plugin."""
    (folder / "emergebench_bench_pairs.py").write_text(PLUGIN.format(tasks=TASKS), encoding="utf-8")
    info = folder / "emergebench_bench_pairs-0.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: emergebench-bench-pairs\nVersion: 0.0\n")
    (info / "entry_points.txt").write_text("[emergebench]\nbench-pairs = emergebench_bench_pairs\n")


@dataclass
class Measure:
    wall: float
    cpu: float
    peak_rss_mb: float
    load: str


def _vm_hwm_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def run_measured(cmd: list[str], env: dict[str, str], stdout: Path) -> Measure:
    """Run ``cmd`` to completion: wall, CPU (RUSAGE_CHILDREN delta) and the child's own peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = Path("/proc/loadavg").read_text().split()[0]
    start = time.perf_counter()
    with stdout.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.PIPE)
        peak = [0]

        def poll() -> None:
            while proc.poll() is None:
                peak[0] = max(peak[0], _vm_hwm_kb(proc.pid))
                time.sleep(0.02)

        watcher = threading.Thread(target=poll, daemon=True)
        watcher.start()
        _, err = proc.communicate()
        watcher.join()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err.decode(errors='replace')}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Measure(wall, cpu, peak[0] / 1024, load)


def summary(name: str, runs: list[Measure], extra: str = "") -> str:
    med = statistics.median
    walls = [round(m.wall, 2) for m in runs]
    cpus = [round(m.cpu, 2) for m in runs]
    return (
        f"{name}: wall median {med(walls):.2f} s of {walls}; CPU median {med(cpus):.2f} s of {cpus}; "
        f"peak RSS median {med(m.peak_rss_mb for m in runs):.0f} MB; load {[m.load for m in runs]}{extra}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scores", type=int, default=10_000_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--what", choices=("startup", "analyze", "report", "both"), default="both")
    parser.add_argument("--keep", type=Path, default=None, help="Build the registry here once and reuse it.")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="report-scale-")
    try:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        registry = work / f"registry-{args.scores}.duckdb"
        if not registry.exists():
            t0 = time.perf_counter()
            build(registry, args.scores)
            print(f"built {args.scores:,} score rows in {time.perf_counter() - t0:.1f} s wall")
        plugin_dir = Path(tmp) / "plugin"
        plugin_dir.mkdir()
        install_plugin(plugin_dir)
        env = {
            **os.environ,
            "EMERGEBENCH_HOME": str(work / "home"),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(plugin_dir), os.environ.get("PYTHONPATH", "")])),
        }
        exe = str(Path(sys.executable).with_name("emergebench"))
        common = ["--registry", str(registry), "--no-scan"]
        # the Vega bundle is built once per vl-convert version and cached in the home; not timed
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", "from emergebench_report.bundle import javascript_bundle; javascript_bundle()"],
            env=env,
            check=True,
        )
        print(f"Vega bundle (one-time build or cache read): {time.perf_counter() - t0:.1f} s")
        out = Path(tmp) / "out"
        if args.what in ("startup", "analyze", "both"):
            # what every command pays before it reads the registry: the CLI loads every installed plugin
            cmd = [exe, "analyze", "--help"]
            run_measured(cmd, env, out)
            print(summary("start-up (analyze --help)", [run_measured(cmd, env, out) for _ in range(args.reps)]))
        if args.what in ("analyze", "both"):
            for table in ("points", "fits"):
                cmd = [exe, "analyze", "--table", table, "--format", "csv", *common]
                run_measured(cmd, env, out)  # warm-up (page cache)
                runs = [run_measured(cmd, env, out) for _ in range(args.reps)]
                rows = len(out.read_text().splitlines()) - 1
                print(summary(f"analyze --table {table} --format csv", runs, f"; {rows:,} rows"))
        if args.what in ("report", "both"):
            html = Path(tmp) / "report.html"
            cmd = [exe, "report", "-o", str(html), *common]
            run_measured(cmd, env, out)
            runs = [run_measured(cmd, env, out) for _ in range(args.reps)]
            print(summary("report", runs, f"; {html.stat().st_size / 1e6:.2f} MB; {out.read_text().strip()}"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
