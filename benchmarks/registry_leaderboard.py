"""Benchmark: the leaderboard query over a registry with N score rows (default 10,000,000).

Synthetic store: 20 tasks x 50 models, one finished run each plus an older run per pair, 5,000
samples per run, two score names. No runs have aggregate metrics, so the leaderboard computes mean
and stderr from the score rows themselves (its most expensive path).
Usage: python benchmarks/registry_leaderboard.py [--scores N] [--reps K]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from emergebench_registry.query import leaderboard
from emergebench_registry.store import Store

TASKS, MODELS, NAMES = 20, 50, ("correct", "length")


def build(store: Store, n_scores: int) -> None:
    runs = TASKS * MODELS * 2
    samples = n_scores // (runs * len(NAMES))
    values = ", ".join(f"('{x}')" for x in NAMES)
    with store.writer() as con:
        con.execute(
            f"""INSERT INTO runs (run_id, spec_id, status, task, task_version, main_metric, model_id, seed, epochs,
                  n_samples, started_at, finished_at)
                SELECT 'run-' || r, 'spec', 'complete', 'task-' || (r % {TASKS}), '1', 'correct',
                       'prov/model-' || ((r // {TASKS}) % {MODELS}), 0, 1, {samples},
                       TIMESTAMPTZ '2026-01-01' + INTERVAL (r) MINUTE, TIMESTAMPTZ '2026-01-01' + INTERVAL (r) MINUTE
                FROM range({runs}) t(r)"""
        )
        con.execute(
            f"""INSERT INTO model_sources
                SELECT 'prov/model-' || m, 'prov', 'model-' || m, 'fam', (m + 1) * 1000000, NULL, 'local'
                FROM range({MODELS}) t(m)"""
        )
        con.execute(
            f"""INSERT INTO scores SELECT 'run-' || r, 's' || s, 0, n.name,
                       CASE WHEN n.name = 'correct' THEN ((hash(r, s) % 100) < 40 + r % 50)::DOUBLE ELSE s % 13 END
                FROM range({runs}) a(r), range({samples}) b(s), (VALUES {values}) n(name)"""
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scores", type=int, default=10_000_000)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "registry.duckdb")
        t0 = time.perf_counter()
        build(store, args.scores)
        n = store_count(store)
        print(f"built {n:,} score rows in {time.perf_counter() - t0:.1f} s")
        times = []
        for rep in range(args.reps):
            t0 = time.perf_counter()
            result = leaderboard(store)
            times.append(time.perf_counter() - t0)
            assert len(result.rows) == TASKS * MODELS, len(result.rows)
            print(f"rep {rep}: {times[-1]:.3f} s ({len(result.rows)} leaderboard rows)")
        print(f"median of {args.reps}: {statistics.median(times):.3f} s over {n:,} score rows")


def store_count(store: Store) -> int:
    with store.reader() as con:
        return con.execute("SELECT count(*) FROM scores").fetchall()[0][0]


if __name__ == "__main__":
    main()
