"""Who survives a generation (spec section 5)."""

from __future__ import annotations

from collections.abc import Mapping

from .settings import Number

SELECTION_RULES = ("paper", "reference")


def selection_score(game1: Number, game2: Number, rule: str) -> float:
    """paper: mean final resources of both games (footnote 3); reference: 2 x game 2 (the code's sum)."""
    if rule == "paper":
        return (game1 + game2) / 2
    if rule == "reference":
        return 2 * game2
    raise ValueError(f"unknown selection rule {rule!r}: use one of {', '.join(SELECTION_RULES)}")


def rank(order: list[str], scores: Mapping[str, float]) -> list[str]:
    """Names by descending score; ties keep list order (Python's stable sort, as the reference)."""
    return sorted(order, key=lambda name: scores[name], reverse=True)


def survivors(order: list[str], scores: Mapping[str, float]) -> list[str]:
    """The best half, best first."""
    return rank(order, scores)[: len(order) // 2]
