"""Leaderboard cells stay short whatever the size of a score (issue #15: a BoxingGym z-score of 3.49e25
was printed as 26 digits and three decimals). Expected strings are written by hand."""

from __future__ import annotations

import math

import pytest
from emergebench_registry.query import format_cell, format_score


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, "0.000"),
        (0.8333333, "0.833"),
        (-0.5, "-0.500"),
        (12.3456, "12.346"),
        (99999.4, "99999.400"),
        (123456.0, "1.23e+05"),
        (3.49e25, "3.49e+25"),
        (-4.9999999999999994e29, "-5e+29"),
        (0.000123, "0.000123"),
        (1.5e-9, "1.5e-09"),
        (math.inf, "inf"),
        (math.nan, "nan"),
    ],
)
def test_format_score_is_compact(value: float, expected: str) -> None:
    assert format_score(value) == expected


def test_cells_use_the_compact_form_for_value_and_interval() -> None:
    assert format_cell(3.49e25, None, 1.2e24, 7.7e25, 50, ci=True) == "3.49e+25 [1.2e+24, 7.7e+25] (n=50)"
    assert format_cell(3.49e25, 2.0e24, None, None, 50, ci=False) == "3.49e+25 ± 2e+24 (n=50)"
    assert format_cell(0.8333, 0.1667, None, None, 6, ci=False) == "0.833 ± 0.167 (n=6)"
    assert format_cell(0.5, None, 0.25, 0.75, 4, ci=True) == "0.500 [0.250, 0.750] (n=4)"
