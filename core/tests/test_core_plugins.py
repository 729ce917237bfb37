"""Plugin loading: real entry points (dist-info folders on PYTHONPATH), guards, allowlist, conflicts,
and one test per hook (the meta-test below fails when a hook has none)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from coretest_plugin import AddTask
from emergebench import ModelProvider, hookimpl, hookspecs
from emergebench.cli import cli
from emergebench.plugins import PluginConflictError, PluginManager, reset_manager
from emergebench.runner import build_spec, run_sync

REPO = Path(__file__).resolve().parents[2]


def fake_distribution(root: Path, dist: str, ep_name: str, module: str, source: str) -> None:
    """Write an installed-looking distribution (dist-info + module) that importlib.metadata finds."""
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[emergebench]\n{ep_name} = {module}\n")


GOOD = """
from emergebench import Sample, SampleScore, Task, hookimpl

class Hello(Task):
    name = "good/hello"
    version = "1"
    def dataset(self, seed):
        return [Sample(id="1", input="hi")]
    async def solve(self, sample, ctx):
        return SampleScore(scores={"ok": 1.0})

@hookimpl
def register_tasks(register):
    register(Hello)
"""


@pytest.fixture
def plugin_path(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    fake_distribution(root, "eb-good", "good", "eb_good", GOOD)
    fake_distribution(root, "eb-broken-import", "broken", "eb_broken", "raise RuntimeError('kaboom at import')\n")
    fake_distribution(
        root,
        "eb-broken-hook",
        "badhook",
        "eb_badhook",
        """
        from emergebench import hookimpl
        @hookimpl
        def register_tasks(register):
            raise KeyError('inside the hook')
        @hookimpl
        def register_commands(cli):
            raise ValueError('no commands today')
        """,
    )
    return root


def eb(plugin_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": str(plugin_path), **(env or {})}
    full_env.pop("EMERGEBENCH_LOAD_PLUGINS", None) if env is None or "EMERGEBENCH_LOAD_PLUGINS" not in env else None
    return subprocess.run(
        [sys.executable, "-m", "emergebench", *args], capture_output=True, text=True, env=full_env, timeout=120
    )


def test_broken_plugins_are_reported_once_and_the_cli_keeps_working(plugin_path, tmp_path):
    home = {"EMERGEBENCH_HOME": str(tmp_path / "h")}
    helped = eb(plugin_path, "--help", env=home)
    assert helped.returncode == 0, helped.stderr
    assert "run" in helped.stdout
    listed = eb(plugin_path, "tasks", "--json", env=home)
    assert listed.returncode == 0, listed.stderr
    names = [t["name"] for t in json.loads(listed.stdout)]
    assert "good/hello" in names
    assert listed.stderr.count("kaboom at import") == 1
    assert "eb-broken-import" in listed.stderr
    assert listed.stderr.count("inside the hook") == 1 and "eb-broken-hook" in listed.stderr
    ran = eb(plugin_path, "run", "good/hello", "-m", "scripted/echo", env=home)
    assert ran.returncode == 0, ran.stderr
    assert "complete" in ran.stdout


def test_plugins_command_lists_versions_hooks_and_errors(plugin_path, tmp_path):
    out = eb(plugin_path, "plugins", env={"EMERGEBENCH_HOME": str(tmp_path / "h")})
    rows = {r["name"]: r for r in json.loads(out.stdout)}
    assert rows["good"]["version"] == "0.1" and rows["good"]["hooks"] == ["register_tasks"]
    assert "kaboom" in rows["broken"]["error"]
    assert "emergebench.builtin.scripted" not in rows
    everything = eb(plugin_path, "plugins", "--all", env={"EMERGEBENCH_HOME": str(tmp_path / "h")})
    assert "emergebench.builtin.scripted" in {r["name"] for r in json.loads(everything.stdout)}


@pytest.mark.parametrize("allow,expected", [("", set()), ("good", {"good/hello"}), ("good, broken", {"good/hello"})])
def test_load_plugins_allowlist(plugin_path, tmp_path, allow, expected):
    out = eb(plugin_path, "tasks", "--json", env={"EMERGEBENCH_LOAD_PLUGINS": allow, "EMERGEBENCH_HOME": str(tmp_path)})
    assert {t["name"] for t in json.loads(out.stdout)} == expected
    assert ("kaboom" in out.stderr) == ("broken" in allow)


def test_loading_is_lazy_and_idempotent(eb_home):
    manager = PluginManager()
    assert not manager._loaded
    manager.load()
    count = len(manager.pm.get_plugins())
    manager.load()
    assert len(manager.pm.get_plugins()) == count
    assert manager.catalog is manager.catalog


def test_two_plugins_registering_one_name_is_a_clear_error(eb_home):
    manager = PluginManager()

    class Plain(AddTask):
        name = "plain-add"

    class First:
        @staticmethod
        @hookimpl
        def register_tasks(register: Any) -> None:
            register(Plain)

    class Second(First):
        pass

    manager.register_module(First, "first")
    manager.register_module(Second, "second")
    with pytest.raises(PluginConflictError, match=r"registered by two plugins: '(first|second)'.*and '(first|second)'"):
        manager.catalog.task("plain-add")
    seen: list[str] = []
    manager.report_problems(seen.append)
    assert sum("two plugins" in line for line in seen) == 1


def test_names_are_validated_and_namespaced(eb_home):
    manager = PluginManager()

    class Bad(AddTask):
        name = "Bad Name!"

    class Squatter(AddTask):
        name = "someone-else/add"

    class Plugin:
        @staticmethod
        @hookimpl
        def register_tasks(register: Any) -> None:
            register(Bad)

    class Plugin2:
        @staticmethod
        @hookimpl
        def register_tasks(register: Any) -> None:
            register(Squatter)

    manager.register_module(Plugin, "core-test")
    manager.register_module(Plugin2, "mine")
    assert manager.catalog.tasks == {}
    problems = " ".join(str(p) for p in manager.problems)
    assert "invalid task name 'Bad Name!'" in problems
    assert "namespaced 'someone-else' but plugin 'mine'" in problems


# --- one test per hook (see test_every_hook_has_a_test) ---------------------------------------


def test_hook_register_tasks(manager):
    assert manager.catalog.task("core-test/add") is AddTask
    assert AddTask.plugin == "core-test"


def test_hook_register_models(manager):
    provider, name = manager.catalog.provider_for("scripted/constant")
    assert isinstance(provider, ModelProvider) and name == "constant"


def test_hook_register_graders(manager):
    assert set(manager.catalog.graders) >= {"exact", "choice", "regex", "rubric"}


def test_hook_register_commands(eb_home, monkeypatch):
    reset_manager()
    from emergebench.plugins import get_manager

    class Commands:
        @staticmethod
        @hookimpl
        def register_commands(cli: click.Group) -> None:
            @cli.command(name="hello-from-plugin")
            def hello() -> None:
                click.echo("hello!")

    get_manager().register_module(Commands, "commands")
    result = CliRunner().invoke(cli, ["hello-from-plugin"])
    assert result.output == "hello!\n"
    reset_manager()
    assert "hello-from-plugin" not in cli.list_commands(click.Context(cli)), "a new manager drops old commands"


def test_hook_on_run_finished(manager, options):
    seen: list[tuple[str, Path]] = []

    class Listener:
        @staticmethod
        @hookimpl
        def on_run_finished(result: Any, run_dir: Path) -> None:
            seen.append((result.status, run_dir))

    class Crasher:
        @staticmethod
        @hookimpl
        def on_run_finished(result: Any, run_dir: Path) -> None:
            raise RuntimeError("listener crashed")

    manager.register_module(Listener, "listener")
    manager.register_module(Crasher, "crasher")
    result = run_sync(
        build_spec("core-test/add", "scripted/echo", task_args={"n": 2}, manager=manager), options, manager
    )
    assert seen == [("complete", options.runs_dir / result.run_id)]
    assert any("listener crashed" in str(p) for p in manager.problems)


def test_hook_on_run_started_comes_before_the_first_sample_and_pairs_with_on_run_finished(manager, options):
    """A plugin that overlaps work with the run (the registry's ingest process) hears of it first, once,
    with the run's folder and expected size; a crashing listener is reported and the run goes on."""
    events: list[tuple[str, Any, Path]] = []

    class Listener:
        @staticmethod
        @hookimpl
        def on_run_started(result: Any, run_dir: Path) -> None:
            journal = run_dir / "journal.jsonl"
            lines = journal.read_bytes().count(b"\n") if journal.exists() else 0
            events.append(("started", (result.status, result.n_expected, lines), run_dir))

        @staticmethod
        @hookimpl
        def on_run_finished(result: Any, run_dir: Path) -> None:
            events.append(("finished", (result.status, result.n_samples), run_dir))

    class Crasher:
        @staticmethod
        @hookimpl
        def on_run_started(result: Any, run_dir: Path) -> None:
            raise RuntimeError("start listener crashed")

    manager.register_module(Listener, "listener")
    manager.register_module(Crasher, "crasher")
    result = run_sync(
        build_spec("core-test/add", "scripted/echo", task_args={"n": 3}, manager=manager), options, manager
    )
    run_dir = options.runs_dir / result.run_id
    assert events == [("started", ("running", 3, 0), run_dir), ("finished", ("complete", 3), run_dir)]
    assert any("start listener crashed" in str(p) for p in manager.problems)


def test_hook_find_complete_runs(manager, options):
    from emergebench.builtin.sweep import complete_in_plugins
    from emergebench.sweep.driver import SweepDriver
    from emergebench.sweep.jobs import WorkerConfig
    from emergebench.sweep.plan import expand, parse_sweep

    planned = expand(parse_sweep({"models": ["scripted/echo"], "tasks": ["core-test/add"]}, "test"), manager)
    spec_id = planned[0].spec.spec_id

    class Pool:
        @staticmethod
        @hookimpl
        def find_complete_runs(spec_ids: list[str]) -> dict[str, str]:
            return {s: f"{s}-pooled" for s in spec_ids}

    class Crasher:
        @staticmethod
        @hookimpl
        def find_complete_runs(spec_ids: list[str]) -> dict[str, str]:
            raise RuntimeError("lookup crashed")

    manager.register_module(Pool, "pool")
    manager.register_module(Crasher, "crasher")
    found = complete_in_plugins(manager, [spec_id])
    assert found == {spec_id: f"{spec_id}-pooled"}
    assert any("lookup crashed" in str(p) for p in manager.problems)
    config = WorkerConfig(runs_dir=options.runs_dir, cache_path=options.cache_path)
    outcomes, counts, _ = SweepDriver(planned, None, config, manager, completed_elsewhere=found).prepare()  # type: ignore[arg-type]
    assert [(o.status, o.run_id) for o in outcomes] == [("skipped", f"{spec_id}-pooled")] and counts.skipped == 1


def test_every_hook_has_a_test():
    """Meta-test: each hookspec needs a test named test_hook_<hook> somewhere in the test suites."""
    specs = {name for name in dir(hookspecs) if getattr(getattr(hookspecs, name), "emergebench_spec", None)}
    assert specs, "no hookspecs found"
    tested: set[str] = set()
    for path in REPO.glob("**/tests/**/test_*.py"):
        if ".venv" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_hook_"):
                tested.add(node.name.removeprefix("test_hook_"))
    missing = sorted(s for s in specs if not any(t == s or t.startswith(s + "_") for t in tested))
    assert not missing, f"hooks without a test_hook_<name> test: {missing}"


def test_on_run_finished_may_return_a_wait_called_after_the_runs_own_end(
    manager, options, capsys: pytest.CaptureFixture[str]
) -> None:
    """A listener that hands its work to another process returns the wait for it: the runner closes the
    cache first (overlapping that work), waits before ``run_sync`` returns, and a caller with end work
    of its own (the CLI's summary) sets ``settle_later`` and calls ``settle()`` after it. A failing wait
    is printed, never raised."""
    from emergebench.cache import CallCache
    from emergebench.runner import Runner, run_coroutine

    events: list[str] = []
    closing = CallCache.close

    def close(self: CallCache) -> None:
        events.append("cache closed")
        closing(self)

    class Listener:
        @staticmethod
        @hookimpl
        def on_run_finished(result: Any, run_dir: Path) -> Any:
            events.append("handed over")
            return lambda: events.append("settled")

    class FailingWait:
        @staticmethod
        @hookimpl
        def on_run_finished(result: Any, run_dir: Path) -> Any:
            def wait() -> None:
                raise RuntimeError("its process vanished")

            return wait

    manager.register_module(Listener, "listener")
    manager.register_module(FailingWait, "failing-wait")
    spec = build_spec("core-test/add", "scripted/echo", task_args={"n": 2}, manager=manager)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CallCache, "close", close)
        result = run_sync(spec, options, manager)
        assert result.status == "complete"
        assert events == ["handed over", "cache closed", "settled"]
        assert "its process vanished" in capsys.readouterr().err
        events.clear()
        runner = Runner(spec, options, manager)
        runner.settle_later = True
        run_coroutine(runner.run())
        assert events == ["handed over", "cache closed"]
        runner.settle()
        runner.settle()  # once only
        assert events == ["handed over", "cache closed", "settled"]


