"""The floor of a run's request phase against the benchmarks' fixed-latency server (issue #18).

64 chains of sequential chat requests through the openai provider's own HTTP pool (``h1.H1Pool``),
no runner, no journal, no registry: the quickest any client can get through N requests of
``--latency`` seconds with 64 in flight against ``cli_runs.TimedServer``. The wave bound alone is
ceil(N / 64) x latency; what the bare client adds on top is the server's and the loop's own cost.
``cli_bench.py`` and ``peers.py`` report a tool's "% of ideal, first request to exit" against
N x latency / 64; this prints the same figure for the bare client, so a tool's figure can be read
against what is reachable at all.

    .venv/bin/python benchmarks/request_floor.py --sizes 1000,5000 --reps 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

from cli_runs import TimedServer, loadavg
from emergebench_openai.h1 import H1Pool, request_head, with_body

CONCURRENCY = 64


async def _drive(port: int, n: int) -> None:
    pool = H1Pool("http", "127.0.0.1", port, limit=CONCURRENCY)
    head = request_head("POST", "/v1/chat/completions", f"127.0.0.1:{port}", {"Content-Type": "application/json"})
    todo = list(range(n))

    async def chain() -> None:
        while todo:
            i = todo.pop()
            prompt = {"role": "user", "content": f"What is {i} + 1?"}
            body = json.dumps({"model": "bench", "messages": [prompt], "max_tokens": 16}).encode()
            status, _, data = await pool.request(with_body(head, body), 30.0)
            assert status == 200, status
            json.loads(data)

    await asyncio.gather(*(chain() for _ in range(CONCURRENCY)))
    pool.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,5000")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.2)
    args = parser.parse_args()
    with TimedServer(args.latency) as server:
        port = int(server.base_url.rsplit(":", 1)[1].split("/")[0])
        for n in (int(s) for s in args.sizes.split(",")):
            ideal = n * args.latency / CONCURRENCY
            waves = -(-n // CONCURRENCY) * args.latency
            shares, spans = [], []
            for _ in range(args.reps):
                server.reset()
                started = time.monotonic()
                asyncio.run(_drive(port, n))
                total = time.monotonic() - started
                assert server.first is not None and server.last is not None and server.count == n
                shares.append(ideal / total)
                spans.append(server.last - server.first)
            print(
                f"N={n}: bare client {100 * statistics.median(shares):.1f}% of the ideal {ideal:.3f} s "
                f"(reps {', '.join(f'{100 * s:.1f}%' for s in shares)}); wave bound {100 * ideal / waves:.2f}%; "
                f"first to last request {statistics.median(spans):.3f} s against {waves - args.latency:.3f} s "
                f"for the waves; load {loadavg()}"
            )


if __name__ == "__main__":
    main()
