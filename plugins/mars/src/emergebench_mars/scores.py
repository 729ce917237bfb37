"""A continuous plausibility score, P(yes), from the token log-probabilities a provider returns.

ROC-AUC needs a score rather than a hard answer (the reference reports AUC only for classifiers,
spec section 5). We take the first generated position whose chosen token or top alternatives read
as yes/no (which skips JSON scaffolding like ``{"answer": "``), and renormalise the probability mass
of the yes-like and no-like candidates there. Providers differ in token spelling (" Yes", "yes",
"\u0120yes", "\u2581Yes"), so tokens are normalised before matching.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from emergebench import TokenLogprob

YES_TOKENS = {"yes", "true"}
NO_TOKENS = {"no", "false"}


def _norm(token: str) -> str:
    token = token.replace("\u0120", " ").replace("\u2581", " ")
    return re.sub(r"[^a-z]", "", token.lower())


def _side(token: str) -> int | None:
    norm = _norm(token)
    if norm in YES_TOKENS:
        return 1
    if norm in NO_TOKENS:
        return 0
    return None


def _position_score(position: TokenLogprob) -> float | None:
    candidates: dict[str, float] = dict(position.top or {})
    candidates.setdefault(position.token, position.logprob)
    mass = {0: 0.0, 1: 0.0}
    for token, logprob in candidates.items():
        side = _side(token)
        if side is not None and logprob is not None and math.isfinite(logprob):
            mass[side] += math.exp(logprob)
    chosen = _side(position.token)
    if not position.top and chosen is not None:
        # only the chosen token is known: the rest of the mass is taken to be the other answer
        p = min(1.0, math.exp(position.logprob))
        return p if chosen == 1 else 1.0 - p
    total = mass[0] + mass[1]
    return mass[1] / total if total > 0.0 else None


def p_yes(logprobs: Sequence[TokenLogprob] | None) -> float | None:
    """P(yes | yes or no) at the answer position, or None when no position reads as an answer.

    The answer position is the first whose chosen token is yes/no; failing that, the first whose
    alternatives include yes/no (a reply like "The answer is ..." still had yes/no in its top-k).
    """
    positions = list(logprobs or ())
    for position in positions:
        if _side(position.token) is not None:
            return _position_score(position)
    for position in positions:
        score = _position_score(position)
        if score is not None:
            return score
    return None
