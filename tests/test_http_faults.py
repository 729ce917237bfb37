"""Retries end to end: the core runner drives the openai provider against a real HTTP server on
127.0.0.1 that injects 429 (with Retry-After), 500 and stalls longer than the call timeout.

Each test checks the journal has exactly one line per sample (no duplicates from retries), every
call records the right number of attempts, and the server saw exactly that many requests."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from emergebench.journal import JOURNAL_FILE
from emergebench.records import RunResult, SampleResult
from emergebench.retry import RetryPolicy
from emergebench.runner import RunOptions, build_spec, run_sync
from emergebench_testing.openai_server import FakeOpenAIServer, Reply

N = 6


def run_against(
    server: FakeOpenAIServer, tmp_path: Path, retry: RetryPolicy, n: int = N
) -> tuple[RunResult, list[SampleResult]]:
    spec = build_spec("testtask/qa", "openai/fake", task_args={"n": n}, model_args={"base_url": server.base_url})
    options = RunOptions(
        runs_dir=tmp_path / "runs", cache_path=tmp_path / "cache.sqlite", retry=retry, max_concurrency=4, progress=False
    )
    result = run_sync(spec, options)
    lines = (tmp_path / "runs" / result.run_id / JOURNAL_FILE).read_text().splitlines()
    journal = [SampleResult.model_validate_json(line) for line in lines if line.strip()]
    keys = Counter((r.sample_id, r.epoch) for r in journal)
    assert max(keys.values()) == 1, f"duplicate samples in the journal: {keys.most_common(3)}"
    assert len(journal) == n
    return result, journal


def scripted(*replies: Reply) -> Callable[[dict, int], Reply]:
    """Attempt k of every prompt gets replies[k-1]; later attempts get the last one."""
    return lambda request, attempt: replies[min(attempt, len(replies)) - 1]


FAST = RetryPolicy(max_attempts=4, initial_wait_s=0.01, max_wait_s=2.0, timeout_s=5.0)


def test_429_then_500_then_success(emergebench_home: Path, tmp_path: Path) -> None:
    behaviour = scripted(Reply(status=429, headers={"Retry-After-Ms": "30"}), Reply(status=500), Reply())
    with FakeOpenAIServer(behaviour) as server:
        result, journal = run_against(server, tmp_path, FAST)
    assert result.status == "complete" and result.n_errors == 0
    assert [c.attempts for r in journal for c in r.calls] == [3] * N
    assert all(r.scores == {"accuracy": 1.0} for r in journal)
    assert sorted(server.attempts.values()) == [3] * N and server.requests == 3 * N
    assert result.model_calls == N


def test_retry_after_seconds_is_honoured(emergebench_home: Path, tmp_path: Path) -> None:
    behaviour = scripted(Reply(status=429, headers={"Retry-After": "1"}), Reply())
    with FakeOpenAIServer(behaviour) as server:
        started = time.perf_counter()
        _, journal = run_against(server, tmp_path, FAST, n=2)
        elapsed = time.perf_counter() - started
    assert elapsed >= 1.0, "the 1 s Retry-After was not waited for (backoff alone is ~0.01 s)"
    assert [c.attempts for r in journal for c in r.calls] == [2, 2]
    assert all(c.latency_s >= 1.0 for r in journal for c in r.calls)


def test_stalled_requests_time_out_and_are_retried(emergebench_home: Path, tmp_path: Path) -> None:
    behaviour = scripted(Reply(delay_s=3.0), Reply())
    policy = RetryPolicy(max_attempts=3, initial_wait_s=0.01, max_wait_s=1.0, timeout_s=0.4)
    with FakeOpenAIServer(behaviour) as server:
        started = time.perf_counter()
        result, journal = run_against(server, tmp_path, policy, n=4)
        elapsed = time.perf_counter() - started
    assert result.status == "complete" and result.n_errors == 0
    assert [c.attempts for r in journal for c in r.calls] == [2] * 4
    assert elapsed < 3.0, "a stalled call was waited out instead of timed out"
    assert sorted(server.attempts.values()) == [2] * 4


def test_persistent_failure_fails_one_sample_after_max_attempts(emergebench_home: Path, tmp_path: Path) -> None:
    from emergebench_testtask import ArithmeticQA, QAArgs

    doomed = ArithmeticQA(QAArgs(n=N)).dataset(0)[0].input  # sample q000000 always gets 503

    def behaviour(request: dict, attempt: int) -> Reply:
        return Reply(status=503) if request["messages"][-1]["content"] == doomed else Reply()

    policy = RetryPolicy(max_attempts=3, initial_wait_s=0.01, max_wait_s=0.05, timeout_s=5.0)
    with FakeOpenAIServer(behaviour) as server:
        result, journal = run_against(server, tmp_path, policy)
    failed = [r for r in journal if r.error]
    assert len(failed) == 1 and failed[0].sample_id == "q000000" and "HTTP 503" in failed[0].error
    assert failed[0].calls[0].attempts == 3 and failed[0].calls[0].error
    assert result.n_errors == 1 and result.errors == {"TransientModelError": 1}
    assert sorted(server.attempts.values()) == [1] * (N - 1) + [3]


def test_client_errors_are_not_retried(emergebench_home: Path, tmp_path: Path) -> None:
    behaviour = scripted(Reply(status=400, body={"error": {"message": "bad request: unsupported stop"}}))
    with FakeOpenAIServer(behaviour) as server:
        result, journal = run_against(server, tmp_path, FAST, n=3)
    assert result.n_errors == 3 and set(result.errors) == {"ModelError"}
    assert all(r.calls[0].attempts == 1 and "unsupported stop" in r.error for r in journal)
    assert server.requests == 3


def test_retried_run_is_cached_for_the_next(emergebench_home: Path, tmp_path: Path) -> None:
    behaviour = scripted(Reply(status=500), Reply())
    with FakeOpenAIServer(behaviour) as server:
        first, _ = run_against(server, tmp_path, FAST, n=3)
        spec_dir = tmp_path / "runs" / first.run_id
        assert json.loads((spec_dir / "run.json").read_text())["status"] == "complete"
        requests = server.requests
        spec = build_spec("testtask/qa", "openai/fake", task_args={"n": 3}, model_args={"base_url": server.base_url})
        again = run_sync(
            spec, RunOptions(runs_dir=tmp_path / "runs2", cache_path=tmp_path / "cache.sqlite", retry=FAST)
        )
    assert again.cached_calls == 3 and server.requests == requests
