"""Who gives to whom in each round (spec section 3).

Agents sit in a list; the first half is group A, the rest group B. Every round pairs each A with one B,
so groups never meet themselves and no agent appears twice in a round (which is why one round's
donation calls may run concurrently). Pairs are ``(donor_index, recipient_index)`` into that list.
"""

from __future__ import annotations

Pair = tuple[int, int]
Round = list[Pair]

SCHEDULES = ("reference", "alternating")


def _offset_round(half: int, offset: int, a_donates: bool) -> Round:
    """A_j meets B_((j - offset) mod half); A gives when ``a_donates``."""
    pairs = []
    for j in range(half):
        a, b = j, half + (j - offset) % half
        pairs.append((a, b) if a_donates else (b, a))
    return pairs


def game_schedule(population: int, kind: str = "reference") -> list[Round]:
    """The rounds of game 1 for ``population`` agents (``population`` rounds in all).

    ``reference``: rounds 1..h use offsets 0..h-1 with A giving on odd rounds; rounds h+1..2h repeat
    them with roles swapped, so B gives twice in a row at the midpoint (rounds 6 and 7 when h = 6).
    ``alternating``: rounds 1..h as above; the second half gives each offset to the group that was the
    recipient the first time, in round order, so roles alternate strictly and each pair still meets
    twice with roles swapped. This is the schedule the paper's 30,720 maximum implies.
    """
    if population < 2 or population % 2:
        raise ValueError(f"population must be an even number of at least 2, got {population}")
    if kind not in SCHEDULES:
        raise ValueError(f"unknown schedule {kind!r}: use one of {', '.join(SCHEDULES)}")
    half = population // 2
    first = [_offset_round(half, i, a_donates=i % 2 == 0) for i in range(half)]
    if kind == "reference":
        second = [[(r, d) for d, r in rnd] for rnd in first]
        return first + second
    a_gave = [i for i in range(half) if i % 2 == 0]
    b_gave = [i for i in range(half) if i % 2 == 1]
    second = []
    for r in range(half + 1, 2 * half + 1):
        a_donates = r % 2 == 1
        offset = b_gave.pop(0) if a_donates else a_gave.pop(0)
        second.append(_offset_round(half, offset, a_donates))
    return first + second


def swap_roles(rounds: list[Round]) -> list[Round]:
    """Game 2 plays the same pairs with every donor and recipient exchanged."""
    return [[(r, d) for d, r in rnd] for rnd in rounds]
