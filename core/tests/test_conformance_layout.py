"""The conformance kit is split by what it checks (small modules, no giant class), and what plugin
authors import from ``emergebench.conformance`` and ``emergebench.testing`` is still there."""

from __future__ import annotations

import ast
from pathlib import Path

import emergebench.conformance as conformance
import emergebench.testing as testing

PACKAGE = Path(conformance.__file__).parent
MAX_MODULE_LINES = 250
MAX_CLASS_LINES = 80


def test_split_by_what_it_checks() -> None:
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    assert {"entry", "tasks", "models", "graders", "runs", "report"} <= modules
    long = {p.name: n for p in PACKAGE.glob("*.py") if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                assert size <= MAX_CLASS_LINES, f"{path.name}: class {node.name} has {size} lines"


def test_public_names_plugin_authors_use_are_kept() -> None:
    for name in (
        "check_plugin",
        "ConformanceError",
        "ConformanceReport",
        "ConformanceWarning",
        "ModelSpec",
        "ModelLike",
        "as_model_spec",
        "DEFAULT_SUBJECTS",
        "DEFAULT_JUDGE",
        "MALFORMED_ANSWERS",
        "load_isolated",
    ):
        assert hasattr(conformance, name), name
    for name in testing.__all__:
        assert hasattr(testing, name), name
    assert testing.check_plugin is conformance.check_plugin
    assert testing.ConformanceError is conformance.ConformanceError
