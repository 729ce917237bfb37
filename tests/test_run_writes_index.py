"""A first `emergebench run` (no plugin index yet: a fresh home, an upgrade) leaves a fresh plugin
index, so the next run loads only the plugins it needs (issue #18: a home whose first command was
`run` loaded every plugin on every run, 131 MB and BoxingGym's scipy, until `--help` was typed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

RUN = ["-m", "emergebench", "run", "testtask/qa", "-m", "scripted/constant", "-T", "n=3"]


def _run(home: Path) -> str:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *RUN],
        env={**os.environ, "EMERGEBENCH_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    return proc.stderr


def test_a_first_run_writes_the_plugin_index_and_the_next_run_uses_it(tmp_path: Path) -> None:
    first = _run(tmp_path)
    assert (tmp_path / "plugin-index.json").is_file()
    assert "emergebench_boxinggym" in first  # no index: everything loaded, as before
    second = _run(tmp_path)
    assert "emergebench_boxinggym" not in second and "scipy" not in second
