"""A generated corpus of hostile shards, listings and cards, through `import` and `sync pull`.

Each case starts from one real run's six shards and breaks one thing: wrong types, extra, missing or
repeated columns, duplicate keys, NaN/inf, extreme integers and timestamps, hostile identifiers and
file names (traversal, bidi overrides, homoglyphs, NUL), arbitrary text in JSON columns, truncated
files, garbage bytes, compression bombs, missing tables. Every case must end one of two ways: rejected
with a message naming the file, the store unchanged; or stored exactly as the shard says (read back
through the store, compared with the shard read by pyarrow). Nothing may be written outside the
registry's folders and no exception other than the project's own errors may escape. Hypothesis is
derandomized with bounded examples so the corpus is the same on every run and fast enough for CI.

Cost: cases run in-process in batches of five against one store for the module (each case its own
`import`, so a rejected case must leave the store exactly as it was: after every batch, the store holds
exactly the accepted runs' rows and nothing of a rejected run), one Hub server for the module (a repo per
pull), and shards written without compression unless the case needs it. The no-traceback property at the
CLI is checked in real subprocesses for a few corpora at the end (`import` and `sync pull`).
"""

from __future__ import annotations

import itertools
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from emergebench.errors import UsageError
from emergebench_registry.query import run_sql
from emergebench_registry.schema import _JSON_COLUMNS, KEYS, RUN_TABLES, SHARD_SCHEMAS
from emergebench_registry.shards import ID_COLUMNS, SHARD_TABLES, ShardError, _run_tables, export_runs, import_paths
from emergebench_registry.store import Store
from emergebench_registry.sync import pull, push
from emergebench_testing.hubserver import HubServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TASK = "regtest/quiz"
REPO = "corpus/pool"
LIMITS = {  # small limits so bombs and row floods stay cheap; exported shards are far below them
    "EMERGEBENCH_MAX_SHARD_EXPANDED": str(1024**2),
    "EMERGEBENCH_MAX_CELL_BYTES": str(256 * 1024),
    "EMERGEBENCH_MAX_SHARD_ROWS": "10000",
}
HOSTILE_IDS = [
    "../../../../tmp/x",
    "..",
    ".",
    "",
    "a/../b",
    "/etc/passwd",
    "x\x00y",
    "line\nbreak",
    "evil\u202etxt.parquet",
    "r\u0435gtest/quiz",
    "C:\\windows",
    "a" * 300,
    "\U0001f4a5",
    " padded ",
    "regtest//quiz",
]
HOSTILE_FILE_PARTS = ["qu iz", "quiz\u202e", ".hidden", "qu\u0456z", "quiz\n", "-", "a" * 80]
PLAIN_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@dataclass(frozen=True)
class Case:
    kind: str
    table: str
    column: str = ""
    value: object = None


