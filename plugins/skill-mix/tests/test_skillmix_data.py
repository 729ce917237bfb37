"""Data files, their validation, and the reference's combination draw."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import pytest
from emergebench import UsageError
from emergebench_skill_mix.data import bundled_path, load_skills, load_topics
from emergebench_skill_mix.sampling import draw_combinations

CQ = "complex question (loaded question with implicit assumption )"


def test_bundled_files_are_the_reference_bytes() -> None:
    # sha256 values from the data's SOURCE.md (copies of LeoYu/skill-mix at aeeea53).
    skills = load_skills()
    topics = load_topics()
    assert skills.sha256 == "8757270cab3d86008173a5af3bf947240db7064ec49a703421574ccf56cb5350"
    assert topics.sha256 == "34858f5a7f613de6a83a6c637d4cda30b998fce5eeca2f0aabcab784ce9d869b"
    assert hashlib.sha256(bundled_path("skills.csv").read_bytes()).hexdigest() == skills.sha256
    assert b"\r\n" in bundled_path("skills.csv").read_bytes()
    assert len(skills.skills) == 10 and len(topics.topics) == 10
    assert CQ in skills.names  # the odd space before ')' is kept
    assert skills.get("metaphor").category == "literary"
    assert topics.topics[0] == "Sewing" and topics.topics[-1] == "Knots"
    for name in ("LICENSE-DATA.md", "SOURCE.md"):
        assert bundled_path(name).is_file()


def test_seed_10_reproduces_the_reference_test_combinations() -> None:
    # The five combinations of R test/k3_s10_vdefault_r*, skills in the order of the reference's file names.
    combos = draw_combinations(load_skills().names, list(load_topics().topics), k=3, num_combinations=5, seed=10)
    assert [(c.topic, c.skills) for c in combos] == [
        ("Sewing", ("spatial reasoning", CQ, "statistical syllogism")),
        ("Beekeeping", (CQ, "red herring", "metaphor")),
        ("Gardening", ("accident (fallacy)", CQ, "emotional self regulation")),
        ("Triathlons", ("self serving bias", "red herring", "emotional self regulation")),
        ("Urbanism", ("statistical syllogism", "folk physics (common knowledge physics)", "emotional self regulation")),
    ]


def test_draw_is_deterministic_and_depends_on_the_seed() -> None:
    names, topics = load_skills().names, list(load_topics().topics)
    a = draw_combinations(names, topics, 2, 20, seed=10)
    assert a == draw_combinations(names, topics, 2, 20, seed=10)
    assert a != draw_combinations(names, topics, 2, 20, seed=11)
    assert all(len(set(c.skills)) == 2 for c in a)


def test_all_combinations_option() -> None:
    names, topics = load_skills().names, list(load_topics().topics)
    combos = draw_combinations(names, topics, 3, -1)
    assert len(combos) == 120
    assert len({frozenset(c.skills) for c in combos}) == 120
    assert {frozenset(c) for c in itertools.combinations(names, 3)} == {frozenset(c.skills) for c in combos}


@pytest.mark.parametrize(
    ("k", "n", "message"), [(11, 3, "larger than the skill list"), (0, 3, "at least 1"), (2, 0, "-1")]
)
def test_bad_draw_arguments(k: int, n: int, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        draw_combinations(load_skills().names, ["Sewing"], k, n)


def test_custom_files_validated(tmp_path: Path) -> None:
    missing = tmp_path / "missing_cols.csv"
    missing.write_text("skill,definition\nmetaphor,a figure\n", encoding="utf-8")
    with pytest.raises(UsageError, match="lacks the column.*example"):
        load_skills(missing)
    empty = tmp_path / "empty.csv"
    empty.write_text("skill,definition,example\n", encoding="utf-8")
    with pytest.raises(UsageError, match="no usable skills"):
        load_skills(empty)
    with pytest.raises(UsageError, match="does not exist"):
        load_skills(tmp_path / "nope.csv")
    dup = tmp_path / "dup.csv"
    dup.write_text("skill,definition,example\nmetaphor,a,b\n metaphor ,c,d\n", encoding="utf-8")
    with pytest.raises(UsageError, match="appears twice"):
        load_skills(dup)
    blank = tmp_path / "topics.txt"
    blank.write_text("\n\n", encoding="utf-8")
    with pytest.raises(UsageError, match="no topics"):
        load_topics(blank)


def test_custom_files_status_filter_and_crlf_topics(tmp_path: Path) -> None:
    skills = tmp_path / "skills.csv"
    skills.write_text(
        "category,skill,definition,example,status\r\nx, alpha ,def a,ex a,keep\r\nx,beta,def b,ex b,remove\r\n"
        "x,gamma,def g,ex g,\r\n",
        encoding="utf-8",
    )
    loaded = load_skills(skills)
    assert loaded.names == ["alpha", "gamma"]
    assert loaded.sha256 == hashlib.sha256(skills.read_bytes()).hexdigest()
    topics = tmp_path / "topics.txt"
    topics.write_bytes(b"Knitting\r\nFalconry\r\n")
    assert load_topics(topics).topics == ("Knitting", "Falconry")
