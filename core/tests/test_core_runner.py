import asyncio
import json
from typing import Any

import pytest
from emergebench import Model, ModelInfo, ModelOutput, ModelProvider, TransientModelError, hookimpl
from emergebench.errors import UsageError
from emergebench.journal import iter_journal
from emergebench.retry import RetryPolicy
from emergebench.runner import build_spec, run_sync


def test_run_scores_every_sample_and_journals_it(manager, options):
    spec = build_spec(
        "core-test/add", "scripted/function", model_args={"function": "coretest_plugin:solve_sum"}, manager=manager
    )
    result = run_sync(spec, options, manager)
    assert result.status == "complete"
    assert (result.n_samples, result.n_errors, result.model_calls) == (20, 0, 20)
    (acc,) = result.metrics
    assert (acc.name, acc.value, acc.n) == ("accuracy", 1.0, 20)
    journal = list(iter_journal(options.runs_dir / result.run_id / "journal.jsonl"))
    assert sorted(r.sample_id for r in journal) == sorted(f"q{i}" for i in range(20))
    assert all(r.run_id == result.run_id and len(r.calls) == 1 for r in journal)


def test_failing_samples_are_recorded_and_the_run_goes_on(manager, options):
    spec = build_spec("core-test/add", "scripted/echo", task_args={"fail_every": 5}, manager=manager)
    result = run_sync(spec, options, manager)
    assert result.status == "partial", "a run with failed samples is never complete"
    assert (result.n_samples, result.n_errors) == (20, 4) and result.errors == {"ValueError": 4}
    errored = [r for r in iter_journal(options.runs_dir / result.run_id / "journal.jsonl") if r.error]
    assert {r.sample_id for r in errored} == {"q0", "q5", "q10", "q15"}
    assert "fails on purpose" in errored[0].error


def test_rerun_hits_the_cache_with_zero_model_calls(manager, options):
    spec = build_spec("core-test/add", "scripted/echo", manager=manager)
    first = run_sync(spec, options, manager)
    options.fresh = True
    second = run_sync(spec, options, manager)
    assert first.run_id != second.run_id
    assert (first.model_calls, first.cached_calls) == (20, 0)
    assert (second.model_calls, second.cached_calls) == (0, 20)
    options.use_cache = False
    third = run_sync(spec, options, manager)
    assert (third.model_calls, third.cached_calls) == (20, 0)


def test_epochs_and_seed_give_distinct_cache_keys(manager, options):
    spec = build_spec("core-test/add", "scripted/echo", epochs=2, task_args={"n": 3}, manager=manager)
    result = run_sync(spec, options, manager)
    assert result.n_samples == 6 and result.model_calls == 6


def serve_model(manager: Any, prefix: str, model: Model) -> None:
    """Register an in-process provider whose every id resolves to ``model``."""

    class Provider:
        @staticmethod
        @hookimpl
        def register_models(register: Any) -> None:
            register(ModelProvider(prefix=prefix, factory=lambda name, opts: model))

    manager.register_module(Provider, prefix)


class TrackingModel(Model):
    def __init__(self) -> None:
        super().__init__("tracking/m", ModelInfo(id="tracking/m", provider="tracking", name="m"))
        self.in_flight = 0
        self.peak = 0

    async def generate(self, messages, config):
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        await asyncio.sleep(0.01)
        self.in_flight -= 1
        return ModelOutput(text="0")


@pytest.mark.parametrize("limit", [1, 3, 7])
def test_concurrency_bound_is_respected(manager, options, limit):
    model = TrackingModel()

    serve_model(manager, "tracking", model)
    spec = build_spec("core-test/fanout", "tracking/m", manager=manager)
    options.max_concurrency = limit
    run_sync(spec, options, manager)
    assert model.peak == limit


class FlakyModel(Model):
    """Fails each prompt's first two attempts with a transient error, then answers."""

    def __init__(self) -> None:
        super().__init__("flaky/m", ModelInfo(id="flaky/m", provider="flaky", name="m"))
        self.attempts: dict[str, int] = {}

    async def generate(self, messages, config):
        key = messages[-1].content
        self.attempts[key] = self.attempts.get(key, 0) + 1
        if self.attempts[key] <= 2:
            raise TransientModelError("429 slow down", retry_after=0.0, status=429)
        return ModelOutput(text="x")