def test_a_call_that_outlives_its_timeout_is_a_transient_error_and_the_run_goes_on(manager, options) -> None:
    """The per-call timeout (``RetryPolicy.timeout_s``) ends a call that does not answer in time with a
    TransientModelError, retried like any other; with no attempt left the sample fails and the run goes on.
    (No test covered it; it guards a change of how the deadline is kept, see docs/benchmarks.md.)"""
    from emergebench.retry import RetryPolicy

    options.retry = RetryPolicy(max_attempts=2, initial_wait_s=0.0, timeout_s=0.05)
    spec = build_spec(
        "core-test/add", "scripted/constant", model_args={"delay_s": 5.0}, task_args={"n": 2}, manager=manager
    )
    result = run_sync(spec, options, manager)
    assert (result.n_samples, result.n_errors) == (2, 2)
    assert result.errors == {"TransientModelError": 2}
    from emergebench.journal import iter_journal

    lines = list(iter_journal(options.runs_dir / result.run_id / "journal.jsonl"))
    assert [line.error for line in lines] == ["TransientModelError: no answer within 0.05 s (timeout)"] * 2


def test_calls_wait_in_the_samples_own_task_once_answers_come_slowly() -> None:
    """How a call waits follows how fast answers come (issue #18): fast answers in a task of the call's
    own (``wait_for``: answers are then handled in bursts, less CPU), and once an answer took
    SLOW_ANSWER_S or more, in the sample's own task (its next request then goes out at once). A
    timeout counts as slow. Observed from inside the model: the task its ``generate`` runs in."""
    import asyncio

    from emergebench.context import SLOW_ANSWER_S, ModelHandle, RunServices
    from emergebench.model import Model
    from emergebench.records import ModelInfo, ModelOutput
    from emergebench.retry import RetryPolicy

    class Timed(Model):
        def __init__(self) -> None:
            super().__init__("test/timed", ModelInfo(id="test/timed", provider="test", name="timed"))
            self.delays: list[float] = []
            self.in_callers_task: list[bool] = []
            self.caller: asyncio.Task[Any] | None = None

        async def generate(self, messages: Any, config: Any) -> ModelOutput:
            self.in_callers_task.append(asyncio.current_task() is self.caller)
            await asyncio.sleep(self.delays.pop(0))
            return ModelOutput(text="ok")

    async def scenario() -> tuple[list[bool], list[bool]]:
        model = Timed()
        model.caller = asyncio.current_task()
        services = RunServices(
            cache=None, read_cache=False, call_slots=asyncio.Semaphore(4),
            retry=RetryPolicy(max_attempts=1, timeout_s=SLOW_ANSWER_S * 4),
        )  # fmt: skip
        handle = ModelHandle(model, role="subject", services=services, records=[], run_seed=0, epoch=0)
        slow, fast = SLOW_ANSWER_S * 1.5, 0.0
        states = []
        model.delays = [fast, slow, slow, fast, fast]
        for n in range(5):
            await handle.generate(f"q{n}", cache_salt=str(n))
            states.append(services.answers_slowly)
        model.delays = [SLOW_ANSWER_S * 10]  # outlives the timeout
        services.answers_slowly = False
        with pytest.raises(Exception, match="timeout"):
            await handle.generate("late")
        states.append(services.answers_slowly)
        return model.in_callers_task, states

    in_callers_task, states = asyncio.run(scenario())
    # call 1 (fast) and call 2 start before any slow answer; call 3 follows a slow one, call 4 too;
    # call 5 follows a fast answer again; the timed-out call started after a reset to fast
    assert in_callers_task == [False, False, True, True, False, False]
    assert states == [False, True, True, False, False, True]
