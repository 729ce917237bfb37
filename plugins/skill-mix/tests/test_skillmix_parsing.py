"""Both grader output parsers on realistic and odd outputs: never a crash, problems recorded."""

from __future__ import annotations

from emergebench_skill_mix.data import load_skills
from emergebench_skill_mix.parsing import parse_points_earned, parse_table
from emergebench_skill_mix.prompts import rubric_items

CQ = "complex question (loaded question with implicit assumption )"


def items(style: str = "gpt4-table") -> list[str]:
    skills = load_skills()
    chosen = [skills.get(n) for n in ("spatial reasoning", CQ, "statistical syllogism")]
    return rubric_items(chosen, "Sewing", style)


# Shaped like the GPT-4 grader outputs in the reference's test/ folder (padded columns, total row, explanation).
GPT4_TABLE = """Here's the grading table:

| Criteria                                                  | Points Earned |
|-----------------------------------------------------------|---------------|
| Correctly illustrates spatial reasoning                   | 1             |
| Correctly illustrates complex question (loaded question with implicit assumption ) | 1             |
| Correctly illustrates statistical syllogism               | 0             |
| Pertains to Sewing                                        | 1             |
| Text makes sense                                          | 1             |
| At most two sentences                                     | 1             |
| Total Points Earned                                       | 5             |

Explanation:

The student's response uses spatial reasoning | but the syllogism is missing.
"""


def test_rubric_items_match_the_reference_wording() -> None:
    assert items() == [
        "Correctly illustrates spatial reasoning",
        f"Correctly illustrates {CQ}",
        "Correctly illustrates statistical syllogism",
        "Pertains to Sewing",
        "Text makes sense",
        "At most two sentences",
    ]
    assert items("llama2-points")[0] == "Contains spatial reasoning"


def test_table_realistic() -> None:
    parsed = parse_table(GPT4_TABLE, items())
    assert parsed.points == [1.0, 1.0, 0.0, 1.0, 1.0, 1.0]
    assert parsed.reported_total == 5.0
    assert not parsed.failed and parsed.row_mapping == "text"


def test_table_half_points_fractions_and_markdown() -> None:
    text = (
        "Sure. Here's the grading table:\n| Criteria | Points Earned |\n| --- | --- |\n"
        "| Correctly illustrates spatial reasoning | 0.5 |\n| Correctly illustrates complex question | 1/1 |\n"
        "| Correctly illustrates statistical syllogism | **1** |\n| Pertains to Sewing | 1 point |\n"
        "| Text makes sense | 1 |\n| At most two sentences | 0 |\n| **Total Points Earned** | 4.5/6 |\n"
    )
    parsed = parse_table(text, items())
    # The shortened "complex question" row is still matched to its item.
    assert parsed.points == [0.5, 1.0, 1.0, 1.0, 1.0, 0.0]
    assert parsed.reported_total == 4.5  # numerator of '4.5/6' (the reference would crash on it)
    assert not parsed.failed


def test_table_reordered_and_extra_rows_matched_by_text() -> None:
    text = (
        "Here's the grading table:\n| Criteria | Points Earned |\n|--|--|\n"
        "| Pertains to Sewing | 1 |\n| Text makes sense | 0 |\n| Correctly illustrates statistical syllogism | 1 |\n"
        "| Correctly illustrates spatial reasoning | 0 |\n| Correctly illustrates complex question | 1 |\n"
        "| Creativity bonus | 1 |\n| At most two sentences | 1 |\n| Total Points Earned | 5 |\nExplanation: ..."
    )
    parsed = parse_table(text, items())
    assert parsed.points == [0.0, 1.0, 1.0, 1.0, 0.0, 1.0]
    assert parsed.ignored_rows == ["creativity bonus"]
    assert parsed.row_mapping == "text" and not parsed.failed


