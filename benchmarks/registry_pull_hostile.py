"""Benchmark: peak memory and time of a pull from a repo holding good runs plus a hostile corpus.

The repo (local HubServer, real huggingface_hub client) holds BASE good runs (6 shards each) and:
a ~24 KB samples shard whose one answer is a 600 MB string (the issue's 4.5 GB case), a row flood
(one shard of 6,000,000 rows of one repeated string, ~1 GB once decoded), a truncated shard, a
garbage shard, five listing names that traverse or use unicode tricks, and a garbage README. Each
repetition pulls into a fresh store in a child process and reads its peak RSS (ru_maxrss), so the
figure is the whole pull: client, validation and DuckDB. Prints the median over repetitions.
Usage: python benchmarks/registry_pull_hostile.py [--base 20] [--reps 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from emergebench_registry.shards import shard_path  # noqa: E402
from emergebench_testing.hubserver import HubServer  # noqa: E402
from registry_pull import shard_bytes, template  # noqa: E402

REPO = "bench/hostile"
BOMBS = {
    "one huge cell": 'n, answer = 1, ["a" * 600_000_000]',
    "row flood": 'n = 6_000_000; answer = pa.array(["the same answer, many times over"] * n)',
}
PULL = """
import json, resource, sys, time
from emergebench_registry.store import Store
from emergebench_registry.sync import pull
t0 = time.perf_counter()
report = pull(Store(sys.argv[1]), sys.argv[2], sys.argv[3])
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"peak": peak, "seconds": seconds, "rejected": report.rejected, "imported": len(report.imported)}))
"""


def bomb(path: Path, recipe: str, run_id: str) -> bytes:
    """Write a bomb shard in a child process (building it costs the memory the pull must not)."""
    code = textwrap.dedent(
        f"""
        import pyarrow as pa, pyarrow.parquet as pq
        from emergebench_registry.schema import SHARD_SCHEMAS
        schema = SHARD_SCHEMAS["samples"]
        {recipe}
        cols = {{f.name: pa.nulls(n, f.type) for f in schema}}
        cols["run_id"] = pa.array([{run_id!r}] * n)
        cols["sample_id"] = pa.array(["s"] * n)
        cols["epoch"] = pa.array([1] * n, pa.int64())
        cols["answer"] = pa.array(answer) if isinstance(answer, list) else answer
        pq.write_table(pa.table(cols, schema=schema), {str(path)!r}, compression="zstd")
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    return path.read_bytes()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", type=int, default=20)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        os.environ["HF_HOME"] = str(tmp / "hf")
        tables = template(tmp)
        files: dict[str, bytes] = {}
        for i in range(args.base):
            files.update(shard_bytes(tables, f"good-{i:04d}"))
        good = next(iter(files.values()))
        for i, (name, recipe) in enumerate(BOMBS.items()):
            run_id = f"bomb-{i}"
            data = bomb(tmp / f"{run_id}.parquet", recipe, run_id)
            print(f"{name}: {len(data)} bytes on disk")
            files[shard_path("samples", "regtest/quiz", run_id)] = data
        files[shard_path("samples", "regtest/quiz", "truncated")] = good[: len(good) // 2]
        files[shard_path("samples", "regtest/quiz", "garbage")] = b"PAR1" + os.urandom(4096) + b"PAR1"
        for name in (
            "data/../../x.parquet",
            "data/runs/../../../../tmp/evil/x.parquet",
            "data/runs/regtest/qu\u0456z/x.parquet",
            "data/runs/regtest/quiz/x\u202e.parquet",
            "data/evil/regtest/x.parquet",
        ):
            files[name] = good
        files["README.md"] = b"\xff\xfe" + os.urandom(2048)
        with HubServer() as hub:
            env = dict(os.environ, HF_TOKEN=hub.token)
            hub.create_repo(REPO, repo_type="dataset")
            hub.put_files(REPO, files, repo_type="dataset", hostile_names=True)
            peaks, times = [], []
            for rep in range(args.reps):
                out = subprocess.run(
                    [sys.executable, "-c", PULL, str(tmp / f"store-{rep}.duckdb"), REPO, hub.endpoint],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                result = json.loads(out.stdout)
                peaks.append(result["peak"] / 1024**2)
                times.append(result["seconds"])
                assert result["imported"] == args.base, result
                print(
                    f"rep {rep}: peak RSS {peaks[-1]:.0f} MB, {times[-1]:.2f} s, imported {result['imported']} runs, "
                    f"refused {len(result['rejected'])} file(s)"
                )
            for path, why in sorted(result["rejected"].items()):
                print(f"  refused {path!r}: {why[:150]}")
    print(
        f"median peak RSS {statistics.median(peaks):.0f} MB (reps {min(peaks):.0f}-{max(peaks):.0f}), "
        f"median pull {statistics.median(times):.2f} s for {args.base} good runs + the hostile corpus"
    )


if __name__ == "__main__":
    main()
