"""`emergebench new-plugin`: rendered packages are complete, bad names are refused, and (slow) each
kind installs and passes its own tests unedited."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from emergebench.scaffold import KINDS, PluginNames, ScaffoldError, check_name, render_plugin


@pytest.mark.parametrize("kind", KINDS)
def test_rendered_package_is_complete(kind: str, tmp_path: Path) -> None:
    names = PluginNames.from_name("letter-count", kind, "0.1.0")
    written = {p.relative_to(tmp_path / "out").as_posix() for p in render_plugin(names, tmp_path / "out")}
    assert {"pyproject.toml", "README.md", ".gitignore", ".github/workflows/test.yml"} <= written
    assert "src/emergebench_letter_count/__init__.py" in written
    assert "tests/test_letter_count.py" in written
    for rel in written:
        text = (tmp_path / "out" / rel).read_text()
        assert "{{eb." not in text, rel
        if rel.endswith(".py"):
            compile(text, rel, "exec")
    project = tomllib.loads((tmp_path / "out" / "pyproject.toml").read_text())
    assert project["project"]["name"] == "emergebench-letter-count"
    assert project["project"]["entry-points"]["emergebench"] == {"letter-count": "emergebench_letter_count"}
    assert "emergebench-core>=0.1" in project["project"]["dependencies"]
    workflow = (tmp_path / "out" / ".github/workflows/test.yml").read_text()
    assert "${{ matrix.python-version }}" in workflow and "python -m pytest" in workflow
    assert "check_plugin(" in (tmp_path / "out" / "tests/test_letter_count.py").read_text()


def test_task_scaffold_opens_with_the_simple_form(tmp_path: Path) -> None:
    """task.py is the ~20-line form (Task, Sample, ctx.model, a built-in grader); the full form with
    options, data, its own scoring and metrics is the second, registered task in full_task.py."""
    render_plugin(PluginNames.from_name("letter-count", "task", "0.1.0"), tmp_path)
    package = tmp_path / "src/emergebench_letter_count"
    simple = (package / "task.py").read_text()
    code = [line for line in simple.splitlines() if line.strip() and not line.lstrip().startswith(("#", '"""'))]
    assert len(code) <= 20, simple
    assert "class LetterCountTask(Task):" in simple and 'name = "letter-count"' in simple
    assert 'default_grader = "exact"' in simple and "ctx.model.generate" in simple
    for concept in ("Args", "def score", "def metrics", "SampleScore"):
        assert concept not in simple, concept
    full = (package / "full_task.py").read_text()
    assert 'name = "letter-count/full"' in full
    for concept in ("class Args(BaseModel)", "def score", "def metrics", "def provenance"):
        assert concept in full, concept
    hooks = (package / "__init__.py").read_text()
    assert "register(LetterCountTask)" in hooks and "register(FullLetterCountTask)" in hooks
    readme = (tmp_path / "README.md").read_text()
    assert "letter-count/full" in readme and "task.py" in readme and "full_task.py" in readme


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("My_Eval", "not valid"),
        ("1st-eval", "not valid"),
        ("my--eval", "not valid"),
        ("eval-", "not valid"),
        ("x" * 41, "not valid"),
        ("emergebench-mars2", "must not start with 'emergebench'"),
        ("class", "Python keyword"),
    ],
)
def test_bad_names_are_refused_with_a_reason(name: str, words: str) -> None:
    with pytest.raises(ScaffoldError, match=words):
        check_name(name)


def test_cli_writes_the_plugin_and_says_what_next(emergebench_cli, tmp_path: Path) -> None:
    output = emergebench_cli.ok("new-plugin", "word-ladder", "--kind", "grader", "--dir", str(tmp_path / "wl"))
    assert "Created grader plugin 'word-ladder' (emergebench-word-ladder)" in output
    assert "pip install -e '.[test]'" in output
    assert (tmp_path / "wl/src/emergebench_word_ladder/grader.py").exists()


def test_cli_default_folder_is_the_distribution_name(emergebench_cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    emergebench_cli.ok("new-plugin", "word-ladder")
    assert (tmp_path / "emergebench-word-ladder/src/emergebench_word_ladder/task.py").exists()


def test_cli_refuses_bad_names_without_a_traceback(emergebench_cli, tmp_path: Path) -> None:
    message = emergebench_cli.fails("new-plugin", "Bad Name", "--dir", str(tmp_path / "x"))
    assert "'Bad Name' is not valid" in message
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("name", "kind", "words"),
    [
        ("scripted", "model", "model provider prefix 'scripted' is already registered"),
        ("exact", "grader", "grader 'exact'"),
    ],
)
def test_cli_refuses_names_that_clash(emergebench_cli, tmp_path: Path, name: str, kind: str, words: str) -> None:
    message = emergebench_cli.fails("new-plugin", name, "--kind", kind, "--dir", str(tmp_path / "x"))
    assert words in message and "Choose another name" in message


def test_cli_refuses_an_installed_plugin_name(emergebench_cli, tmp_path: Path, monkeypatch) -> None:
    site = tmp_path / "site"
    info = site / "emergebench_taken-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: emergebench-taken\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[emergebench]\ntaken = emergebench_taken\n")
    monkeypatch.syspath_prepend(str(site))
    message = emergebench_cli.fails("new-plugin", "taken", "--dir", str(tmp_path / "x"))
    assert "an installed plugin is already named 'taken' (from emergebench-taken)" in message


def test_cli_refuses_a_non_empty_folder(emergebench_cli, tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    message = emergebench_cli.fails("new-plugin", "fresh-idea", "--dir", str(tmp_path / "busy"))
    assert "already exists and is not empty" in message
    assert (tmp_path / "busy" / "notes.txt").read_text() == "mine"


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_scaffolded_plugin_installs_and_passes_its_own_tests(kind: str, tmp_path: Path) -> None:
    """The real thing: pip-install the rendered package (into a private target, so the shared
    environment is untouched) and run its tests in a fresh interpreter."""
    name = f"fresh-{kind}"
    plugin = tmp_path / name
    render_plugin(PluginNames.from_name(name, kind, "0.1.0"), plugin)
    site = tmp_path / "site"
    isolation = [] if importlib.util.find_spec("hatchling") is None else ["--no-build-isolation"]
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", *isolation, "--target", str(site), str(plugin)]
    subprocess.run(pip, check=True, capture_output=True, timeout=180)
    env = {**os.environ, "PYTHONPATH": str(site), "EMERGEBENCH_HOME": str(tmp_path / "home")}
    env.pop("EMERGEBENCH_LOAD_PLUGINS", None)
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=plugin,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert " passed" in tests.stdout and "failed" not in tests.stdout
