"""Item 14.8: the loader never shows the original event in place of the changed one, and builds the
changed event from the original and its substitution when a release holds those instead."""

from __future__ import annotations

from pathlib import Path

import pytest
from emergebench_mars.changed_event import substitute
from emergebench_mars.loader import DataFormatError, load_split
from emergebench_mars.schema import EVENT, INFERENCE
from emergebench_mars.sources import DataRequest
from emergebench_mars.tasks import EventTask

ORIGINAL = "The child is chased by a 10 centimeters butterfly on the grass"


def _write(tmp_path: Path, text: str, name: str = "test.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("event", "original", "substitution", "expected"),
    [
        # the overview figure's two changes, worked by hand (lower-cased, single spaces, as curated)
        (ORIGINAL, "centimeters", "meters", "the child is chased by a 10 meters butterfly on the grass"),
        (ORIGINAL, "butterfly", "fly", "the child is chased by a 10 centimeters fly on the grass"),
        (ORIGINAL, "10 centimeters butterfly", "huge kite", "the child is chased by a huge kite on the grass"),
        ("a cat sees a cat", "Cat", "dog", "a dog sees a dog"),  # every occurrence, any case
        ("a b a b a", "a b a", "x", "x b a"),  # left to right, no overlaps
        ("the  child\truns", "child", "adult", "the adult runs"),  # whitespace collapses
        (ORIGINAL, "grass.", "sand", None),  # token match only: not in the event
        (ORIGINAL, "butter", "honey", None),  # part of a word is not a component
        (ORIGINAL, "", "x", None),
    ],
)
def test_substitute_matches_hand_worked_cases(event: str, original: str, substitution: str, expected: str) -> None:
    assert substitute(event, original, substitution) == expected


def test_event_file_with_components_builds_the_changed_event(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "event,component_type,component_original,component_substitution,label\n"
        f"{ORIGINAL},quantity,centimeters,meters,0\n"
        f"{ORIGINAL},object,butterfly,fly,1\n"
        f"{ORIGINAL},object,dragon,fly,1\n"  # the component is not in the event: skipped, counted
        f"{ORIGINAL},object,,fly,1\n",  # blank component: a blank row
    )
    data = load_split(path, EVENT, "test")
    assert [r.fields["event"] for r in data.rows] == [
        "the child is chased by a 10 meters butterfly on the grass",
        "the child is chased by a 10 centimeters fly on the grass",
    ]
    assert [r.fields["original_event"] for r in data.rows] == [ORIGINAL, ORIGINAL]
    assert [r.label for r in data.rows] == [0, 1]
    assert data.columns["event"] == "built" and data.built_from == (
        "event with component_original replaced by component_substitution"
    )
    assert data.skipped_unbuildable == 1 and data.skipped_blank == 1
    # ids keep pointing at the file's data rows
    assert [r.id for r in data.rows] == ["test-000000", "test-000001"]


def test_inference_file_with_components_builds_too(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "event,component_original,component_substitution,inference,label\n"
        f"{ORIGINAL},centimeters,meters,the child is likely to run and scream,1\n",
    )
    row = load_split(path, INFERENCE, "test").rows[0]
    assert row.fields["event"] == "the child is chased by a 10 meters butterfly on the grass"
    assert row.fields["inference"] == "the child is likely to run and scream"


@pytest.mark.parametrize(
    ("schema", "header"),
    [
        (EVENT, "event,component_type,label"),
        (INFERENCE, "event,inference,label"),
        (EVENT, "event,component_original,label"),
    ],
)
def test_only_the_original_event_is_an_error_never_a_fallback(tmp_path: Path, schema, header: str) -> None:  # type: ignore[no-untyped-def]
    values = ",".join(["x"] * (header.count(",")) + ["1"])
    path = _write(tmp_path, f"{header}\n{values}\n")
    with pytest.raises(DataFormatError) as info:
        load_split(path, schema, "test")
    message = str(info.value)
    assert str(path) in message  # the file
    assert "The file has: " + ", ".join(repr(c) for c in header.split(",")) in message  # the columns found
    assert "event_replaced" in message and "component_substitution" in message  # what it needs
    assert '-T columns=\'{"event": "COLUMN"}\'' in message  # the mapping that fixes it
    assert "original, unchanged event" in message


def test_explicit_mapping_still_overrides(tmp_path: Path) -> None:
    path = _write(tmp_path, "event,label\nsomething odd happens,1\n")
    data = load_split(path, EVENT, "test", {"event": "event"})
    assert data.rows[0].fields["event"] == "something odd happens" and data.built_from is None
    renamed = _write(tmp_path, "ev,orig,subst,y\nthe cat sleeps,cat,stone,0\n", "renamed.csv")
    mapping = {"original_event": "ev", "component_original": "orig", "component_substitution": "subst", "label": "y"}
    assert load_split(renamed, EVENT, "test", mapping).rows[0].fields["event"] == "the stone sleeps"


def test_built_event_reaches_the_prompt_and_provenance(tmp_path: Path) -> None:
    folder = tmp_path / "event"
    folder.mkdir()
    (folder / "test.csv").write_text(
        "event,component_original,component_substitution,label\n"
        f"{ORIGINAL},centimeters,meters,0\n{ORIGINAL},butterfly,fly,1\n",
        encoding="utf-8",
    )
    task = EventTask(EventTask.Args(data_dir=str(tmp_path)))
    samples = task.dataset(0)
    assert samples[0].input["event"] == "the child is chased by a 10 meters butterfly on the grass"
    facts = task.provenance()
    assert facts["mars.test.event_built_from"].startswith("event with component_original")
    assert facts["mars.test.skipped_unbuildable_rows"] == 0
    assert DataRequest(data_dir=str(tmp_path)).data_dir == str(tmp_path)
