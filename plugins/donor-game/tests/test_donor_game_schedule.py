"""The pairing schedule of spec section 3."""

from __future__ import annotations

import pytest
from emergebench_donor_game.schedule import game_schedule, swap_roles

A = [f"A{j}" for j in range(1, 7)]
B = [f"B{j}" for j in range(1, 7)]
NAMES = A + B


def as_names(rnd: list[tuple[int, int]]) -> list[str]:
    return [f"{NAMES[d]}->{NAMES[r]}" for d, r in rnd]


def test_reference_table_matches_spec() -> None:
    rounds = game_schedule(12, "reference")
    assert len(rounds) == 12
    assert as_names(rounds[0]) == [f"A{j}->B{j}" for j in range(1, 7)]
    assert as_names(rounds[1]) == ["B6->A1", "B1->A2", "B2->A3", "B3->A4", "B4->A5", "B5->A6"]
    assert as_names(rounds[2]) == ["A1->B5", "A2->B6", "A3->B1", "A4->B2", "A5->B3", "A6->B4"]
    assert as_names(rounds[3]) == ["B4->A1", "B5->A2", "B6->A3", "B1->A4", "B2->A5", "B3->A6"]
    assert as_names(rounds[4]) == ["A1->B3", "A2->B4", "A3->B5", "A4->B6", "A5->B1", "A6->B2"]
    assert as_names(rounds[5]) == ["B2->A1", "B3->A2", "B4->A3", "B5->A4", "B6->A5", "B1->A6"]
    assert as_names(rounds[6]) == [f"B{j}->A{j}" for j in range(1, 7)]
    assert as_names(rounds[7])[:2] == ["A1->B6", "A2->B1"]
    assert as_names(rounds[8])[:3] == ["B5->A1", "B6->A2", "B1->A3"]
    assert as_names(rounds[11])[:3] == ["A1->B2", "A2->B3", "A3->B4"]


@pytest.mark.parametrize("population", [2, 4, 6, 10, 12, 20])
@pytest.mark.parametrize("kind", ["reference", "alternating"])
def test_every_agent_once_per_round_and_groups_never_meet_themselves(population: int, kind: str) -> None:
    half = population // 2
    rounds = game_schedule(population, kind)
    assert len(rounds) == population
    meetings: dict[frozenset[int], list[tuple[int, int]]] = {}
    for rnd in rounds:
        seen = [i for pair in rnd for i in pair]
        assert sorted(seen) == list(range(population))
        for d, r in rnd:
            assert (d < half) != (r < half)
            meetings.setdefault(frozenset((d, r)), []).append((d, r))
    # every A-B pair meets exactly twice per game, once in each role
    assert len(meetings) == half * half
    for pairs in meetings.values():
        assert len(pairs) == 2 and pairs[0] == pairs[1][::-1]


def donor_rounds(rounds: list[list[tuple[int, int]]], half: int) -> tuple[set[int], set[int]]:
    a = {i for i, rnd in enumerate(rounds, 1) if rnd[0][0] < half}
    return a, set(range(1, len(rounds) + 1)) - a


def test_reference_donor_rounds_and_the_double_b_turn() -> None:
    a, b = donor_rounds(game_schedule(12), 6)
    assert a == {1, 3, 5, 8, 10, 12}
    assert b == {2, 4, 6, 7, 9, 11}
    a2, b2 = donor_rounds(swap_roles(game_schedule(12)), 6)
    assert (a2, b2) == (b, a)


@pytest.mark.parametrize("population", [2, 6, 12])
def test_alternating_schedule_alternates_strictly(population: int) -> None:
    a, _ = donor_rounds(game_schedule(population, "alternating"), population // 2)
    assert a == set(range(1, population + 1, 2))


@pytest.mark.parametrize(("population", "kind"), [(7, "reference"), (0, "reference"), (12, "random")])
def test_bad_schedule_requests_are_refused(population: int, kind: str) -> None:
    with pytest.raises(ValueError, match=str(population) if kind != "random" else "random"):
        game_schedule(population, kind)
