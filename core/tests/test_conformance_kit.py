"""The conformance kit: check_plugin passes good plugins and names each kind of misbehaviour."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from emergebench.conformance import ConformanceError, ModelSpec, check_plugin
from emergebench.plugins import reset_manager

HEADER = """
from typing import Any, ClassVar
import random, re
from pydantic import BaseModel, ConfigDict, Field
from emergebench import (GenerateConfig, Grade, Grader, Model, ModelInfo, ModelOutput, ModelProvider, Sample,
                         SampleScore, Task, hookimpl)

class Args(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: int = 4

class Base(Task):
    version = "1"
    description = "a test task"
    Args = Args
    main_metric = "accuracy"

    def dataset(self, seed):
        rng = random.Random(seed)
        return [Sample(id=f"s{i}", input=f"What is {rng.randint(1, 9)} + 1?", target="x") for i in range(self.args.n)]

    async def solve(self, sample, ctx):
        out = await ctx.model.generate(sample.input)
        return SampleScore(scores={"accuracy": float(out.text.strip() == "A")}, answer=out.text)
"""


def install_fake_plugin(root: Path, name: str, body: str, *, dist: str | None = None) -> None:
    """Write a module plus a dist-info with an entry point onto sys.path: an installed plugin, no pip."""
    module = f"fakeplug_{name.replace('-', '_')}"
    (root / f"{module}.py").write_text(HEADER + textwrap.dedent(body))
    dist = dist or f"emergebench-{name}"
    info = root / f"{dist.replace('-', '_')}-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(f"[emergebench]\n{name} = {module}\n")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, emergebench_home: Path) -> Path:
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    yield root
    for key in [k for k in sys.modules if k.startswith("fakeplug_")]:
        del sys.modules[key]
    reset_manager()


GOOD = """
class Good(Base):
    name = "good"

class Numeric(Grader):
    name = "good-numeric"
    description = "last number equals the target"

    async def grade(self, answer, target, ctx):
        found = re.findall(r"\\d+", answer)
        if not found:
            return Grade(value=0.0, parse_failed=True)
        return Grade(value=float(found[-1] == str(target)), extracted=found[-1])

class Const(Model):
    async def generate(self, messages, config):
        return ModelOutput(text="yes")

def make(name, options):
    return Const(f"good/{name}", ModelInfo(id=f"good/{name}", provider="good", name=name))

@hookimpl
def register_tasks(register):
    register(Good)

@hookimpl
def register_graders(register):
    register(Numeric)

@hookimpl
def register_models(register):
    register(ModelProvider(prefix="good", factory=make, description="constant", known=["yes"]))
"""


def test_good_plugin_passes_and_reports_what_it_exercised(site: Path) -> None:
    install_fake_plugin(site, "good", GOOD)
    report = check_plugin("good", check_models=["good/yes"])
    assert report.ok, report.format()
    assert (report.tasks, report.providers, report.graders) == (["good"], ["good"], ["good-numeric"])
    # 3 default subject models x (run, rerun, replay) + the model probe run twice
    assert report.runs == 3 * 3 + 2
    assert report.distribution == "emergebench-good"


def test_check_leaves_the_users_home_alone(site: Path, emergebench_home: Path) -> None:
    install_fake_plugin(site, "good", GOOD)
    check_plugin("good", check_models=["good/yes"])
    assert not (emergebench_home / "runs").exists()


def errors_of(name: str, **kwargs) -> str:
    with pytest.raises(ConformanceError) as caught:
        check_plugin(name, **kwargs)
    return str(caught.value)


def test_missing_entry_point_says_how_to_declare_it(site: Path) -> None:
    message = errors_of("nothing-here")
    assert "no entry point named 'nothing-here'" in message and "[project.entry-points.emergebench]" in message


def test_import_error_is_reported(site: Path) -> None:
    install_fake_plugin(site, "broken", "import not_a_real_module_xyz\n")
    assert "fails to import" in errors_of("broken")


def test_unknown_hook_name_is_reported(site: Path) -> None:
    install_fake_plugin(
        site, "typo", "class T(Base):\n    name = 'typo'\n\n@hookimpl\ndef register_task(register):\n    register(T)\n"
    )
    message = errors_of("typo")
    assert "'register_task' implements no emergebench hook" in message


def test_nondeterministic_task_is_caught(site: Path) -> None:
    body = """
    class Flaky(Base):
        name = "flaky"
        def dataset(self, seed):
            return [Sample(id=f"s{i}", input=f"Pick {random.random()}") for i in range(3)]
    @hookimpl
    def register_tasks(register):
        register(Flaky)
    """
    install_fake_plugin(site, "flaky", body)
    message = errors_of("flaky")
    assert "differs between two calls" in message


def test_state_shared_between_runs_is_caught(site: Path) -> None:
    body = """
    COUNTER = [0]
    class Leaky(Base):
        name = "leaky"
        async def solve(self, sample, ctx):
            COUNTER[0] += 1
            out = await ctx.model.generate(f"{sample.input} (call {COUNTER[0]})")
            return SampleScore(scores={"accuracy": 0.0}, answer=out.text)
    @hookimpl
    def register_tasks(register):
        register(Leaky)
    """
    install_fake_plugin(site, "leaky", body)
    message = errors_of("leaky", models=["scripted/echo"])
    assert "two runs with the same seed differ" in message
    assert "new model call(s)" in message


def test_task_crashing_on_malformed_replies_is_caught_unless_allowed(site: Path) -> None:
    body = """
    class Strict(Base):
        name = "strict"
        async def solve(self, sample, ctx):
            out = await ctx.model.generate(sample.input)
            return SampleScore(scores={"accuracy": float(int(out.text) == 2)}, answer=out.text)
    @hookimpl
    def register_tasks(register):
        register(Strict)
    """
    install_fake_plugin(site, "strict", body)
    message = errors_of("strict", models=["scripted/echo"])
    assert "raised on malformed model replies" in message and "ValueError" in message
    assert check_plugin("strict", models=["scripted/echo"], allow_sample_errors=True).ok
    # A task whose run needs particular replies gets them per task.
    assert check_plugin("strict", task_models={"strict": [("scripted/constant", {"reply": "2"})]}).ok


def test_loose_args_bad_version_and_missing_metric_are_reported(site: Path) -> None:
    body = """
    class Loose(BaseModel):
        n: int = 2
    class Sloppy(Base):
        name = "sloppy"
        version = "1 beta"
        Args = Loose
        main_metric = "f1"
    @hookimpl
    def register_tasks(register):
        register(Sloppy)
    """
    install_fake_plugin(site, "sloppy", body)
    message = errors_of("sloppy", models=["scripted/echo"])
    assert 'extra="forbid"' in message
    assert "'1 beta'" in message
    assert "main_metric 'f1' is not among" in message


def test_several_tasks_must_be_namespaced(site: Path) -> None:
    body = """
    class One(Base):
        name = "multi/one"
    class Two(Base):
        name = "two"
    @hookimpl
    def register_tasks(register):
        register(One)
        register(Two)
    """
    install_fake_plugin(site, "multi", body)
    assert "names them 'multi/<task>', got 'two'" in errors_of("multi", models=["scripted/echo"])


def test_model_graded_task_gets_the_scripted_judge(site: Path) -> None:
    body = """
    class Judged(Base):
        name = "judged"
        async def solve(self, sample, ctx):
            out = await ctx.model.generate(sample.input)
            verdict = await ctx.grader_model_or_fail().generate(f"Grade: {out.text}")
            return SampleScore(scores={"accuracy": float("GRADE: C" in verdict.text)}, answer=out.text)
    @hookimpl
    def register_tasks(register):
        register(Judged)
    """
    install_fake_plugin(site, "judged", body)
    assert check_plugin("judged").ok
    judge = ModelSpec("scripted/constant", {"reply": "GRADE: C"})
    assert check_plugin("judged", grader_model=judge).ok
    assert "choose a judge with --grader-model" in errors_of("judged", grader_model=None, models=["scripted/echo"])


def test_grader_that_raises_on_malformed_input_is_caught(site: Path) -> None:
    body = """
    class Fragile(Grader):
        name = "fragile"
        description = "int() of the answer"
        async def grade(self, answer, target, ctx):
            return Grade(value=float(int(answer) == int(target)))
    @hookimpl
    def register_graders(register):
        register(Fragile)
    """
    install_fake_plugin(site, "fragile", body)
    message = errors_of("fragile", grader_targets={"fragile": [3]})
    assert "grade('', target=3) raised ValueError" in message


def test_model_with_unstable_identity_is_caught(site: Path) -> None:
    body = """
    import itertools
    counter = itertools.count()
    class Shifty(Model):
        def identity(self):
            return str(next(counter))
        async def generate(self, messages, config):
            return ModelOutput(text="hi")
    @hookimpl
    def register_models(register):
        register(ModelProvider(prefix="shifty", description="x", factory=lambda n, o: Shifty(
            f"shifty/{n}", ModelInfo(id=f"shifty/{n}", provider="shifty", name=n))))
    """
    install_fake_plugin(site, "shifty", body)
    message = errors_of("shifty", check_models=["shifty/a"])
    assert "identity() must be a string that is the same" in message


def test_unexercised_provider_is_a_warning_not_an_error(site: Path) -> None:
    install_fake_plugin(site, "good", GOOD)
    with pytest.warns(UserWarning, match="no model of this plugin was exercised"):
        assert check_plugin("good").ok


def test_distribution_name_convention_is_a_warning(site: Path) -> None:
    install_fake_plugin(site, "good", GOOD, dist="someone-elses-name")
    report = check_plugin("good", check_models=["good/yes"], raise_on_error=False)
    assert report.ok
    assert any("emergebench-good" in w.message for w in report.warnings)


def test_grader_rejecting_the_default_targets_asks_for_real_ones(site: Path) -> None:
    body = """
    from emergebench import UsageError
    class Picky(Grader):
        name = "picky"
        description = "needs dict targets"
        async def grade(self, answer, target, ctx):
            if not isinstance(target, dict):
                raise UsageError(f"picky needs a dict target, got {target!r}")
            return Grade(value=float(answer.strip() == target["want"]))
    @hookimpl
    def register_graders(register):
        register(Picky)
    """
    install_fake_plugin(site, "picky", body)
    message = errors_of("picky")
    assert "rejects target 'A' whatever the answer" in message and "grader_targets={'picky'" in message
    assert check_plugin("picky", grader_targets={"picky": [{"want": "yes"}]}).ok
