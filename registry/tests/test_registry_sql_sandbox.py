"""`emergebench sql` reads the registry and nothing else unless --allow-files says so (real CLI, real files)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_registry_cli import eb

ATTACKS = {
    "copy_to": "COPY (SELECT 1 AS a) TO '{victim}'",
    "attach": "ATTACH '{other}' AS other",
    "export": "EXPORT DATABASE '{folder}'",
    "install": "INSTALL httpfs",
    "load": "LOAD httpfs",
    "read_csv": "SELECT * FROM read_csv('{secret}')",
    "read_text": "SELECT content FROM read_text('{secret}')",
    "replacement_scan": "SELECT * FROM '{secret}'",
    "glob": "SELECT * FROM glob('{tmp}/*')",
    "unlock": "SET enable_external_access = true",
}


@pytest.fixture
def targets(tmp_path: Path) -> dict[str, str]:
    secret = tmp_path / "secret.csv"
    secret.write_text("password\nhunter2\n")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    return {
        "secret": str(secret),
        "victim": str(victim),
        "other": str(tmp_path / "other.duckdb"),
        "folder": str(tmp_path / "exported"),
        "tmp": str(tmp_path),
    }


@pytest.mark.parametrize("write", [False, True], ids=["read-only", "write"])
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_sql_cannot_touch_files(
    reg_run, reg_home: Path, tmp_path: Path, targets: dict[str, str], attack: str, write: bool
) -> None:
    reg_run()
    query = ATTACKS[attack].format(**targets)
    out = eb(reg_home, "sql", query, *(["--write"] if write else []))
    assert out.returncode != 0, (attack, out.stdout)
    assert "Traceback" not in out.stderr
    assert "hunter2" not in out.stdout + out.stderr
    assert "--allow-files" in out.stderr or "configuration" in out.stderr.lower(), out.stderr
    assert Path(targets["victim"]).read_text() == "precious\n"
    assert not Path(targets["other"]).exists() and not Path(targets["folder"]).exists()


def test_copy_over_journal_cannot_empty_a_run(reg_run, reg_home: Path) -> None:
    """The finding: COPY TO a run's journal.jsonl emptied that run in the registry on the next scan."""
    result = reg_run()
    journal = reg_home / "runs" / result.run_id / "journal.jsonl"
    before = journal.read_bytes()
    out = eb(reg_home, "sql", f"COPY (SELECT 1 AS x WHERE false) TO '{journal}' (FORMAT json)")
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert journal.read_bytes() == before
    count = eb(reg_home, "sql", f"SELECT count(*) AS n FROM samples WHERE run_id = '{result.run_id}'", "-f", "json")
    assert count.returncode == 0, count.stderr
    assert json.loads(count.stdout) == [{"n": result.n_samples}]


def test_allow_files_reads_the_users_files(reg_run, reg_home: Path, targets: dict[str, str]) -> None:
    reg_run()
    out = eb(reg_home, "sql", f"SELECT * FROM read_csv('{targets['secret']}')", "--allow-files", "-f", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [{"password": "hunter2"}]


def test_write_changes_the_registry_only(reg_run, reg_home: Path) -> None:
    reg_run()
    out = eb(reg_home, "sql", "CREATE TABLE notes AS SELECT 'hello' AS note", "--write")
    assert out.returncode == 0, out.stderr
    read = eb(reg_home, "sql", "SELECT note FROM notes", "-f", "json")
    assert json.loads(read.stdout) == [{"note": "hello"}]
    refused = eb(reg_home, "sql", "CREATE TABLE more AS SELECT 1 AS x")
    assert refused.returncode != 0 and "--write" in refused.stderr


def test_sql_help_names_allow_files(reg_home: Path) -> None:
    out = eb(reg_home, "sql", "--help")
    assert "--allow-files" in out.stdout and "read" in out.stdout
