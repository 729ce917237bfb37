"""The test servers live in emergebench-testing and nowhere else: no runtime distribution imports that
package (so installing emergebench never needs it), and the wheels of the distributions that used to
carry the servers no longer ship them."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
TESTING = "emergebench_testing"
SERVER_MODULES = {"hubserver.py", "openai_server.py", "openai_batch.py", "fakeserver.py", "fakebatch.py"}


def runtime_distributions() -> dict[str, list[Path]]:
    """Every distribution `./setup.sh` installs without `--dev`: name -> its wheel's package folders."""
    found: dict[str, list[Path]] = {}
    for pyproject in [ROOT / "core", ROOT / "registry", ROOT / "report", *sorted((ROOT / "plugins").iterdir())]:
        config = tomllib.loads((pyproject / "pyproject.toml").read_text())
        packages = config["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
        found[config["project"]["name"]] = [pyproject / package for package in packages]
    return found


def imports_of_testing(source: Path) -> list[str]:
    """Import statements of emergebench_testing, and any string naming it (import_module, `python -m`)."""
    tree = ast.parse(source.read_text(), filename=str(source))
    hits = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and TESTING in node.value:
            names = [node.value]
        label = source.relative_to(ROOT) if source.is_relative_to(ROOT) else source.name
        hits += [f"{label}:{node.lineno}: {name}" for name in names if TESTING in name]
    return hits


def test_the_walk_sees_every_runtime_distribution() -> None:
    names = set(runtime_distributions())
    umbrella = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    declared = {dep.split(">")[0].split(";")[0].strip() for dep in umbrella if dep.startswith("emergebench-")}
    assert declared == names
    assert "emergebench-testing" not in names


def test_no_runtime_module_imports_the_testing_package() -> None:
    hits = [
        hit
        for folders in runtime_distributions().values()
        for folder in folders
        for source in sorted(folder.rglob("*.py"))
        for hit in imports_of_testing(source)
    ]
    assert not hits, "runtime code imports the test servers:\n" + "\n".join(hits)


def test_the_scan_catches_an_import(tmp_path: Path) -> None:
    """The scan above is only worth something if it finds each form of import."""
    forms = [
        "import emergebench_testing.hubserver",
        "from emergebench_testing.openai_server import FakeOpenAIServer",
        "def later():\n    import emergebench_testing",
        "import importlib\nimportlib.import_module('emergebench_testing.hubserver')",
    ]
    for number, form in enumerate(forms):
        source = tmp_path / f"probe_{number}.py"
        source.write_text(form + "\n")
        assert imports_of_testing(source), form


def test_loading_every_runtime_plugin_does_not_import_the_testing_package() -> None:
    """What the CLI does at start-up (load every installed plugin's entry point) leaves it unimported."""
    probe = (
        "import sys\n"
        "from emergebench.plugins import get_manager\n"
        "get_manager().catalog\n"
        "import emergebench.cli\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('emergebench_'))\n"
        "print(','.join(loaded))\n"
        f"assert not any(m.startswith('{TESTING}') for m in loaded), loaded\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "EMERGEBENCH_LOAD_PLUGINS"}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    loaded = set(done.stdout.strip().split(","))
    assert {"emergebench_registry", "emergebench_openai"} <= loaded, loaded


def build_wheel(project: Path, out: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(project)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = out.glob("*.whl")
    return wheel


@pytest.mark.slow
@pytest.mark.parametrize("project", ["registry", "plugins/openai"])
def test_runtime_wheel_ships_no_test_server(project: str, tmp_path: Path) -> None:
    pytest.importorskip("build")
    wheel = build_wheel(ROOT / project, tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = next(archive.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
    assert any(name.endswith("/__init__.py") for name in names), names
    assert not [name for name in names if Path(name).name in SERVER_MODULES or TESTING in name], names
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert requires and not [line for line in requires if "emergebench-testing" in line], requires


@pytest.mark.slow
def test_testing_wheel_ships_the_servers_typed(tmp_path: Path) -> None:
    pytest.importorskip("build")
    wheel = build_wheel(ROOT / "testing", tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for module in ("__init__.py", "py.typed", "hubserver.py", "openai_server.py", "openai_batch.py"):
        assert f"{TESTING}/{module}" in names, sorted(names)
