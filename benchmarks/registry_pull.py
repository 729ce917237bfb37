"""Benchmark: incremental pull from a Hub repo (local HubServer, real huggingface_hub client).

The repo starts with BASE runs (6 shards each, so 1,020 shards for the default 170), which a store
pulls once (timed). Then, K times, 10 new runs are pushed and pulled again (timed): the incremental
pull must cost in proportion to the new shards, not the repo's size. Also times a pull with nothing new.
Shards are downloaded on EMERGEBENCH_SYNC_DOWNLOADS threads (default 8; set it to 1 to compare with
one-at-a-time downloads).
Usage: python benchmarks/registry_pull.py [--base 170] [--new 10] [--reps 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from emergebench_registry.shards import shard_path
from emergebench_registry.store import Store
from emergebench_registry.sync import pull
from emergebench_testing.hubserver import HubServer

REPO = "bench/pool"


def template(tmp: Path) -> dict[str, pa.Table]:
    """One real run's six shard tables (a 20-sample scripted run) to clone under new run ids."""
    os.environ["EMERGEBENCH_HOME"] = str(tmp / "home")
    os.environ["EMERGEBENCH_LOAD_PLUGINS"] = "registry"
    from emergebench.plugins import PluginManager
    from emergebench.runner import RunOptions, build_spec, run_sync
    from emergebench_registry.shards import export_runs

    manager = PluginManager()
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "registry" / "tests"))
    from registry_testplugin import RegTestPlugin

    manager.register_module(RegTestPlugin, "regtest")
    result = run_sync(
        build_spec("regtest/quiz", "scripted/echo", task_args={"n": 20}, manager=manager),
        RunOptions(progress=False),
        manager,
    )
    with Store().reader() as con:
        export_runs(con, tmp / "tpl", [result.run_id])
    tables = {}
    for path in (tmp / "tpl").rglob("*.parquet"):
        tables[path.parts[-4]] = pq.read_table(path)
    return tables


def shard_bytes(tables: dict[str, pa.Table], run_id: str) -> dict[str, bytes]:
    out = {}
    for name, table in tables.items():
        if "run_id" in table.column_names:
            idx = table.schema.get_field_index("run_id")
            table = table.set_column(idx, "run_id", pa.array([run_id] * table.num_rows, pa.string()))
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd")
        out[shard_path(name, "regtest/quiz", run_id)] = sink.getvalue().to_pybytes()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", type=int, default=170)
    parser.add_argument("--new", type=int, default=10)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        os.environ["HF_HOME"] = str(tmp / "hf")
        tables = template(tmp)
        with HubServer() as hub:
            os.environ["HF_TOKEN"] = hub.token
            hub.create_repo(REPO, repo_type="dataset")
            files: dict[str, bytes] = {}
            for i in range(args.base):
                files.update(shard_bytes(tables, f"base-{i:05d}"))
            hub.put_files(REPO, files, repo_type="dataset", message="base")
            store = Store(tmp / "puller.duckdb")
            t0 = time.perf_counter()
            first = pull(store, REPO, hub.endpoint)
            full = time.perf_counter() - t0
            print(f"initial pull: {len(first.downloaded)} shards, {len(first.imported)} runs in {full:.2f} s")
            times, downloads = [], []
            for rep in range(args.reps):
                new: dict[str, bytes] = {}
                for i in range(args.new):
                    new.update(shard_bytes(tables, f"new-{rep}-{i:03d}"))
                hub.put_files(REPO, new, repo_type="dataset", message=f"new {rep}")
                total = len(hub.files(REPO, repo_type="dataset"))
                hub.clear_requests()
                t0 = time.perf_counter()
                report = pull(store, REPO, hub.endpoint)
                times.append(time.perf_counter() - t0)
                gets = [p for m, p in hub.requests if m == "GET" and "/resolve/" in p]
                downloads.append(len(gets))
                assert len(report.imported) == args.new and len(gets) == 6 * args.new
                print(
                    f"rep {rep}: repo {total} shards, {len(report.downloaded)} new -> {times[-1]:.2f} s, "
                    f"{len(hub.requests)} HTTP requests"
                )
            hub.clear_requests()
            t0 = time.perf_counter()
            noop = pull(store, REPO, hub.endpoint)
            noop_s = time.perf_counter() - t0
            assert noop.up_to_date
            med = statistics.median(times)
            print(
                f"median incremental pull ({args.new} runs, {6 * args.new} shards new): {med:.2f} s "
                f"vs initial {full:.2f} s for {len(first.downloaded)} shards; "
                f"no-op pull {noop_s * 1000:.0f} ms with {len(hub.requests)} request(s)"
            )


if __name__ == "__main__":
    main()
