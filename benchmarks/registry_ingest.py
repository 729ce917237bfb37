"""Benchmark: ingest of one run journal with N sample rows (default 1,000,000).

The journal is synthetic but has the real SampleResult shape (input, target, answer, two scores and
one model call with a message per line), written by DuckDB so that generating it is quick.
Each repetition ingests into a fresh store. Besides wall time it prints the process CPU time (all
threads), which is steadier than wall time on a shared machine and shows how much parallelism the
run actually got. Each repetition is followed by plain DuckDB reading the same journal into a table of
a fresh file (``CREATE TABLE AS SELECT * FROM read_json(...)``, auto-detected, committed): the floor an
ingest is held against (issue #18). DuckDB's and Python's versions are printed with the figures, and the
CPU the ingest's validation statements take on their own (issue #11: they must cost under 10%).
Usage: python benchmarks/registry_ingest.py [--rows N] [--reps K]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from emergebench.records import ModelInfo, Provenance, RunResult, RunSpec, TaskInfo
from emergebench_registry.ingest import _count_keys, _read_journal, ingest_run_dir, unordered
from emergebench_registry.store import Store


def make_run(run_dir: Path, rows: int) -> RunResult:
    run_dir.mkdir(parents=True)
    spec = RunSpec(task="bench/ingest", task_version="1", model="scripted/constant")
    run_id = run_dir.name
    duckdb.sql(
        f"""COPY (SELECT '{run_id}' AS run_id, 's' || i AS sample_id, 0 AS epoch, 'question ' || i AS input,
              (i % 7)::VARCHAR AS target, (i % 5)::VARCHAR AS answer,
              {{'correct': ((i % 7) = (i % 5))::DOUBLE, 'length': 1.0}} AS scores,
              [{{'model': 'scripted/constant', 'role': 'subject',
                 'messages': [{{'role': 'user', 'content': 'question ' || i}}],
                 'output': (i % 5)::VARCHAR, 'usage': {{'input_tokens': 3, 'output_tokens': 1}},
                 'latency_s': 0.001, 'cached': false, 'attempts': 1,
                 'started_at': '2026-01-01T00:00:00Z'}}] AS calls,
              {{}} AS metadata, '2026-01-01T00:00:00Z' AS started_at, '2026-01-01T00:00:01Z' AS finished_at
            FROM range({rows}) t(i)) TO '{run_dir / "journal.jsonl"}' (FORMAT json)"""
    )
    (run_dir / "spec.json").write_text(spec.model_dump_json())
    now = datetime.now(UTC)
    result = RunResult(
        run_id=run_id,
        spec_id=spec.spec_id,
        spec=spec,
        status="complete",
        task=TaskInfo(name="bench/ingest", version="1", main_metric="correct"),
        model=ModelInfo(id="scripted/constant", provider="scripted", name="constant"),
        n_samples=rows,
        n_expected=rows,
        started_at=now,
        finished_at=now,
        provenance=Provenance(emergebench_version="bench", python="3", platform="bench"),
    )
    (run_dir / "run.json").write_text(result.model_dump_json())
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "runs" / "bench-ingest-run"
        t0 = time.perf_counter()
        result = make_run(run_dir, args.rows)
        size = (run_dir / "journal.jsonl").stat().st_size
        print(f"journal: {args.rows} lines, {size / 1e6:.0f} MB, generated in {time.perf_counter() - t0:.1f} s")
        times, cpus, closes, plain, plain_cpus, checks = [], [], [], [], [], []
        for rep in range(args.reps):
            store = Store(Path(tmp) / f"registry-{rep}.duckdb")
            with store.writer() as con:
                t0, c0 = time.perf_counter(), _cpu()
                report = ingest_run_dir(con, run_dir, result)  # committed: durable from here on
                times.append(time.perf_counter() - t0)
                cpus.append(_cpu() - c0)
                t1 = time.perf_counter()
            closes.append(time.perf_counter() - t1)  # closing the writer checkpoints the store
            with store.reader() as con:
                n = con.sql("SELECT count(*) FROM samples").fetchall()[0][0]
                assert report.samples == n == args.rows, (report.samples, n)
            seconds, cpu = plain_read_json(run_dir / "journal.jsonl", Path(tmp) / f"plain-{rep}.duckdb", args.rows)
            plain.append(seconds)
            plain_cpus.append(cpu)
            checks.append(validation_cpu(run_dir / "journal.jsonl", Path(tmp) / f"checks-{rep}.duckdb"))
            print(
                f"rep {rep}: {times[-1]:.2f} s ({args.rows / times[-1]:,.0f} sample rows/s), CPU {cpus[-1]:.2f} s; "
                f"then closing the store {closes[-1]:.2f} s; plain read_json into a table {seconds:.2f} s "
                f"(CPU {cpu:.2f} s); load {os.getloadavg()[0]:.1f}"
            )
        med = statistics.median(times)
        print(
            f"median of {args.reps}: {med:.2f} s = {args.rows / med:,.0f} sample rows/s "
            f"(plus {2 * args.rows:,} score rows and {args.rows:,} model-call rows); "
            f"median CPU {statistics.median(cpus):.2f} s, close {statistics.median(closes):.2f} s; "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
        )
        plain_med, plain_cpu = statistics.median(plain), statistics.median(plain_cpus)
        print(
            f"plain DuckDB read_json into a table: median {plain_med:.2f} s (CPU {plain_cpu:.2f} s); "
            f"ingest / plain = {med / plain_med:.2f}x wall, {statistics.median(cpus) / plain_cpu:.2f}x CPU; "
            f"DuckDB {duckdb.__version__}, Python {platform.python_version()}"
        )
        print(
            f"validation statements alone (issue #11): median CPU {statistics.median(checks):.3f} s = "
            f"{100 * statistics.median(checks) / statistics.median(cpus):.1f}% of the ingest's CPU"
        )


def validation_cpu(journal: Path, db: Path) -> float:
    """CPU seconds of the ingest's checks on their own, on the parsed journal: the duplicate-key scan and
    the sample/error count compared with run.json (the damage line count runs only when that count falls
    short, which an intact journal never triggers; the per-folder guards add no statement)."""
    con = duckdb.connect(str(db))
    try:
        with unordered(con):
            _read_journal(con, journal, "bench-ingest-run")
        c0 = _cpu()
        _count_keys(con)
        con.execute("SELECT count(*), count(error) FROM _journal").fetchall()
        return _cpu() - c0
    finally:
        con.close()


def plain_read_json(journal: Path, db: Path, rows: int) -> tuple[float, float]:
    """Seconds and CPU seconds for DuckDB alone to read the journal into a table of a new file."""
    con = duckdb.connect(str(db))
    try:
        t0, c0 = time.perf_counter(), _cpu()
        con.execute(f"CREATE TABLE journal AS SELECT * FROM read_json('{journal}', format='newline_delimited')")
        seconds, cpu = time.perf_counter() - t0, _cpu() - c0
        assert con.execute("SELECT count(*) FROM journal").fetchall()[0][0] == rows
    finally:
        con.close()
    return seconds, cpu


def _cpu() -> float:
    """CPU seconds of this process, all threads."""
    usage = os.times()
    return usage.user + usage.system


if __name__ == "__main__":
    main()