def test_transient_errors_are_retried_without_duplicate_samples(manager, options):
    model = FlakyModel()

    serve_model(manager, "flaky", model)
    spec = build_spec("core-test/add", "flaky/m", task_args={"n": 5}, manager=manager)
    options.retry = RetryPolicy(max_attempts=3, initial_wait_s=0.001, max_wait_s=0.01)
    result = run_sync(spec, options, manager)
    journal = list(iter_journal(options.runs_dir / result.run_id / "journal.jsonl"))
    lines = (options.runs_dir / result.run_id / "journal.jsonl").read_text().splitlines()
    assert len(lines) == len(journal) == 5
    assert result.n_errors == 0
    assert all(call.attempts == 3 for r in journal for call in r.calls)


def test_retries_give_up_with_a_recorded_error(manager, options):
    model = FlakyModel()

    serve_model(manager, "flaky", model)
    spec = build_spec("core-test/add", "flaky/m", task_args={"n": 2}, manager=manager)
    options.retry = RetryPolicy(max_attempts=2, initial_wait_s=0.001, max_wait_s=0.01)
    result = run_sync(spec, options, manager)
    assert result.n_errors == 2 and result.errors == {"TransientModelError": 2}
    journal = list(iter_journal(options.runs_dir / result.run_id / "journal.jsonl"))
    assert journal[0].calls[0].error.startswith("TransientModelError") and journal[0].calls[0].attempts == 2


def test_unfinished_run_is_resumed_by_rerunning_the_same_spec(manager, options):
    model = TrackingModel()
    model.calls = 0
    original = model.generate

    async def counting(messages, config):
        model.calls += 1
        return await original(messages, config)

    model.generate = counting

    serve_model(manager, "tracking", model)
    spec = build_spec("core-test/add", "tracking/m", manager=manager)
    first = run_sync(spec, options, manager)
    run_dir = options.runs_dir / first.run_id
    # Simulate a kill after 7 samples: truncate the journal mid-line and mark the run unfinished.
    lines = (run_dir / "journal.jsonl").read_bytes().splitlines(keepends=True)
    (run_dir / "journal.jsonl").write_bytes(b"".join(lines[:7]) + lines[7][:40])
    data = json.loads((run_dir / "run.json").read_text())
    data["status"] = "running"
    data["pid"] = 2**22 + 12345  # the killed writer is gone
    (run_dir / "run.json").write_text(json.dumps(data))
    options.use_cache = False
    model.calls = 0
    resumed = run_sync(spec, options, manager)
    assert resumed.run_id == first.run_id
    assert model.calls == 13
    assert resumed.n_samples == 20 and resumed.status == "complete"
    assert len(list(iter_journal(run_dir / "journal.jsonl"))) == 20


def test_resume_flag_without_unfinished_run_is_a_clear_error(manager, options):
    spec = build_spec("core-test/add", "scripted/echo", manager=manager)
    options.resume = True
    with pytest.raises(UsageError, match="no unfinished run"):
        run_sync(spec, options, manager)


def test_bad_task_args_name_the_value_and_the_accepted_keys(manager):
    with pytest.raises(UsageError, match=r"n: .*got 'many'.*Accepted keys: n, fail_every"):
        build_spec("core-test/add", "scripted/echo", task_args={"n": "many"}, manager=manager)
    with pytest.raises(UsageError, match="nope"):
        build_spec("core-test/add", "scripted/echo", task_args={"nope": 1}, manager=manager)


def test_unknown_names_suggest_close_matches(manager):
    with pytest.raises(UsageError, match="Did you mean: core-test/add"):
        build_spec("core-test/ad", "scripted/echo", manager=manager)
    with pytest.raises(UsageError, match="Did you mean: scripted"):
        build_spec("core-test/add", "scriptd/echo", manager=manager)
    with pytest.raises(UsageError, match="scripted/echo"):
        build_spec("core-test/add", "scripted/ecco", manager=manager)
    with pytest.raises(UsageError, match="PROVIDER/NAME"):
        build_spec("core-test/add", "gpt-4o", manager=manager)


def test_task_version_mismatch_is_refused(manager, options):
    spec = build_spec("core-test/add", "scripted/echo", manager=manager).model_copy(update={"task_version": "0.9"})
    with pytest.raises(UsageError, match="version 1.0 here"):
        run_sync(spec, options, manager)