def _columns(table: str, pred=lambda f: True) -> list[str]:
    return [f.name for f in SHARD_SCHEMAS[table] if pred(f)]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    kind = draw(
        st.sampled_from(
            [
                "id_value",
                "wrong_type",
                "extra_column",
                "drop_column",
                "duplicate_column",
                "duplicate_row",
                "float_value",
                "int_value",
                "null_value",
                "text_value",
                "json_value",
                "timestamp",
                "truncate",
                "garbage",
                "bomb",
                "many_rows",
                "hostile_file_name",
                "missing_file",
                "empty_table",
            ]
        )
    )
    table = draw(st.sampled_from(SHARD_TABLES))
    if kind == "id_value":
        names = list(ID_COLUMNS.get(table, {})) + (["sample_id"] if "sample_id" in _columns(table) else [])
        return Case(kind, table, draw(st.sampled_from(names)), draw(st.sampled_from(HOSTILE_IDS) | PLAIN_TEXT))
    if kind in ("wrong_type", "drop_column", "duplicate_column", "null_value"):
        return Case(kind, table, draw(st.sampled_from(_columns(table))))
    if kind == "extra_column":
        return Case(kind, table, draw(st.sampled_from(HOSTILE_IDS[:4]) | PLAIN_TEXT.filter(bool)))
    if kind == "float_value":
        table = draw(st.sampled_from(["scores", "metrics", "model_calls"]))
        column = draw(st.sampled_from(_columns(table, lambda f: f.type == pa.float64())))
        return Case(kind, table, column, draw(st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -0.0])))
    if kind == "int_value":
        column = draw(st.sampled_from(_columns(table, lambda f: f.type == pa.int64()) or ["?"]))
        return Case(kind, table, column, draw(st.sampled_from([2**63 - 1, -(2**63), -1, 0, 2**31])))
    if kind == "text_value":
        column = draw(st.sampled_from(_columns(table, lambda f: f.type == pa.string())))
        return Case(kind, table, column, draw(PLAIN_TEXT))
    if kind == "json_value":
        table = draw(st.sampled_from(["runs", "samples", "model_calls"]))
        column = draw(st.sampled_from(_columns(table, lambda f: f.name in _JSON_COLUMNS)))
        value = draw(
            st.sampled_from(['{"a":1,"a":2}', "[" * 5000 + "]" * 5000, "1e999", "NaN", '"\\ud800"', "{}", "null"])
        )
        return Case(kind, table, column, value)
    if kind == "timestamp":
        table = draw(st.sampled_from(["runs", "samples", "model_calls"]))
        column = draw(st.sampled_from(_columns(table, lambda f: pa.types.is_timestamp(f.type))))
        return Case(kind, table, column, draw(st.sampled_from([0, 2**62, -(2**62), -(2**63) + 1])))
    if kind == "truncate":
        return Case(kind, table, value=draw(st.floats(0.0, 0.99)))
    if kind == "garbage":
        junk = draw(st.binary(max_size=64))
        return Case(kind, table, value=b"PAR1" + junk + b"PAR1" if draw(st.booleans()) else junk)
    if kind == "hostile_file_name":
        return Case(kind, table, value=draw(st.sampled_from(HOSTILE_FILE_PARTS)))
    return Case(kind, table)


def _set(table: pa.Table, column: str, values: pa.Array) -> pa.Table:
    return table.set_column(table.schema.get_field_index(column), column, values)


def _first(table: pa.Table, column: str, value: object, kind: pa.DataType | None = None) -> pa.Table:
    if table.num_rows == 0:
        return table
    values = table[column].to_pylist()
    values[0] = value
    return _set(table, column, pa.array(values, kind or table.schema.field(column).type))


