"""Benchmark: `emergebench import-results` of many files, timed as a user runs it (a subprocess).

Generates, in a temporary folder, N inspect_ai logs (the real inspect-addition.json fixture with a new
eval_id and run_id each: N distinct runs) and N lm-eval results + `--log_samples` files (the real
fixture pair with a new date, so new file names and hashes: N distinct runs), then imports each set
into a fresh registry with `emergebench import-results FORMAT DIR`. Per format it reports the median of
REPS runs of: wall time, CPU time of the child (user + system, from wait4), peak memory of the child
(VmHWM polled from its own /proc/<pid>/status, never the parent's ru_maxrss), rows written (runs,
samples, scores, metrics, from the registry afterwards) and rows per second, with the load average.

Usage: python benchmarks/import_results.py [--files 1000] [--reps 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "registry" / "tests" / "fixtures" / "imports"
CLI = Path(sys.executable).with_name("emergebench")


def make_inspect(folder: Path, n: int) -> None:
    log = json.loads((FIXTURES / "inspect-addition.json").read_text())
    folder.mkdir(parents=True)
    for i in range(n):
        log["eval"]["eval_id"] = f"bench-eval-{i:06d}"
        log["eval"]["run_id"] = f"bench-run-{i:06d}"
        (folder / f"log-{i:06d}.json").write_text(json.dumps(log))


def make_lm_eval(folder: Path, n: int) -> None:
    (results_path,) = (FIXTURES / "lm-eval").glob("results_*.json")
    (samples_path,) = (FIXTURES / "lm-eval").glob("samples_*.jsonl")
    results = json.loads(results_path.read_text())
    samples = samples_path.read_bytes()
    base = float(results["date"])
    for i in range(n):
        stamp = f"2026-01-01T00-00-00.{i:06d}"
        out = folder / f"model-{i:06d}"  # lm-eval writes one folder per model
        out.mkdir(parents=True)
        results["date"] = base + i
        (out / f"results_{stamp}.json").write_text(json.dumps(results))
        (out / f"samples_addition_{stamp}.jsonl").write_bytes(samples)


def run_timed(args: list[str], env: dict[str, str]) -> tuple[float, float, int, subprocess.CompletedProcess[str]]:
    """Wall seconds, CPU seconds (user + system, from wait4) and peak RSS in bytes (VmHWM, polled from
    the child's own /proc status while it runs) of one child process."""
    started = time.perf_counter()
    out, err = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")
    child = subprocess.Popen(args, env=env, stdout=out, stderr=err, text=True)
    status = Path(f"/proc/{child.pid}/status")
    peak = 0
    while True:
        pid, code, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) * 1024)
        except OSError:
            pass
        time.sleep(0.02)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(code)
    out.seek(0), err.seek(0)
    done = subprocess.CompletedProcess(args, child.returncode, out.read(), err.read())
    return wall, usage.ru_utime + usage.ru_stime, peak, done


def count_rows(registry: Path) -> dict[str, int]:
    con = duckdb.connect(str(registry), read_only=True)
    try:
        return {
            t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("runs", "samples", "scores", "metrics")
        }
    finally:
        con.close()


def bench(fmt: str, folder: Path, reps: int, tmp: Path) -> dict[str, object]:
    walls, cpus, peaks, loads = [], [], [], []
    rows: dict[str, int] = {}
    for rep in range(reps):
        home = tmp / f"home-{fmt}-{rep}"
        env = {**os.environ, "EMERGEBENCH_HOME": str(home), "EMERGEBENCH_LOAD_PLUGINS": "registry"}
        env.pop("EMERGEBENCH_REGISTRY", None)
        loads.append(Path("/proc/loadavg").read_text().split()[0])
        wall, cpu, peak, done = run_timed([str(CLI), "import-results", fmt, str(folder)], env)
        if done.returncode != 0:
            raise SystemExit(f"import-results {fmt} failed ({done.returncode}): {done.stderr[-2000:]}")
        rows = count_rows(home / "registry.duckdb")
        walls.append(wall)
        cpus.append(cpu)
        peaks.append(peak)
        shutil.rmtree(home)
    total = sum(rows.values())
    wall = statistics.median(walls)
    return {
        "format": fmt,
        "runs": rows["runs"],
        "rows": total,
        "rows_detail": rows,
        "wall_s": round(wall, 2),
        "walls": [round(w, 2) for w in walls],
        "cpu_s": round(statistics.median(cpus), 2),
        "rows_per_s": round(total / wall),
        "runs_per_s": round(rows["runs"] / wall, 1),
        "peak_mb": round(statistics.median(peaks) / 1e6, 1),
        "peaks_mb": [round(p / 1e6, 1) for p in peaks],
        "load_1min": loads,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1000, help="files per format (default 1000)")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--only", choices=["inspect", "lm-eval"], action="append")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        makers = {"inspect": make_inspect, "lm-eval": make_lm_eval}
        for fmt in args.only or list(makers):
            folder = tmp / fmt
            makers[fmt](folder, args.files)
            print(json.dumps(bench(fmt, folder, args.reps, tmp)), flush=True)


if __name__ == "__main__":
    main()
