"""Benchmark: `emergebench analyze` and `emergebench report` over 10,000,000 score rows.

Synthetic store (built with SQL, seeded): 1,000 models in 10 families with parameter counts spread
log-uniformly over 10M-1T, 20 tasks, one complete run per (model, task), 250 samples per run, two
scores per sample: `exact` (0/1, the headline: per-token accuracy p to the power of the answer length)
and `p_correct` (continuous in (0, 1), 250 distinct values per run: the costly bootstrap path).
Every task declares the pair exact / p_correct. The report embeds the default sample browser slice.

Usage: python benchmarks/report_scale.py [--scores N] [--reps K] [--what analyze|report|both]
Times are medians of K runs in one process after one warm-up, wall-clock and CPU of the process
(the Vega bundle is cached before timing; its one-time build is reported separately).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from emergebench.metric_pairs import MetricPair
from emergebench_registry.store import Store
from emergebench_report.analysis import analyze, point_rows
from emergebench_report.pooled import load_pool
from emergebench_report.report import ReportSettings, build_report

TASKS, MODELS, FAMILIES, SCORES_PER_SAMPLE = 20, 1000, 10, 2


def build(store: Store, n_scores: int) -> None:
    runs = TASKS * MODELS
    samples = n_scores // (runs * SCORES_PER_SAMPLE)
    with store.writer() as con:
        con.execute("SELECT setseed(0.42)")
        con.execute(
            f"""INSERT INTO models SELECT 'prov/model-' || m, 'prov', 'model-' || m, 'family-' || (m % {FAMILIES}),
                  CAST(pow(10, 7 + 5 * ((m * 7919) % {MODELS}) / {MODELS}) AS BIGINT), NULL
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


PAIRS = {f"task-{t}": [MetricPair(headline="exact", continuous="p_correct")] for t in range(TASKS)}


def time_analyze(store: Store) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of this process, points)."""
    start, cpu = time.perf_counter(), time.process_time()
    with store.reader() as con:
        pool = load_pool(con, {})
    rows = point_rows(analyze(pool, PAIRS, diagnostics=False))
    return time.perf_counter() - start, time.process_time() - cpu, len(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scores", type=int, default=10_000_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--what", choices=("analyze", "report", "both"), default="both")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        import os

        os.environ["EMERGEBENCH_HOME"] = tmp
        store = Store(Path(tmp) / "registry.duckdb")
        t0 = time.perf_counter()
        build(store, args.scores)
        print(f"built {args.scores:,} score rows in {time.perf_counter() - t0:.1f} s")
        from emergebench_report.bundle import javascript_bundle

        t0 = time.perf_counter()
        javascript_bundle()
        print(f"Vega bundle (one-time build or cache read): {time.perf_counter() - t0:.1f} s")
        if args.what in ("analyze", "both"):
            time_analyze(store)  # warm-up
            times, cpus = [], []
            for _ in range(args.reps):
                seconds, cpu, n = time_analyze(store)
                times.append(seconds)
                cpus.append(cpu)
            print(
                f"analyze: {n:,} points; wall median {statistics.median(times):.2f} s "
                f"of {[round(t, 2) for t in times]}; "
                f"CPU median {statistics.median(cpus):.2f} s of {[round(t, 2) for t in cpus]}"
            )
        if args.what in ("report", "both"):
            import emergebench_report.report as report_mod

            report_mod.collect_pairs = lambda: PAIRS  # the synthetic tasks are not installed plugins
            times, cpus, size = [], [], 0
            for _ in range(args.reps):
                t0, c0 = time.perf_counter(), time.process_time()
                outcome = build_report(store, Path(tmp) / "report.html", ReportSettings())
                times.append(time.perf_counter() - t0)
                cpus.append(time.process_time() - c0)
                size = outcome.bytes
            print(
                f"report: {outcome.charts} charts, {size / 1e6:.1f} MB; wall median {statistics.median(times):.2f} s "
                f"of {[round(t, 2) for t in times]}; CPU median {statistics.median(cpus):.2f} s"
            )


if __name__ == "__main__":
    main()
