"""Which rows a run sees: a seeded, label-stratified ``--limit`` and the reference's 2,000-row subset.

The reference evaluated large open models (>30B) on the first 2,000 rows of the test split (plus
dev when test has under 2,000 rows) after ``DataFrame.sample(frac=1, random_state=829)``
(``evaluation/zero-shot/OpenLLM_zero-shot.py``). pandas implements that shuffle as
``numpy.random.RandomState(829).permutation(n)``, and numpy keeps RandomState's stream frozen, so
the subset is reproduced exactly here without pandas, given the same file order.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")
REFERENCE_SHUFFLE_SEED = 829
REFERENCE_SUBSET_SIZE = 2000


def stratified_subset(items: Sequence[T], labels: Sequence[int], limit: int | None, seed: int) -> list[T]:
    """Keep ``limit`` items with each label's share as in ``items`` (largest remainder), chosen with
    a seeded shuffle per label, returned in their original order."""
    if limit is None or limit >= len(items):
        return list(items)
    by_label: dict[int, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        by_label[label].append(index)
    total = len(items)
    quotas = {label: limit * len(idx) / total for label, idx in by_label.items()}
    counts = {label: int(q) for label, q in quotas.items()}
    leftover = limit - sum(counts.values())
    # hand the remaining slots to the largest fractional parts; ties go to the smaller label value
    for label in sorted(quotas, key=lambda lab: (-(quotas[lab] - counts[lab]), lab))[:leftover]:
        counts[label] += 1
    chosen: list[int] = []
    for label in sorted(by_label):
        indices = list(by_label[label])
        random.Random(f"mars-limit:{seed}:{label}").shuffle(indices)
        chosen.extend(indices[: counts[label]])
    return [items[i] for i in sorted(chosen)]


def reference_order(n: int, seed: int = REFERENCE_SHUFFLE_SEED) -> list[int]:
    """Row positions in the order ``DataFrame.sample(frac=1, random_state=seed)`` returns them."""
    return np.random.RandomState(seed).permutation(n).tolist()


def reference_subset(test: Sequence[T], dev: Sequence[T] | None, size: int = REFERENCE_SUBSET_SIZE) -> list[T]:
    """The reference's open-LLM subset: test (+ dev if test is short), shuffled with 829, first ``size``."""
    pool = list(test) + (list(dev) if dev is not None and len(test) < size else [])
    return [pool[i] for i in reference_order(len(pool))[:size]]
