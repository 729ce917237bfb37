"""Many run folders stored together (#11 Measure: rebuild of 1,000 runs) give the same rows and reports as
storing each folder on its own, and a damaged folder in the batch is named and skipped, never blocking the
others. The oracle is the one-folder path (``ingest_run_dir``), run on a second real DuckDB file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import emergebench_registry.ingest_batch as ingest_batch
import pytest
from emergebench.run_ids import start_order
from emergebench_registry.ingest import ingest_changed, ingest_paths, ingest_run_dir, skip_reason
from emergebench_registry.store import Store
from test_registry_rebuild import bad_copy

TABLES = ["runs", "samples", "scores", "model_calls", "metrics", "model_sources"]


def rows(store: Store) -> dict[str, list[tuple]]:
    with store.reader() as con:
        # ingested_at is the clock at storing time, the one column the two stores cannot share
        select = {t: "* EXCLUDE (ingested_at)" if t == "runs" else "*" for t in TABLES}
        return {t: sorted(map(repr, con.execute(f"SELECT {select[t]} FROM {t}").fetchall())) for t in TABLES}


def one_by_one(store: Store, run_dirs: list[Path]) -> list[tuple[str, str, int, list[int]]]:
    reports = []
    with store.writer() as con:
        for run_dir in run_dirs:
            try:
                r = ingest_run_dir(con, run_dir)
                reports.append((r.run_id, r.status, r.samples, r.damaged_lines))
            except Exception as exc:  # noqa: BLE001 - the oracle of a skipped folder
                reports.append((run_dir.name, f"skipped: {skip_reason(run_dir, exc)}", 0, []))
    return reports


def test_a_batch_with_damaged_folders_stores_the_others(
    reg_run, reg_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = reg_home / "runs" / reg_run().run_id
    good = [bad_copy(run_dir, f"-good{i}") for i in range(3)]
    torn_lines = bad_copy(run_dir, "-torn-lines")
    with open(torn_lines / "journal.jsonl", "a") as journal:
        journal.write('{"run_id": "' + torn_lines.name + '", "sample_id": \n')
    result = json.loads((torn_lines / "run.json").read_text())
    result["n_samples"] = 7  # it says 7 were written: the journal's lines are counted and the torn one named
    (torn_lines / "run.json").write_text(json.dumps(result))
    twice = bad_copy(run_dir, "-twice")
    first_line = (twice / "journal.jsonl").read_text().splitlines()[0]
    with open(twice / "journal.jsonl", "a") as journal:
        journal.write(first_line.replace(run_dir.name, twice.name) + "\n")
    huge_seed = bad_copy(run_dir, "-seed", seed=2**63)
    broken = bad_copy(run_dir, "-broken")
    (broken / "run.json").write_text('{"run_id": "torn')
    no_spec = bad_copy(run_dir, "-nospec")
    (no_spec / "spec.json").unlink()
    (no_spec / "run.json").unlink()
    folders = [run_dir, good[0], torn_lines, broken, good[1], twice, huge_seed, no_spec, good[2]]
    for folder in folders[1:]:  # a copy's journal lines must carry its own run id to count
        if folder not in (twice, torn_lines):
            text = (folder / "journal.jsonl").read_text()
            (folder / "journal.jsonl").write_text(text.replace(f'"{run_dir.name}"', f'"{folder.name}"'))
    text = (torn_lines / "journal.jsonl").read_text()
    (torn_lines / "journal.jsonl").write_text(text.replace(f'"{run_dir.name}"', f'"{torn_lines.name}"'))
    text = (twice / "journal.jsonl").read_text()
    (twice / "journal.jsonl").write_text(text.replace(f'"{run_dir.name}"', f'"{twice.name}"'))

    alone: list[str] = []

    def counted(con, folder, result=None):
        alone.append(folder.name)
        return ingest_run_dir(con, folder, result)

    oracle = Store(tmp_path / "oracle.duckdb")
    expected = one_by_one(oracle, folders)
    monkeypatch.setattr(ingest_batch, "ingest_run_dir", counted)
    batched = Store(tmp_path / "batched.duckdb")
    got = [(r.run_id, r.status, r.samples, r.damaged_lines) for r in ingest_paths(batched, folders)]

    assert got == expected
    skipped = {r[0]: r[1] for r in got if r[1].startswith("skipped")}
    assert set(skipped) == {broken.name, huge_seed.name, no_spec.name}
    assert broken.name in skipped[broken.name] and "run.json is not a valid run result" in skipped[broken.name]
    assert "seed = 9223372036854775808 is outside" in skipped[huge_seed.name]
    assert dict((r[0], r[3]) for r in got)[torn_lines.name] == [7]  # the quiz's 6 lines, then the torn one
    assert dict((r[0], r[2]) for r in got)[twice.name] == 6
    assert rows(batched) == rows(oracle)
    with batched.reader() as con:
        assert con.execute("SELECT count(*) FROM runs").fetchone() == (6,)
        logged = {Path(p).name for (p,) in con.execute("SELECT run_dir FROM ingest_log").fetchall()}
    assert logged == {f.name for f in folders} - set(skipped)
    # Only the folders the batch cannot take went through the one-folder path: the (sample, epoch)
    # written twice and the seed no column can hold; the rest were stored together.
    assert sorted(alone) == sorted([twice.name, huge_seed.name])


def test_the_batch_is_refused_whole_and_each_folder_stored_alone(
    reg_run, reg_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A statement DuckDB refuses for the batch (here: the shared journal read) sends every folder
    through the one-folder path, so the rows are still those of the oracle."""
    run_dir = reg_home / "runs" / reg_run().run_id
    folders = [run_dir, *(bad_copy(run_dir, f"-c{i}") for i in range(2))]
    for folder in folders[1:]:
        run = json.loads((folder / "run.json").read_text())
        text = (folder / "journal.jsonl").read_text()
        (folder / "journal.jsonl").write_text(text.replace(f'"{run_dir.name}"', f'"{run["run_id"]}"'))

    def refused(con, folders):
        raise RuntimeError("refused")

    oracle = Store(tmp_path / "oracle.duckdb")
    expected = one_by_one(oracle, folders)
    monkeypatch.setattr(ingest_batch, "_read_journals", refused)
    batched = Store(tmp_path / "batched.duckdb")
    got = [(r.run_id, r.status, r.samples, r.damaged_lines) for r in ingest_paths(batched, folders)]
    assert got == expected and all(r[1] == "complete" for r in got)
    assert rows(batched) == rows(oracle)


