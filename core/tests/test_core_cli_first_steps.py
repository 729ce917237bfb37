"""A new user's first commands: a readable task list at 80 columns, `tasks NAME` in full, and errors
that say which package to install when only the core is there (real subprocesses)."""

from __future__ import annotations

import json

import pytest
from test_core_cli import eb


@pytest.fixture
def env(cli_env: dict[str, str]) -> dict[str, str]:
    """The core with the core-test plugin only (as if no first-party plugin were installed)."""
    return {**cli_env, "COLUMNS": "80"}


def test_task_list_fits_80_columns_one_line_per_task(env: dict[str, str]) -> None:
    out = eb(env, "tasks")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["name", "main", "metric", "description"]
    assert all(len(line) <= 80 for line in lines), lines
    assert any(line.startswith("core-test/add ") for line in lines)
    assert "tasks NAME" in out.stderr


def test_tasks_name_shows_arguments_defaults_help_and_an_example(env: dict[str, str]) -> None:
    shown = eb(env, "tasks", "core-test/add")
    assert shown.returncode == 0, shown.stderr
    info = json.loads(eb(env, "tasks", "core-test/add", "--json").stdout)
    assert info["name"] == "core-test/add" and info["example"].startswith("emergebench run core-test/add -m ")
    for arg in info["arguments"]:
        assert f"  {arg['argument']}: {arg['type']} = {arg['default']}" in shown.stdout
    assert info["example"] in shown.stdout
    assert info["lower_is_better"] == [] and "lower is better (ranked ascending): -" in shown.stdout
    assert all(len(line) <= 80 for line in shown.stdout.splitlines() if not line.startswith("  emergebench run"))


def test_unknown_task_name_lists_close_matches(env: dict[str, str]) -> None:
    out = eb(env, "tasks", "core-test/ad")
    assert out.returncode != 0 and "core-test/add" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize(
    ("args", "distribution", "folder"),
    [
        (["run", "core-test/add", "-m", "llamacpp/smollm2-135m"], "emergebench-llamacpp", "./plugins/llamacpp"),
        (["run", "mars/event", "-m", "scripted/constant"], "emergebench-mars", "./plugins/mars"),
        (["sql", "select 1"], "emergebench-registry", "./registry"),
        (["leaderboard"], "emergebench-registry", "./registry"),
    ],
)
def test_only_the_core_says_which_package_to_install(
    env: dict[str, str], args: list[str], distribution: str, folder: str
) -> None:
    """Found on main: `run -m llamacpp/...` said "unknown model provider" and `sql` "No such command"."""
    out = eb(env, *args)
    assert out.returncode == 2 if args[0] != "run" else out.returncode != 0
    assert distribution in out.stderr and f"emergebench install {folder}" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


def test_a_truly_unknown_command_is_still_plain(env: dict[str, str]) -> None:
    out = eb(env, "frobnicate")
    assert out.returncode == 2 and "No such command 'frobnicate'" in out.stderr and "install" not in out.stderr
