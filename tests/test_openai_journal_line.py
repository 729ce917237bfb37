"""The journal line a run writes for a known request through the ``openai`` provider, against the
project's fake server, compared field by field with a record written out by hand. Guards the whole
hot path (HTTP client, response parsing, call records, cache, journal serialisation) against a change
that would alter what a run records."""

from __future__ import annotations

import json
import re
from pathlib import Path

from emergebench.cache import CallCache
from emergebench.journal import JOURNAL_FILE
from emergebench.runner import RunOptions, build_spec, run_sync
from emergebench_testing.openai_server import FakeOpenAIServer

CONFIG = {
    "temperature": 0.0,
    "top_p": None,
    "max_tokens": 16,
    "stop": None,
    "seed": None,
    "logprobs": None,
    "top_logprobs": None,
    "response_format": None,
}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def expected(sample_id: str, prompt: str, answer: str) -> dict[str, object]:
    return {
        "schema_version": 2,
        "sample_id": sample_id,
        "epoch": 0,
        "input": prompt,
        "target": answer,
        "answer": answer,
        "output": None,
        "scores": {"accuracy": 1.0},
        "error": None,
        "error_type": None,
        "error_phase": None,
        "calls": [
            {
                "model": "openai/fake",
                "role": "subject",
                "messages": [{"role": "user", "content": prompt}],
                "config": CONFIG,
                "output": answer,
                "usage": {"input_tokens": 10, "output_tokens": 1},  # the fake server counts words (10 in the prompt)
                "logprobs": None,
                "finish_reason": "stop",
                "cached": False,
                "attempts": 1,
                "error": None,
                "salt": None,
                "cost_usd": None,
            }
        ],
        "metadata": {"extracted": answer},
    }


def test_journal_lines_of_a_known_run(emergebench_home: Path, tmp_path: Path) -> None:
    with FakeOpenAIServer() as server:
        spec = build_spec("testtask/qa", "openai/fake", task_args={"n": 2}, model_args={"base_url": server.base_url})
        options = RunOptions(runs_dir=tmp_path / "runs", cache_path=tmp_path / "cache.sqlite", progress=False)
        result = run_sync(spec, options)
    lines = [json.loads(line) for line in (tmp_path / "runs" / result.run_id / JOURNAL_FILE).read_text().splitlines()]
    lines.sort(key=lambda line: line["sample_id"])
    volatile = []
    for line in lines:
        volatile.append((line.pop("run_id"), line.pop("started_at"), line.pop("finished_at")))
        call = line["calls"][0]
        volatile.append((call.pop("cache_key"), call.pop("started_at"), call.pop("latency_s")))
    assert lines == [
        expected("q000000", "What is 25 + 49? Reply with the number only.", "74"),
        expected("q000001", "What is 27 + 3? Reply with the number only.", "30"),
    ]
    run_id, started, finished = volatile[0]
    assert run_id == result.run_id and ISO.match(started) and ISO.match(finished) and started <= finished
    key, call_started, latency = volatile[1]
    assert re.fullmatch(r"[0-9a-f]{64}", key) and ISO.match(call_started) and 0 < latency < 60
    cache = CallCache(tmp_path / "cache.sqlite")
    cached = cache.get(key)
    cache.close()
    assert cached is not None and cached.text == "74" and cached.usage.input_tokens == 10