def mutate(case: Case, table: pa.Table) -> pa.Table:
    """The table with the case's change applied (file-level cases leave it alone)."""
    col = case.column
    if case.kind == "id_value":
        return _set(table, col, pa.array([case.value] * table.num_rows, pa.string()))
    if case.kind == "wrong_type":
        current = table.schema.field(col).type
        other = pa.int64() if current == pa.string() else pa.string()
        values = [
            None if v is None else (len(str(v)) if other == pa.int64() else str(v)) for v in table[col].to_pylist()
        ]
        return _set(table, col, pa.array(values, other))
    if case.kind == "extra_column":
        return table.append_column(str(case.column), pa.array(["x"] * table.num_rows))
    if case.kind == "drop_column":
        return table.drop_columns([col])
    if case.kind == "duplicate_column":
        return table.append_column(col, table[col])
    if case.kind == "duplicate_row" and table.num_rows:
        return pa.concat_tables([table, table.slice(0, 1)])
    if case.kind in ("float_value", "int_value", "text_value", "json_value") and col in table.column_names:
        return _first(table, col, case.value)
    if case.kind == "null_value":
        return _first(table, col, None)
    if case.kind == "timestamp" and table.num_rows:
        micros = table[col].cast(pa.int64()).to_pylist()
        micros[0] = case.value
        return _set(table, col, pa.array(micros, pa.int64()).cast(table.schema.field(col).type))
    if case.kind == "bomb":
        strings = _columns(case.table, lambda f: f.type == pa.string() and f.name not in _JSON_COLUMNS)
        return _first(table, strings[-1], "a" * 2_000_000) if strings else table
    if case.kind == "many_rows" and table.num_rows:
        return pa.concat_tables([table] * (10_001 // table.num_rows + 1))
    if case.kind == "empty_table":
        return table.slice(0, 0)
    return table


def materialize(case: Case, base: dict[str, pa.Table], run_id: str) -> tuple[dict[str, bytes], dict[str, pa.Table]]:
    """Repo-relative shard files for one run with the case applied, and the tables as written."""
    files: dict[str, bytes] = {}
    written: dict[str, pa.Table] = {}
    for name, table in base.items():
        if "run_id" in table.column_names:
            table = _set(table, "run_id", pa.array([run_id] * table.num_rows, pa.string()))
        if name == case.table:
            if case.kind == "missing_file":
                continue
            table = mutate(case, table)
        sink = pa.BufferOutputStream()
        squeeze = name == case.table and case.kind in ("bomb", "many_rows")  # a small file, a large table
        pq.write_table(table, sink, compression="zstd" if squeeze else "none")
        data = sink.getvalue().to_pybytes()
        rel = f"data/{name}/{TASK}/{run_id}.parquet"
        if name == case.table:
            if case.kind == "truncate":
                data = data[: int(len(data) * float(case.value))]
            elif case.kind == "garbage":
                data = bytes(case.value)  # type: ignore[arg-type]
            elif case.kind == "hostile_file_name":
                rel = f"data/{name}/regtest/{case.value}/{run_id}.parquet"
        files[rel] = data
        written[name] = table
    return files, written


def _rows(table: pa.Table) -> list[tuple]:
    """Rows with NaN made comparable (NaN != NaN would hide equal rows), timestamps as integers."""
    for index, fld in enumerate(table.schema):
        if pa.types.is_timestamp(fld.type):
            table = table.set_column(index, fld.name, table[fld.name].cast(pa.int64()))
    return [
        tuple("NaN" if isinstance(v, float) and math.isnan(v) else v for v in row.values()) for row in table.to_pylist()
    ]


def check_store(
    store: Store,
    expected_counts: dict[str, int],
    runs: dict[str, dict[str, pa.Table]],
    refused: list[str] = (),  # type: ignore[assignment]
) -> None:
    """Row counts are what they should be, each run in ``runs`` reads back exactly as its shards, and no
    table holds a row of a ``refused`` run (a rejected import or pull left nothing behind)."""
    with store.reader() as con:
        got = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in SHARD_TABLES if t != "models"}
        back = {run_id: _run_tables(con, run_id) for run_id in runs}
        for run_id in refused:
            left = {
                t: n
                for t in RUN_TABLES
                if (n := con.execute(f"SELECT count(*) FROM {t} WHERE run_id = ?", [run_id]).fetchall()[0][0])
            }
            assert not left, f"refused run {run_id} left rows behind: {left}"
    assert got == {t: n for t, n in expected_counts.items() if t != "models"}
    for run_id, written in runs.items():
        models = set(back[run_id]["models"]["model_id"].to_pylist())
        # Metadata of a model other runs also name: the store keeps its own copy (item 3's rules).
        assert set(written["runs"]["model_id"].to_pylist()) <= models
        for name in SHARD_TABLES:
            if name != "models":
                expected = written[name].sort_by([(k, "ascending") for k in KEYS[name]])
                assert _rows(back[run_id][name]) == _rows(expected), f"{name} of {run_id} stored differently"


def rows_of(written: dict[str, pa.Table]) -> dict[str, int]:
    return {t: written[t].num_rows for t in SHARD_TABLES}


EXPECTED_COUNTS: dict[str, int] = dict.fromkeys(SHARD_TABLES, 0)


def files_outside(root: Path, allowed: Path) -> set[Path]:
    """Files under ``root`` but not under ``allowed`` (a child of root, not walked: it grows with the corpus)."""
    found = set()
    for child in root.iterdir():
        if child == allowed:
            continue
        found |= {child} if child.is_file() else {p for p in child.rglob("*") if p.is_file()}
    return found


@pytest.fixture(scope="module")
def corpus_env(tmp_path_factory: pytest.TempPathFactory):
    """One real run's six shard tables, limits for the corpus, and a folder whose contents are watched."""
    from emergebench.plugins import PluginManager, reset_manager
    from emergebench.runner import RunOptions, build_spec, run_sync
    from registry_testplugin import RegTestPlugin

    root = tmp_path_factory.mktemp("corpus")
    saved = {k: os.environ.get(k) for k in [*LIMITS, "EMERGEBENCH_HOME", "EMERGEBENCH_LOAD_PLUGINS", "HF_HOME"]}
    os.environ.update(LIMITS)
    os.environ.update(EMERGEBENCH_HOME=str(root / "home"), EMERGEBENCH_LOAD_PLUGINS="registry")
    os.environ["HF_HOME"] = str(root / "home" / "hf")
    reset_manager()
    manager = PluginManager()
    manager.register_module(RegTestPlugin, "regtest")
    run = run_sync(
        build_spec(
            "regtest/quiz",
            "scripted/function",
            manager=manager,
            model_args={"function": "registry_testplugin:solve_sum"},
        ),
        RunOptions(runs_dir=root / "home" / "runs", cache_path=root / "home" / "cache.sqlite", progress=False),
        manager,
    )
    with Store().reader() as con:
        export_runs(con, root / "home" / "tpl", [run.run_id])
    base = {t: pq.read_table(root / "home" / "tpl" / f"data/{t}/{TASK}/{run.run_id}.parquet") for t in SHARD_TABLES}
    shutil.rmtree(root / "home" / "tpl")
    yield root, base, Store(root / "home" / "corpus.duckdb")
    reset_manager()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


COUNTER = itertools.count()
CORPUS_SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


BATCH = 5


@pytest.mark.slow
@settings(CORPUS_SETTINGS, max_examples=40)  # 40 batches of 5: 200 cases
@given(batch=st.lists(cases(), min_size=BATCH, max_size=BATCH))
def test_import_corpus(corpus_env, batch: list[Case]) -> None:
    """Each case imported on its own; a rejection names its file and changes nothing (checked per batch)."""
    root, base, store = corpus_env
    accepted: dict[str, dict[str, pa.Table]] = {}
    refused: list[str] = []
    watched = files_outside(root, root / "home")
    for case in batch:
        run_id = f"corpus-import-{next(COUNTER)}"
        files, written = materialize(case, base, run_id)
        folder = root / "in" / run_id
        for rel, data in files.items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_bytes(data)
        try:
            report = import_paths(store, [folder])
        except ShardError as exc:
            message = str(exc)
            assert "the registry was not changed" in message
            assert any(str(folder / rel) in message for rel in files) or "incomplete" in message, message
            refused.append(run_id)
        else:
            assert report.imported == [run_id], (case, report)
            for table, n in rows_of(written).items():
                EXPECTED_COUNTS[table] += n
            accepted[run_id] = written
        shutil.rmtree(folder)
    check_store(store, EXPECTED_COUNTS, accepted, refused)
    assert files_outside(root, root / "home") == watched


HOSTILE_LISTING = [
    "data/../../x.parquet",
    "data/runs/../../../../tmp/e/{run}.parquet",
    "data/runs/a\u202e/{run}.parquet",
]


@pytest.mark.slow
@settings(CORPUS_SETTINGS, max_examples=40)  # 40 pulls of 5 runs each
@given(
    batch=st.lists(cases(), min_size=5, max_size=5),
    card=st.binary(max_size=200),
    listing=st.sampled_from(HOSTILE_LISTING),
)
def test_pull_corpus(corpus_env, corpus_hub, batch: list[Case], card: bytes, listing: str) -> None:
    """Five hostile runs, a hostile listing name and a garbage card per repo head; then a push over it."""
    root, base, store = corpus_env
    hub = corpus_hub
    repo = f"{REPO}-{next(COUNTER)}"
    written_by_run: dict[str, dict[str, pa.Table]] = {}
    files: dict[str, bytes] = {}
    for case in batch:
        run_id = f"corpus-pull-{next(COUNTER)}"
        run_files, written_by_run[run_id] = materialize(case, base, run_id)
        files.update(run_files)
    some_run = next(iter(written_by_run))
    files[listing.format(run=some_run)] = next(iter(files.values()))
    files["README.md"] = card
    watched = files_outside(root, root / "home")
    saved_tempdir = tempfile.tempdir
    tempfile.tempdir = str(root / "home" / "tmp")  # pull's downloads land in a folder we can watch
    (root / "home" / "tmp").mkdir(exist_ok=True)
    try:
        os.environ["HF_TOKEN"] = hub.token
        hub.create_repo(repo, repo_type="dataset")
        hub.put_files(repo, files, repo_type="dataset", hostile_names=True)
        report = pull(store, repo, hub.endpoint)
        # Pushing over a garbage card replaces it without reading it.
        push(store, repo, hub.endpoint, run_ids=[])
        assert hub.files(repo, "dataset")["README.md"].decode().startswith("---\nconfigs:")
    except UsageError as exc:  # only the project's own errors may reach the user
        pytest.fail(f"pull or push refused the whole repo: {exc}")
    finally:
        tempfile.tempdir = saved_tempdir
        os.environ.pop("HF_TOKEN", None)
    assert listing.format(run=some_run) in report.rejected
    imported = set(report.imported)
    for run_id in written_by_run:
        named = [p for p in report.rejected if p.endswith(f"/{run_id}.parquet") and p != listing.format(run=run_id)]
        assert (run_id in imported) != bool(named), (run_id, report.rejected)
    for run_id in imported:
        for table, n in rows_of(written_by_run[run_id]).items():
            EXPECTED_COUNTS[table] += n
    check_store(
        store, EXPECTED_COUNTS, {r: written_by_run[r] for r in imported}, sorted(set(written_by_run) - imported)
    )
    assert files_outside(root, root / "home") == watched
    assert not list((root / "home" / "tmp").iterdir())


@pytest.fixture(scope="module")
def corpus_hub() -> Iterator[HubServer]:
    with HubServer() as hub:
        yield hub


CLI_CASES = [
    Case("id_value", "runs", "task", "../../../../tmp/x"),
    Case("bomb", "samples"),
    Case("garbage", "scores", value=b"PAR1junkPAR1"),
    Case("truncate", "model_calls", value=0.5),
    Case("json_value", "runs", "task_args", '{"seed": 1, "n": '),
    Case("hostile_file_name", "metrics", value="quiz\u202e"),
]


def test_corpus_through_the_cli_never_shows_a_traceback(corpus_env, corpus_hub) -> None:
    """The same corpus through real `import` and `sync pull` subprocesses: each bad file named, exit 1, no
    traceback; the import changes nothing, the pull imports the one good run beside them."""
    import subprocess

    from test_registry_cli import EB, env_for

    root, base, _ = corpus_env
    registry = root / "home" / "cli" / "registry.duckdb"
    env = env_for(root / "home")
    folders, files = [], {}
    for case in CLI_CASES:
        run_id = f"corpus-cli-{next(COUNTER)}"
        run_files, _ = materialize(case, base, run_id)
        folders.append(root / "home" / "cli" / run_id)
        for rel, data in run_files.items():
            (folders[-1] / rel).parent.mkdir(parents=True, exist_ok=True)
            (folders[-1] / rel).write_bytes(data)
        files.update(run_files)
    refused = subprocess.run(
        [*EB, "import", *map(str, folders), "--registry", str(registry)], env=env, capture_output=True, text=True
    )
    assert refused.returncode == 1 and "Traceback" not in refused.stderr, refused.stderr
    assert "the registry was not changed" in refused.stderr
    for folder in folders:
        assert f"rejected shard {folder}/data/" in refused.stderr, (folder, refused.stderr)
    good_run = f"corpus-cli-{next(COUNTER)}"
    files.update(materialize(Case("none", "runs"), base, good_run)[0])
    files["data/../../x.parquet"] = b"PAR1"
    files["README.md"] = b"\xff\xfe garbage card"
    repo = f"{REPO}-cli"
    corpus_hub.create_repo(repo, repo_type="dataset")
    corpus_hub.put_files(repo, files, repo_type="dataset", hostile_names=True)
    pulled = subprocess.run(
        [*EB, "sync", "pull", "--repo", repo, "--endpoint", corpus_hub.endpoint, "--registry", str(registry)],
        env={**env, "HF_TOKEN": corpus_hub.token},
        capture_output=True,
        text=True,
    )
    assert pulled.returncode == 1 and "Traceback" not in pulled.stderr + pulled.stdout, pulled.stderr
    assert "imported 1 run(s)" in pulled.stdout and "Rejected 'data/../../x.parquet'" not in pulled.stderr
    assert "Rejected data/../../x.parquet" in pulled.stderr
    for case, folder in zip(CLI_CASES, folders, strict=True):
        assert folder.name in pulled.stderr, (case, pulled.stderr)
    rows = run_sql(Store(registry), "SELECT run_id FROM runs").rows
    assert rows == [(good_run,)]