def copy_with_model(run_dir: Path, copy: Path, **model_facts: object) -> Path:
    """A copy of a run folder as run ``copy.name`` (its journal lines too), its model described by ``model_facts``."""
    shutil.copytree(run_dir, copy)
    result = json.loads((copy / "run.json").read_text())
    result["run_id"] = copy.name
    result["model"].update(model_facts)
    (copy / "run.json").write_text(json.dumps(result))
    text = (copy / "journal.jsonl").read_text()
    (copy / "journal.jsonl").write_text(text.replace(f'"{run_dir.name}"', f'"{copy.name}"'))
    return copy


def test_a_batch_keeps_the_model_facts_one_at_a_time_keeps(reg_run, reg_home: Path, tmp_path: Path) -> None:
    """Runs of one model that disagree on its metadata: stored together, the later run's known facts win,
    field by field, exactly as when each folder is stored in turn (a rebuild must not change a model's
    family or size). Hand-worked: family alpha, then unknown, then beta; size 7e9, then 1e9, then unknown."""
    run_dir = reg_home / "runs" / reg_run().run_id
    facts = [("alpha", 7_000_000_000), (None, 1_000_000_000), ("beta", None)]
    folders = [
        copy_with_model(run_dir, run_dir.with_name(f"{run_dir.name}-m{i}"), family=family, parameters=parameters)
        for i, (family, parameters) in enumerate(facts)
    ]
    model_id = json.loads((run_dir / "run.json").read_text())["model"]["id"]
    query = "SELECT family, parameters FROM model_sources WHERE model_id = ? AND source = 'local'"

    oracle = Store(tmp_path / "oracle.duckdb")
    one_by_one(oracle, folders)
    batched = Store(tmp_path / "batched.duckdb")
    ingest_paths(batched, folders)
    for store in (oracle, batched):
        with store.reader() as con:
            assert con.execute(query, [model_id]).fetchall() == [("beta", 1_000_000_000)]


def test_a_rebuild_takes_runs_in_the_order_they_started(reg_run, reg_home: Path, tmp_path: Path) -> None:
    """Run ids are ``<spec id>-<start time>-<random>``, so folder-name order is spec order. A rebuild
    stores the runs in start order, as they were stored when each one ended: the newer run's facts about
    its model win whatever its spec id sorts like."""
    run_dir = reg_home / "runs" / reg_run().run_id
    assert start_order(run_dir.name)[0], f"{run_dir.name} does not carry its start time where expected"
    runs = tmp_path / "runs"
    older, newer = "ffff000000000000-20261201T000000-0001", "0000000000000000-20261202T000000-0002"
    for run_id, family in ((older, "old-family"), (newer, "new-family")):
        copy_with_model(run_dir, runs / run_id, family=family)
    history = Store(tmp_path / "history.duckdb")
    one_by_one(history, [runs / older, runs / newer])  # each stored as it ended
    rebuilt = Store(tmp_path / "rebuilt.duckdb")
    assert [r.run_id for r in ingest_changed(rebuilt, runs)] == [older, newer]
    for store in (history, rebuilt):
        with store.reader() as con:
            assert con.execute("SELECT DISTINCT family FROM model_sources").fetchall() == [("new-family",)]
