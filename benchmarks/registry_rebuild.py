"""Benchmark: ingest of many small run folders, and `registry rebuild` of a store of 1,000 runs.

Makes N run folders (default 1,000) of S samples each (default 50; the synthetic journal shape of
registry_ingest.py), then per repetition:
- ``ingest``: ``ingest_changed`` of all N folders into a fresh store (the per-folder checks of
  issue #11 run once per folder, so this is where their cost would show; the same call exists in
  older code, so running this script with an older ``registry/src`` first on PYTHONPATH gives the
  "before" figure);
- ``rebuild`` (when the installed registry has it): the store is damaged (truncated) and
  ``rebuild()`` recreates it from the run folders plus K pulled runs kept as shards (default 100 of
  the N, so the rebuilt store holds N runs), checking that every table has the same row count.
Each rebuild runs as ``emergebench registry rebuild`` in a child process (``--in-process`` calls
``rebuild()`` here instead), timed by wall clock and by the child's CPU time (RUSAGE_CHILDREN), with
the load average before and after, since the machine it was measured on is shared.
Usage: python benchmarks/registry_rebuild.py [--runs N] [--samples S] [--kept K] [--reps R] [--ingest-reps I]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from emergebench_registry.ingest import ingest_changed  # noqa: E402
from emergebench_registry.store import Store  # noqa: E402
from registry_ingest import make_run  # noqa: E402

TABLES = ("runs", "samples", "scores", "model_calls", "metrics")


def counts(store: Store) -> dict[str, int]:
    with store.reader() as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in TABLES}


def keep_as_pulled(store: Store, runs_dir: Path, run_ids: list[str]) -> None:
    """Turn these runs into pulled runs: their shards kept beside the store, their folders gone."""
    from emergebench_registry.kept import keep
    from emergebench_registry.shards import apply_bundles, bundle, export_runs, read_shard

    out = runs_dir.parent / "export"
    with store.reader() as con:
        export_runs(con, out, run_ids)
    runs, problems = bundle([read_shard(p) for p in sorted(out.rglob("*.parquet"))])
    assert not problems, problems
    with store.writer() as con:
        for run_id in run_ids:
            for table in (*TABLES, "ingest_log"):
                con.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])
    with store.writer() as con:
        apply_bundles(con, runs, "hub:bench/pool", "hub:bench/pool@main")
    keep(store.path, runs, "hub:bench/pool", "hub:bench/pool@main")
    for run_id in run_ids:
        shutil.rmtree(runs_dir / run_id)
    shutil.rmtree(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--kept", type=int, default=100)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--ingest-reps", type=int, default=None, help="repetitions of the ingest (default: --reps)")
    parser.add_argument("--in-process", action="store_true", help="call rebuild() here instead of the CLI")
    args = parser.parse_args()
    has_rebuild = importlib.util.find_spec("emergebench_registry.rebuild") is not None
    with tempfile.TemporaryDirectory() as tmp:
        runs_dir = Path(tmp) / "runs"
        t0 = time.perf_counter()
        for i in range(args.runs):
            make_run(runs_dir / f"bench-run-{i:05d}", args.samples)
        print(f"{args.runs} run folders of {args.samples} samples made in {time.perf_counter() - t0:.1f} s")
        ingest_times = []
        ingest_reps = args.reps if args.ingest_reps is None else args.ingest_reps
        for rep in range(ingest_reps):
            store = Store(Path(tmp) / f"ingest-{rep}.duckdb")
            with store.writer():
                pass
            t0 = time.perf_counter()
            reports = ingest_changed(store, runs_dir)
            ingest_times.append(time.perf_counter() - t0)
            assert len(reports) == args.runs and not [r for r in reports if r.status.startswith("skipped")]
            print(f"ingest rep {rep}: {ingest_times[-1]:.2f} s ({args.runs / ingest_times[-1]:.0f} runs/s)")
        if ingest_times:
            med = statistics.median(ingest_times)
            print(
                f"ingest median of {ingest_reps}: {med:.2f} s = {args.runs / med:.0f} runs/s, "
                f"{args.runs * args.samples / med:,.0f} sample rows/s"
            )
        if not has_rebuild:
            print("this registry has no rebuild(): ingest figure only")
            return
        from emergebench_registry.rebuild import rebuild

        store = Store(Path(tmp) / "registry.duckdb")
        ingest_changed(store, runs_dir)
        keep_as_pulled(store, runs_dir, [f"bench-run-{i:05d}" for i in range(args.kept)])
        before = counts(store)
        assert before["runs"] == args.runs, before
        rebuild_times, rebuild_cpus = [], []
        env = {**os.environ, "EMERGEBENCH_HOME": tmp, "EMERGEBENCH_LOAD_PLUGINS": "registry"}
        for rep in range(args.reps):
            os.truncate(store.path, store.path.stat().st_size // 2)
            load = _loadavg()
            cpu0, t0 = _children_cpu(), time.perf_counter()
            if args.in_process:
                report = rebuild(Store(store.path), runs_dir)
                assert not report.rejected, report.rejected
            else:  # the real command, in a child process: its CPU time is RUSAGE_CHILDREN's
                done = subprocess.run(
                    [sys.executable, "-m", "emergebench", "registry", "rebuild", "--registry", str(store.path)],
                    env=env,
                    capture_output=True,
                    text=True,
                )
                assert done.returncode == 0, done.stderr
            rebuild_times.append(time.perf_counter() - t0)
            rebuild_cpus.append(_children_cpu() - cpu0)
            assert counts(Store(store.path)) == before
            for aside in store.path.parent.glob(store.path.name + ".replaced-*"):
                aside.unlink()
            print(
                f"rebuild rep {rep}: wall {rebuild_times[-1]:.2f} s, CPU {rebuild_cpus[-1]:.2f} s "
                f"(load average {load} before, {_loadavg()} after)"
            )
        which = "in-process rebuild()" if args.in_process else "`emergebench registry rebuild` (child CPU)"
        print(
            f"{which}, median of {args.reps}: wall {statistics.median(rebuild_times):.2f} s, CPU "
            f"{statistics.median(rebuild_cpus) if not args.in_process else float('nan'):.2f} s for {args.runs} "
            f"runs ({args.runs - args.kept} folders + {args.kept} kept) on {os.cpu_count()} CPUs"
        )


def _loadavg() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