def test_run_result_records_provenance_and_model_info(manager, options):
    spec = build_spec("core-test/add", "scripted/echo", task_args={"n": 2}, manager=manager)
    result = run_sync(spec, options, manager)
    assert result.provenance.emergebench_version
    assert result.provenance.python.startswith("3.")
    assert result.model.provider == "scripted"
    assert result.started_at <= result.finished_at


def test_grader_args_are_validated_recorded_and_used(manager, options):
    from emergebench.builtin.graders import normalize  # noqa: F401  (grader module is importable)

    spec = build_spec(
        "core-test/add",
        "scripted/echo",
        grader="regex",
        grader_args={"pattern": r"(\d+)$"},
        task_args={"n": 3},
        manager=manager,
    )
    assert spec.grader_args == {"pattern": r"(\d+)$", "normalize": True}
    result = run_sync(spec, options, manager)
    # echo answers "i+i"; the regex takes the trailing digits, which equal 2i only for i=0.
    (acc,) = result.metrics
    assert acc.value == 1 / 3
    with pytest.raises(UsageError, match="-A options for grader 'regex'"):
        build_spec("core-test/add", "scripted/echo", grader="regex", manager=manager)


def test_secret_model_options_never_reach_the_spec_or_the_journal(manager, options):
    spec = build_spec(
        "core-test/add",
        "scripted/constant",
        model_args={"reply": "1", "api_key": "sk-SECRET"},
        task_args={"n": 2},
        manager=manager,
    )
    assert spec.model_args == {"reply": "1"}
    options.secrets = {"scripted/constant": {"api_key": "sk-SECRET"}}
    result = run_sync(spec, options, manager)
    run_dir = options.runs_dir / result.run_id
    for path in run_dir.iterdir():
        assert "sk-SECRET" not in path.read_text(), path.name


def test_run_records_its_pid_so_a_killed_run_can_be_recognised(manager, options):
    import os

    from emergebench.liveness import run_is_alive

    result = run_sync(
        build_spec("core-test/add", "scripted/echo", task_args={"n": 1}, manager=manager), options, manager
    )
    assert result.pid == os.getpid() and result.provenance.hostname_hash
    assert not run_is_alive(result)  # complete
    assert run_is_alive(result.model_copy(update={"status": "running"}))  # this very process
    assert not run_is_alive(result.model_copy(update={"status": "running", "pid": 2**22 + 12345}))


def test_generation_config_layers_task_default_then_call_then_user(manager, options):
    from coretest_plugin import AddTask
    from emergebench import GenerateConfig

    AddTask.generate_config = GenerateConfig(temperature=0.3, max_tokens=7, top_p=0.5)
    try:
        spec = build_spec(
            "core-test/add", "scripted/echo", task_args={"n": 1}, generate=GenerateConfig(top_p=0.9), manager=manager
        )
        result = run_sync(spec, options, manager)
    finally:
        AddTask.generate_config = GenerateConfig()
    (sample,) = iter_journal(options.runs_dir / result.run_id / "journal.jsonl")
    config = sample.calls[0].config
    assert (config.temperature, config.max_tokens, config.top_p) == (0.3, 7, 0.9)


def test_a_run_another_writer_holds_is_not_resumed(manager, options):
    import json

    from emergebench.claim import RunClaim

    spec = build_spec("core-test/add", "scripted/echo", task_args={"n": 2}, manager=manager)
    first = run_sync(spec, options, manager)
    run_dir = options.runs_dir / first.run_id
    run_json = run_dir / "run.json"
    data = json.loads(run_json.read_text())
    data["status"] = "running"  # unfinished, and (below) claimed by another writer
    run_json.write_text(json.dumps(data))
    claim = RunClaim.try_claim(run_dir)
    assert claim is not None
    try:
        second = run_sync(spec, options, manager)
        assert second.run_id != first.run_id
        options.resume = True
        with pytest.raises(UsageError, match=f"run {first.run_id} is being written by process"):
            run_sync(spec, options, manager)
    finally:
        claim.release()
    # The claim is gone (its writer died): the run is resumable again, whatever its recorded pid says.
    third = run_sync(spec, options, manager)
    assert third.run_id == first.run_id and third.status == "complete"
