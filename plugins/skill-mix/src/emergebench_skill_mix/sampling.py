"""Drawing (k skills, topic) combinations exactly as the reference's ``query_random.py`` does.

With CPython's ``random`` and this procedure, the public files and seed 10 reproduce the reference's own
test combinations (spec section 3), so a run here and a run of the reference ask the same questions:

1. seed the RNG with ``seed``; skills in file order;
2. M times: shuffle the whole skill list in place (shuffles accumulate) and take the first k;
   ``M = -1`` instead takes every k-subset, in sorted order of the tuples;
3. for each combination, shuffle the topic list in place and take the first topic;
4. reseed with the reference's experiment path string (``"test"`` in its pipeline) and shuffle each
   combination in place: the order the skills are presented in.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

from emergebench import UsageError

REFERENCE_SEED = 10
REFERENCE_PRESENTATION_SEED = "test"


@dataclass(frozen=True)
class Combination:
    skills: tuple[str, ...]
    topic: str

    @property
    def k(self) -> int:
        return len(self.skills)


def draw_combinations(
    skills: list[str],
    topics: list[str],
    k: int,
    num_combinations: int,
    seed: int = REFERENCE_SEED,
    presentation_seed: str = REFERENCE_PRESENTATION_SEED,
) -> list[Combination]:
    """The combinations for one k, in the reference's order. ``num_combinations=-1`` means all C(N, k)."""
    if k < 1:
        raise UsageError(f"k must be at least 1, got {k}")
    if k > len(skills):
        raise UsageError(f"k={k} is larger than the skill list ({len(skills)} skills); lower k or use a longer list")
    if not topics:
        raise UsageError("the topic list is empty; it needs at least one topic")
    if num_combinations == 0 or num_combinations < -1:
        raise UsageError(f"combinations must be a positive number or -1 (all), got {num_combinations}")
    rng = random.Random(seed)
    pool = list(skills)
    chosen: list[list[str]]
    if num_combinations > 0:
        chosen = []
        for _ in range(num_combinations):
            rng.shuffle(pool)
            chosen.append(pool[:k])
    else:
        chosen = [list(c) for c in sorted(itertools.combinations(pool, k))]
    topic_pool = list(topics)
    picked_topics = []
    for _ in chosen:
        rng.shuffle(topic_pool)
        picked_topics.append(topic_pool[0])
    presentation = random.Random(presentation_seed)
    result = []
    for combo, topic in zip(chosen, picked_topics, strict=True):
        presentation.shuffle(combo)
        result.append(Combination(tuple(combo), topic))
    return result
