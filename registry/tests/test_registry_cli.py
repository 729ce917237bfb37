"""CLI commands in real subprocesses, and concurrent writers plus a reader on one store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from emergebench_registry.query import run_sql
from emergebench_registry.store import Store

TESTS = Path(__file__).parent
EB = [str(Path(sys.executable).parent / "emergebench")]


def env_for(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        EMERGEBENCH_HOME=str(home),
        EMERGEBENCH_LOAD_PLUGINS="registry",
        PYTHONPATH=str(TESTS) + os.pathsep + env.get("PYTHONPATH", ""),
        HF_HOME=str(home / "hf"),
    )
    env.pop("EMERGEBENCH_REGISTRY", None)
    return env


def eb(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*EB, *args], env=env_for(home), capture_output=True, text=True, timeout=120)


def test_cli_subprocesses_sql_leaderboard_export_import(reg_run, reg_home: Path, tmp_path: Path) -> None:
    reg_run()
    reg_run(model="scripted/constant", model_args={"reply": "0"})
    out = eb(reg_home, "sql", "SELECT task, count(*) AS n FROM runs GROUP BY task", "--format", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [{"task": "regtest/quiz", "n": 2}]
    bad = eb(reg_home, "sql", "SELEC * FROM runs")
    assert bad.returncode != 0 and "SQL error" in bad.stderr and "LINE 1" in bad.stderr
    assert "Traceback" not in bad.stderr
    board = eb(reg_home, "leaderboard")
    assert board.returncode == 0, board.stderr
    lines = board.stdout.splitlines()
    assert "regtest/quiz@1.0 (accuracy)" in lines[0]
    assert "1.000 ± 0.000 (n=6)" in lines[2] and lines[2].startswith("scripted/function (scripted)")
    exported = eb(reg_home, "export", "--out", str(tmp_path / "out"))
    assert exported.returncode == 0 and "12 shard(s) written" in exported.stdout, exported.stderr
    other = eb(reg_home, "import", str(tmp_path / "out"), "--registry", str(tmp_path / "other.duckdb"))
    assert other.returncode == 0 and "Imported 2 run(s)" in other.stdout, other.stderr


def invoke(*args: str):
    from click.testing import CliRunner
    from emergebench.cli import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_cli_in_process_formats_runs_and_errors(reg_run, reg_home: Path, tmp_path: Path) -> None:
    empty = invoke("leaderboard")
    assert empty.exit_code == 0 and "No finished runs" in empty.output
    reg_run()
    reg_run(model="scripted/constant", model_args={"reply": "0"})
    md = invoke("sql", "SELECT model_id FROM runs ORDER BY 1", "-f", "markdown")
    assert md.output.splitlines()[:3] == ["| model_id |", "|---|", "| scripted/constant |"]
    csv = invoke("sql", "SELECT 1 AS a, 'x' AS b", "-f", "csv")
    assert csv.output.strip() == "a,b\n1,x"
    ro = invoke("sql", "DELETE FROM runs")
    assert ro.exit_code != 0 and "--write" in ro.output
    assert run_sql(Store(), "SELECT count(*) FROM runs").rows == [(2,)]
    ci = invoke("leaderboard", "--task", "regtest/quiz", "--ci")
    assert "[" in ci.output and ci.exit_code == 0
    unknown = invoke("leaderboard", "--task", "nope")
    assert unknown.exit_code != 0 and "no runs of task 'nope'" in unknown.output
    runs = invoke("runs")
    assert runs.exit_code == 0 and "(2 rows)" in runs.output
    run_id = run_sql(Store(), "SELECT run_id FROM runs LIMIT 1").rows[0][0]
    show = invoke("runs", run_id[:22])
    assert show.exit_code == 0 and run_id in show.output and "accuracy" in show.output
    missing = invoke("import", str(tmp_path / "nowhere"))
    assert missing.exit_code != 0 and "no such file or folder" in missing.output
    repo = invoke("sync", "pull", "--repo", "not-a-repo")
    assert repo.exit_code != 0 and "ORG/NAME" in repo.output
    ing = invoke("ingest")
    assert ing.exit_code == 0 and "Ingested 0 run(s)" in ing.output


WRITER = textwrap.dedent(
    """
    import sys
    from emergebench.plugins import PluginManager
    from emergebench.runner import RunOptions, build_spec, run_sync
    from registry_testplugin import RegTestPlugin
    manager = PluginManager()
    manager.register_module(RegTestPlugin, "regtest")
    for k in range(2):
        spec = build_spec("regtest/quiz", "scripted/function", task_args={"n": 40}, seed=int(sys.argv[1]) * 10 + k,
                          model_args={"function": "registry_testplugin:solve_sum"}, manager=manager)
        result = run_sync(spec, RunOptions(progress=False), manager)
        assert result.status == "complete"
    """
)
READER = textwrap.dedent(
    """
    import time
    from emergebench_registry.query import run_sql
    from emergebench_registry.store import Store
    store = Store()
    seen = 0
    deadline = time.time() + 60
    while time.time() < deadline:
        seen = max(seen, run_sql(store, "SELECT count(*) FROM samples").rows[0][0])
        if seen >= 160 * 2:
            break
        time.sleep(0.01)
    print(seen)
    """
)


def test_concurrent_runs_and_reader_lose_nothing(reg_home: Path) -> None:
    env = env_for(reg_home)
    # The first writer creates the store; afterwards four processes write and one reads at once.
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(i)], env=env, stderr=subprocess.PIPE, text=True)
        for i in range(4)
    ]
    reader = subprocess.Popen(
        [sys.executable, "-c", READER], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    for proc in procs:
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        assert "Warning" not in err and "lock" not in err.lower(), err
    out, err = reader.communicate(timeout=120)
    assert reader.returncode == 0 and "Error" not in err, err
    store = Store()
    assert run_sql(store, "SELECT count(*) FROM runs").rows == [(8,)]
    assert run_sql(store, "SELECT count(*) FROM samples").rows == [(320,)]
    assert run_sql(store, "SELECT count(*) FROM (SELECT DISTINCT run_id, sample_id, epoch FROM samples)").rows == [
        (320,)
    ]
