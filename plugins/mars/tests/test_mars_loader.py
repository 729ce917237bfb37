"""Loaders on the shipped sample files and on malformed ones; file layout detection; sampling."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from emergebench import UsageError
from emergebench_mars.layout import find_split_file
from emergebench_mars.loader import DataFormatError, load_split
from emergebench_mars.sampling import reference_order, reference_subset, stratified_subset
from emergebench_mars.schema import EVENT, INFERENCE, SCHEMAS, TRANSITION
from emergebench_mars.sources import SAMPLE_DIR, DataRequest, load


@pytest.mark.parametrize("task", sorted(SCHEMAS))
@pytest.mark.parametrize("split", ["train", "dev", "test"])
def test_shipped_sample_files_load(task: str, split: str) -> None:
    loaded = load(DataRequest(data="sample"), SCHEMAS[task], split)
    rows = loaded.data.rows
    assert rows and {r.label for r in rows} == {0, 1}
    assert all(r.fields["event"] for r in rows)
    assert loaded.origin["source"] == "sample" and "not MARS data" in loaded.origin["note"]
    assert len(set(r.id for r in rows)) == len(rows) and rows[0].id == f"{split}-000000"


def test_sample_columns_follow_the_reference_names() -> None:
    transition = load(DataRequest(data="sample"), TRANSITION, "test").data
    assert transition.columns == {"event": "event_after_transition", "inference": "inference", "label": "label"}
    event = load(DataRequest(data="sample"), EVENT, "test").data
    assert event.columns == {"event": "event_replaced", "original_event": "event", "label": "label"}
    assert event.rows[0].groups == {"component_type": "quantity"}


def _write(tmp_path: Path, text: str, name: str = "test.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_column_names_file_column_and_what_was_found(tmp_path: Path) -> None:
    path = _write(tmp_path, "event,inference,label\na,b,1\n")
    with pytest.raises(DataFormatError) as info:
        load_split(path, TRANSITION, "test")
    message = str(info.value)
    assert str(path) in message and "'event'" in message and "event_after_transition" in message
    assert "'event', 'inference', 'label'" in message and "-T columns=" in message


def test_bad_label_names_row_and_value(tmp_path: Path) -> None:
    path = _write(tmp_path, "event_after_transition,inference,label\na,b,1\nc,d,maybe\n")
    with pytest.raises(DataFormatError, match=r"row 3: label column 'label' holds 'maybe'"):
        load_split(path, TRANSITION, "test")


def test_label_spellings_are_accepted(tmp_path: Path) -> None:
    path = _write(tmp_path, "event_after_transition,inference,label\na,b,1.0\nc,d,False\ne,f,yes\ng,h,0\n")
    assert [r.label for r in load_split(path, TRANSITION, "test").rows] == [1, 0, 1, 0]


def test_ragged_row_and_empty_file_are_rejected(tmp_path: Path) -> None:
    ragged = _write(tmp_path, "event_after_transition,inference,label\na,b,1,extra\n")
    with pytest.raises(DataFormatError, match="more fields than the header"):
        load_split(ragged, TRANSITION, "test")
    empty = _write(tmp_path, "", "empty.csv")
    with pytest.raises(DataFormatError, match="empty"):
        load_split(empty, TRANSITION, "test")
    header_only = _write(tmp_path, "event_after_transition,inference,label\n", "header.csv")
    with pytest.raises(DataFormatError, match="no usable rows"):
        load_split(header_only, TRANSITION, "test")


def test_blank_rows_are_skipped_and_counted(tmp_path: Path) -> None:
    path = _write(tmp_path, "event_after_transition,inference,label\na,b,1\n,d,0\ne,f,0\n")
    data = load_split(path, TRANSITION, "test")
    assert [r.id for r in data.rows] == ["test-000000", "test-000002"] and data.skipped_blank == 1


def test_column_overrides(tmp_path: Path) -> None:
    path = _write(tmp_path, "changed,then,gold\na,b,1\n")
    data = load_split(path, INFERENCE, "test", {"event": "changed", "inference": "then", "label": "gold"})
    assert data.rows[0].fields == {"event": "a", "inference": "b"} and data.rows[0].label == 1
    with pytest.raises(DataFormatError, match="unknown role"):
        load_split(path, INFERENCE, "test", {"antecedent": "changed"})
    with pytest.raises(DataFormatError, match="maps 'event' to column 'nope'"):
        load_split(path, INFERENCE, "test", {"event": "nope"})


def test_parquet_split(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "0000.parquet"
    table = pa.table({"event_after_transition": ["a", "c"], "inference": ["b", "d"], "label": [1, 0]})
    pq.write_table(table, path)
    assert [r.label for r in load_split(path, TRANSITION, "test").rows] == [1, 0]


@pytest.mark.parametrize(
    ("paths", "schema", "expected"),
    [
        (["README.md", "transition/test.csv", "inference/test.csv"], TRANSITION, ["transition/test.csv"]),
        (["Metaphysical_Event/train.csv", "Metaphysical_Event/test.csv"], EVENT, ["Metaphysical_Event/test.csv"]),
        (["data/mi_test.csv", "data/mt_test.csv"], INFERENCE, ["data/mi_test.csv"]),
        (
            ["transition/test.csv", "transition/data_with_equal_boundary/test.csv"],
            TRANSITION,
            ["transition/test.csv"],
        ),
        (
            ["metaphysical_transition/test/0000.parquet", "metaphysical_transition/test/0001.parquet"],
            TRANSITION,
            ["metaphysical_transition/test/0000.parquet", "metaphysical_transition/test/0001.parquet"],
        ),
        (["data/train.csv", "data/dev.csv", "data/test.csv"], TRANSITION, []),  # no task named: ambiguous
        (["train.csv", "dev.csv", "test.csv"], TRANSITION, ["test.csv"]),  # the reference's ../data layout
    ],
)
def test_layout_detection(paths: list[str], schema, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    if expected:
        assert find_split_file(paths, schema, "test", where="repo") == expected
    else:
        with pytest.raises(UsageError, match="cannot find the test split"):
            find_split_file(paths, schema, "test", where="repo")


def test_layout_variant_and_errors() -> None:
    paths = ["transition/test.csv", "transition/data_with_equal_boundary/test.csv"]
    found = find_split_file(paths, TRANSITION, "test", variant="equal_boundary", where="repo")
    assert found == ["transition/data_with_equal_boundary/test.csv"]
    with pytest.raises(UsageError, match=r"Data files there: README.md|\(no .csv"):
        find_split_file(["README.md"], TRANSITION, "test", where="repo")
    with pytest.raises(UsageError, match="several files"):
        find_split_file(["transition/test.csv", "mt/test.csv"], TRANSITION, "test", where="repo")
    # dev is also found under the parquet converter's name "validation"
    assert find_split_file(["mt/validation/0000.parquet"], TRANSITION, "dev", where="repo") == [
        "mt/validation/0000.parquet"
    ]


def test_data_dir_and_path_template(tmp_path: Path) -> None:
    folder = tmp_path / "copy" / "transition"
    folder.mkdir(parents=True)
    (folder / "test.csv").write_bytes((SAMPLE_DIR / "transition" / "test.csv").read_bytes())
    loaded = load(DataRequest(data_dir=str(tmp_path / "copy")), TRANSITION, "test")
    assert loaded.origin["source"] == "local" and len(loaded.data.rows) == 12
    templated = load(
        DataRequest(data_dir=str(tmp_path), path_template="copy/transition/{split}.csv"), TRANSITION, "test"
    )
    assert len(templated.data.rows) == 12
    with pytest.raises(UsageError, match="must contain"):
        load(DataRequest(data_dir=str(tmp_path), path_template="copy/transition/test.csv"), TRANSITION, "test")
    with pytest.raises(UsageError, match="is not a directory"):
        load(DataRequest(data_dir=str(tmp_path / "missing")), TRANSITION, "test")
    with pytest.raises(UsageError, match="exclude each other"):
        load(DataRequest(data="sample", data_dir=str(tmp_path)), TRANSITION, "test")


def test_stratified_subset_keeps_label_shares_and_is_seeded() -> None:
    items = list(range(100))
    labels = [1 if i < 70 else 0 for i in items]
    subset = stratified_subset(items, labels, 10, seed=3)
    assert Counter(labels[i] for i in subset) == {1: 7, 0: 3}
    assert subset == sorted(subset) == stratified_subset(items, labels, 10, seed=3)
    assert subset != stratified_subset(items, labels, 10, seed=4)
    # quotas 3.5 and 1.5 tie on the remainder: the documented tie-break gives the slot to label 0
    assert Counter(labels[i] for i in stratified_subset(items, labels, 5, seed=0)) == {1: 3, 0: 2}
    assert stratified_subset(items, labels, None, seed=0) == items


def test_reference_subset_matches_pandas_sample_829() -> None:
    # pandas 3.1.1: DataFrame({'i': range(16)}).sample(frac=1, random_state=829)['i'].tolist()
    assert reference_order(16) == [9, 11, 4, 3, 8, 7, 12, 5, 14, 1, 15, 10, 13, 6, 0, 2]
    # same with 11,982 rows (the MARS event test size), first 8 of the 2,000-row subset
    assert reference_order(11982)[:8] == [11782, 3660, 11808, 5603, 10764, 5745, 471, 3740]
    test, dev = [f"t{i}" for i in range(10)], [f"d{i}" for i in range(6)]
    subset = reference_subset(test, dev, size=2000)  # test is short: dev is appended, then shuffled
    assert subset[:3] == ["t9", "d1", "t4"] and len(subset) == 16
    short = reference_subset(test, dev, size=4)  # test is long enough: dev stays out
    assert len(short) == 4 and all(x.startswith("t") for x in short)