def test_table_unmatched_wording_falls_back_to_order_like_the_reference() -> None:
    text = (
        "Here's the grading table:\n| Criteria | Points Earned |\n|---|---|\n| Skill 1 | 1 |\n| Skill 2 | 0 |\n"
        "| Skill 3 | 1 |\n| Topic | 1 |\n| Sense | 1 |\n| Length | 0 |\n| Extra | 1 |\n| Total | 5 |"
    )
    parsed = parse_table(text, items())
    assert parsed.row_mapping == "order"
    assert parsed.points == [1.0, 0.0, 1.0, 1.0, 1.0, 0.0]  # 7 rows for 6 items: the extra one dropped
    assert parsed.failed and "extra ones dropped" in parsed.problems[0]


def test_table_malformed_outputs_never_crash() -> None:
    none = parse_table("I think the student did well. Grade: 6", items())
    assert none.points == [0.0] * 6 and none.failed
    assert "no grading table found" in none.problems

    short = parse_table(
        "Here's the grading table:\n| Correctly illustrates spatial reasoning | 1 |\n| Foo | 1 |", items()
    )
    assert short.points == [1.0, 1.0, 0.0, 0.0, 0.0, 0.0] and short.failed  # padded with zeros, by order

    weird = parse_table(
        "Here's the grading table:\n| Correctly illustrates spatial reasoning | 1.0.5 |\n"
        "| Correctly illustrates complex question | N/A |\n| lonely cell |\n"
        "| Correctly illustrates statistical syllogism | yes |\n| Pertains to Sewing | 1 |\n| Text makes sense | 1 |",
        items(),
    )
    # '1.0.5' and 'N/A' cannot be read (scored 0, recorded); 'yes' has no number so the row is skipped as in the
    # reference, which leaves the syllogism item unmatched and the whole table assigned by order.
    assert weird.failed
    assert any("1.0.5" in p for p in weird.problems) and any("N/A" in p for p in weird.problems)
    assert any("lonely cell" in p for p in weird.problems)
    assert weird.row_mapping == "order" and weird.points == [0.0, 0.0, 1.0, 1.0, 0.0, 0.0]


# Shaped like the LLaMA-2-70B "Point earned" outputs the reference's llama prompt asks for.
LLAMA_OUTPUT = """Sure, I'd be happy to help you grade the student's answer!

1. Contains spatial reasoning: The answer mentions the corner of the room. Point earned: 1
2. Contains complex question: The question presupposes the machine works. Point earned: 1
3. Contains statistical syllogism: No generalization is applied. Point earned: 0
4. Pertains to Sewing: Point earned: 1
5. Text makes sense: Point Earned: 1
6. At most two sentences: Point earned: 1

Grade: 5/6"""


def test_points_earned_realistic() -> None:
    parsed = parse_points_earned(LLAMA_OUTPUT, items("llama2-points"))
    assert parsed.points == [1.0, 1.0, 0.0, 1.0, 1.0, 1.0]
    assert parsed.reported_total == 5.0 and not parsed.failed


def test_points_earned_odd_values() -> None:
    text = (
        "Point earned: 0.5\nPoints earned: 1/1\nPoint earned: **1**\nPoint earned: 1.\n"
        "Point earned: one\nPoint earned:\n\nPoint earned: 0 (the text is long)\nPoint earned: 1\nGrade: **4**"
    )
    parsed = parse_points_earned(text, items("llama2-points"))
    # 'one' reads as 0 (recorded); the empty 'Point earned:' reads the next non-blank text ('point'), as the
    # reference's strip() does, so it is 0 too; 8 values for 6 items are truncated.
    assert parsed.raw == [0.5, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    assert parsed.points == [0.5, 1.0, 1.0, 1.0, 0.0, 0.0]
    assert parsed.reported_total == 4.0
    assert parsed.failed and any("one" in p for p in parsed.problems)


def test_points_earned_missing_and_short() -> None:
    nothing = parse_points_earned("The student did fine. Grade: 3", items("llama2-points"))
    assert nothing.points == [0.0] * 6 and nothing.failed and nothing.reported_total == 3.0
    short = parse_points_earned("Point earned: 1\nPoint earned: 1", items("llama2-points"))
    assert short.points == [1.0, 1.0, 0.0, 0.0, 0.0, 0.0] and short.failed
