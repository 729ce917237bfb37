"""Every command (core and first-party plugins) meets bad option values with a clean usage error.

The walk is generic: for every option of every command, values that break its declared type or bounds
(a letter for a number, a number below the range, NaN, a file in a folder that does not exist, an
unknown choice) must stop the command before anything runs, with exit code 2, a message naming the
option, and no traceback. The findings of issue #12 (and #11's seed/limit overflow) are listed too.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from emergebench.cli import cli
from emergebench.cli_types import FailureAllowanceType, FiniteFloatRange
from emergebench.plugins import reset_manager


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("home")
    mp = pytest.MonkeyPatch()
    mp.setenv("EMERGEBENCH_HOME", str(path))
    mp.delenv("EMERGEBENCH_LOAD_PLUGINS", raising=False)
    mp.delenv("EMERGEBENCH_REGISTRY", raising=False)
    reset_manager()
    yield path
    mp.undo()
    reset_manager()


def walk(
    group: click.Group, ctx: click.Context, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None:
            continue
        if isinstance(command, click.Group):
            yield from walk(command, ctx, (*prefix, name))
        else:
            yield (*prefix, name), command


# Arguments that get a command past its required ones, so the bad option is what fails.
REQUIRED = {
    ("run",): ["testtask/qa", "-m", "scripted/echo"],
    ("sweep",): ["-t", "testtask/qa", "-m", "scripted/echo", "--dry-run"],
    ("sync", "push"): ["--repo", "org/name"],
    ("sync", "pull"): ["--repo", "org/name"],
    ("export",): ["--out", "out"],
    ("compare",): ["a", "b"],
    ("sql",): ["SELECT 1"],
    ("new-plugin",): ["demo-name"],
    ("install",): ["nothing"],
    ("uninstall",): ["nothing"],
    ("import",): ["nothing"],
}


def bad_values(param: click.Parameter, home: Path) -> list[str]:
    kind = param.type
    if isinstance(kind, click.IntRange):
        values = ["abc", "1.5"]
        if kind.min is not None:
            values.append(str(kind.min - 1))
        if kind.max is not None:
            values.append(str(kind.max + 1))
        return values
    if isinstance(kind, click.FloatRange):
        return ["abc", "nan"] + ([str(kind.min - 1)] if kind.min is not None else [])
    if kind is click.INT:
        return ["abc", str(2**64)]
    if kind is click.FLOAT:
        return ["abc"]
    if isinstance(kind, click.Choice):
        return ["no-such-choice"]
    if isinstance(kind, FiniteFloatRange):
        return ["abc", "nan", "-1", "0", "inf"]
    if isinstance(kind, FailureAllowanceType):
        return ["abc", "-1", "101%", "nan%", "5%%"]
    if isinstance(kind, click.Path) and not kind.exists and not kind.dir_okay:
        return [str(home / "missing-folder" / "x.file")]
    return []


def commands(home: Path) -> list[tuple[tuple[str, ...], click.Command]]:
    ctx = click.Context(cli)
    return list(walk(cli, ctx))


def test_walk_covers_core_and_registry_commands(home):
    names = {" ".join(path) for path, _ in commands(home)}
    assert {"run", "demo", "runs", "leaderboard", "sql", "compare", "sync push", "sync pull", "ingest"} <= names


def test_every_option_rejects_bad_values_cleanly(home):
    runner = CliRunner()
    checked = 0
    for path, command in commands(home):
        for param in command.params:
            if not isinstance(param, click.Option) or param.is_flag:
                continue
            for value in bad_values(param, home):
                args = [*path, *REQUIRED.get(path, []), param.opts[0], value]
                result = runner.invoke(cli, args, catch_exceptions=True)
                where = f"emergebench {' '.join(args)}"
                assert result.exception is None or isinstance(result.exception, SystemExit), (
                    f"{where}: {result.exception!r}"
                )
                assert result.exit_code == 2, f"{where}: exit {result.exit_code}\n{result.output}"
                assert "Traceback" not in result.output, where
                assert param.opts[0] in result.output or param.name in result.output, f"{where}: {result.output}"
                checked += 1
    assert checked >= 30


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "testtask/qa", "-m", "scripted/echo", "--timeout", "0"], "--timeout"),
        (["run", "testtask/qa", "-m", "scripted/echo", "--timeout", "-3"], "--timeout"),
        (["run", "testtask/qa", "-m", "scripted/echo", "--timeout", "nan"], "--timeout"),
        (["run", "testtask/qa", "-m", "scripted/echo", "--seed", str(2**63)], "--seed"),
        (["run", "testtask/qa", "-m", "scripted/echo", "--limit", str(2**63)], "--limit"),
        (["run", "testtask/qa", "-m", "scripted/echo", "--limit", "0"], "--limit"),
        (["run", "testtask/qa", "-m", "scripted/echo", "--epochs", "0"], "--epochs"),
        (["run", "testtask/qa", "-m", "scripted/echo", "-J", "temperature=0"], "--grader-model"),
        (["run", "testtask/qa", "-m", "scripted/echo", "--max-failures", "-1"], "--max-failures"),
        (["runs", "-n", "-5"], "-n"),
        (["runs", "--registry", "{home}/no-such-folder/sub/r.duckdb"], "does not exist"),
        (["sync", "pull", "--repo", "../x"], "--repo"),
        (["sync", "push", "--repo", "org/../x"], "--repo"),
        (["sync", "pull", "--repo", "org/na..me"], "--repo"),
    ],
)
def test_issue_findings_are_usage_errors(home, args, message):
    args = [a.replace("{home}", str(home)) for a in args]
    result = CliRunner().invoke(cli, args, catch_exceptions=True)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not (home / "runs").exists() or not any((home / "runs").iterdir()), "nothing ran"
    assert not (home / "no-such-folder").exists(), "nothing was created"


def test_good_values_pass_the_types():
    assert FiniteFloatRange(0, 10).convert("2.5", None, None) == 2.5
    allowance = FailureAllowanceType().convert("5%", None, None)
    assert (allowance.allowed(40), allowance.allowed(19), allowance.allowed(20)) == (2, 0, 1)
    assert FailureAllowanceType().convert("3", None, None).allowed(1000) == 3
    assert math.isclose(FailureAllowanceType().convert("12.5%", None, None).percent or 0, 12.5)


@pytest.mark.parametrize(
    "args",
    [
        ["run", "testtask/qa", "-m", "scripted/echo", "--grader", "nope"],
        ["run", "testtask/qa", "-m", "scripted/echo", "-G", "temperature=hot"],
        ["run", "testtask/qa", "-m", "nope/x"],
        ["run", "testtask/qa", "-m", "scripted/echo", "-M", "delay_s=abc"],
        ["run", "testtask/qa", "-m", "scripted/echo", "-T", "nope=1"],
        ["runs", "no-such-run"],
        ["compare", "a", "b"],
        ["sql", "SELEC"],
        ["export", "--out", "{home}/a-file"],
        ["ingest", "{home}/a-file"],
        ["import", "{home}/a-file"],
        ["leaderboard", "--task", "nope"],
        ["runs", "--registry", "{home}/a-file/x.duckdb"],
        ["new-plugin", "../x"],
        ["sweep", "{home}/no-such.toml"],
        ["sweep", "{home}/a-file"],
    ],
)
def test_bad_names_and_values_are_one_line_errors(home, args):
    """Values click cannot type-check (names, SQL, paths with meaning) fail cleanly too: exit 1 or 2."""
    (home / "a-file").write_text("not a folder, not a shard\n")
    args = [a.replace("{home}", str(home)) for a in args]
    result = CliRunner().invoke(cli, args, catch_exceptions=True)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (1, 2), result.output
    assert "Error" in result.output and "Traceback" not in result.output
