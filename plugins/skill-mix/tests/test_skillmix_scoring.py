"""Metric arithmetic on hand-built points, with the exact values the reference's definitions give."""

from __future__ import annotations

import pytest
from emergebench_skill_mix.scoring import (
    across_generations,
    apply_name_penalty,
    generation_metrics,
    named_skills,
    vote,
)


def test_majority_vote_rounds_half_to_even() -> None:
    rounds = [[1, 0.5, 0.5, 1, 0, 1], [1, 0.5, 1, 0, 0, 1], [0, 0.5, 1, 0, 0.5, 1]]
    # means: 2/3, 0.5, 5/6, 1/3, 1/6, 1 -> rint: 1, 0 (half to even), 1, 0, 0, 1
    assert vote(rounds) == [1.0, 0.0, 1.0, 0.0, 0.0, 1.0]
    assert vote([[1.5, 2.5, 0.5]]) == [2.0, 2.0, 0.0]
    assert vote(rounds, "average") == pytest.approx([2 / 3, 0.5, 5 / 6, 1 / 3, 1 / 6, 1.0])
    with pytest.raises(ValueError, match="disagree"):
        vote([[1, 1], [1]])


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        ([1, 1, 1, 1, 1, 1], (1.0, 1.0, 1.0)),  # everything
        ([1, 1, 1, 1, 0, 1], (0.0, 1.0, 0.0)),  # all skills, 2 of 3 others: All Skills yes, Skill Fraction 0
        ([1, 1, 1, 0, 0, 1], (0.0, 0.0, 0.0)),  # all skills but only 1 other
        ([1, 0, 1, 1, 1, 1], (0.0, 0.0, 2 / 3)),
        ([0, 0, 0, 1, 1, 1], (0.0, 0.0, 0.0)),
    ],
)
def test_generation_metrics_k3(points: list[float], expected: tuple[float, float, float]) -> None:
    got = generation_metrics([float(p) for p in points], 3)
    assert (got["ratio_of_full_marks"], got["ratio_of_all_skills"], got["skill_fraction"]) == pytest.approx(expected)


def test_generation_metrics_with_average_vote_values() -> None:
    # With the 'average' vote, points are fractions: nothing is full unless every item is exactly 1.
    got = generation_metrics([1.0, 2 / 3, 1.0, 1.0, 1.0], 2)
    assert got == {"ratio_of_full_marks": 0.0, "ratio_of_all_skills": 0.0, "skill_fraction": pytest.approx(5 / 6)}
    with pytest.raises(ValueError, match="expected 5 points"):
        generation_metrics([1.0] * 6, 2)


def test_across_generations_max_and_mean() -> None:
    gens = [
        {"ratio_of_full_marks": 0.0, "ratio_of_all_skills": 1.0, "skill_fraction": 0.0},
        {"ratio_of_full_marks": 0.0, "ratio_of_all_skills": 0.0, "skill_fraction": 0.5},
        {"ratio_of_full_marks": 1.0, "ratio_of_all_skills": 1.0, "skill_fraction": 1.0},
        {"ratio_of_full_marks": 0.0, "ratio_of_all_skills": 0.0, "skill_fraction": 0.5},
    ]
    assert across_generations(gens, "max") == {
        "ratio_of_full_marks": 1.0,
        "ratio_of_all_skills": 1.0,
        "skill_fraction": 1.0,
    }
    assert across_generations(gens, "mean") == {
        "ratio_of_full_marks": 0.25,
        "ratio_of_all_skills": 0.5,
        "skill_fraction": 0.5,
    }
    # max is taken per metric: the best generation for one metric need not be the best for another.
    mixed = across_generations(gens[:2], "max")
    assert mixed == {"ratio_of_full_marks": 0.0, "ratio_of_all_skills": 1.0, "skill_fraction": 0.5}


def test_explicit_name_penalty_is_a_plain_substring_test() -> None:
    skills = ["metaphor", "complex question (loaded question with implicit assumption )", "red herring"]
    text = "A Metaphorical storm; what COMPLEX QUESTION? No herring here."
    assert named_skills(text, skills) == [True, True, False]
    assert apply_name_penalty([1, 1, 1, 1, 1, 1], [True, True, False]) == [0, 0, 1, 1, 1, 1]
