"""Accuracy, macro-F1, ROC-AUC and their confidence intervals.

Intervals: Wilson score intervals for proportions (accuracy, extraction-failure rate, yes-rate),
since they stay sane near 0 and 1; percentile bootstrap (1,000 resamples, fixed seed, so reruns
agree) for macro-F1 and ROC-AUC, which are not proportions. Macro-F1 follows
``sklearn.metrics.f1_score(average="macro", labels=[0, 1])`` with zero for an undefined class; an
unextracted answer (``None``) counts as a miss for its true class and as nobody's prediction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from emergebench import Metric
from emergebench.metrics import wilson_interval

BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 20240604  # arXiv v1 date of the MARS paper: any fixed value works, this one is memorable
NO_PREDICTION = -1


def _as_pred_array(preds: Sequence[int | None]) -> np.ndarray:
    return np.array([NO_PREDICTION if p is None else int(p) for p in preds], dtype=np.int8)


def _macro_f1_arrays(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Macro-F1 along the last axis; ``y`` and ``p`` have the same shape."""
    total = np.zeros(y.shape[:-1], dtype=float)
    for c in (0, 1):
        tp = np.sum((y == c) & (p == c), axis=-1)
        fp = np.sum((y != c) & (p == c), axis=-1)
        fn = np.sum((y == c) & (p != c), axis=-1)
        denom = 2 * tp + fp + fn
        total += np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)
    return total / 2


def macro_f1(labels: Sequence[int], preds: Sequence[int | None]) -> float | None:
    if not labels:
        return None
    return float(_macro_f1_arrays(np.asarray(labels, dtype=np.int8), _as_pred_array(preds)))


def roc_auc(labels: Sequence[int], scores: Sequence[float]) -> float | None:
    """Mann-Whitney AUC with ties counted half; None when only one class is present."""
    y = np.asarray(labels, dtype=np.int8)
    s = np.asarray(scores, dtype=float)
    n_pos = int(np.sum(y == 1))
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = _average_ranks(s)
    return float((np.sum(ranks[y == 1]) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _average_ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    ranks = np.empty(len(values), dtype=float)
    start = 0
    n = len(values)
    # walk runs of equal values and give each the mean of its 1-based positions
    boundaries = np.flatnonzero(np.diff(sorted_values)) + 1
    for end in [*boundaries.tolist(), n]:
        ranks[order[start:end]] = (start + 1 + end) / 2
        start = end
    return ranks


def _bootstrap_indices(n: int, rng: np.random.Generator, chunk: int) -> np.ndarray:
    return rng.integers(0, n, size=(chunk, n))


def bootstrap_macro_f1(labels: Sequence[int], preds: Sequence[int | None]) -> tuple[float, float, float] | None:
    """(stderr, ci_low, ci_high) from the percentile bootstrap, or None for fewer than 2 items."""
    n = len(labels)
    if n < 2:
        return None
    y = np.asarray(labels, dtype=np.int8)
    p = _as_pred_array(preds)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    values: list[np.ndarray] = []
    remaining = BOOTSTRAP_RESAMPLES
    chunk = max(1, min(BOOTSTRAP_RESAMPLES, 2_000_000 // n))
    while remaining > 0:
        size = min(chunk, remaining)
        idx = _bootstrap_indices(n, rng, size)
        values.append(_macro_f1_arrays(y[idx], p[idx]))
        remaining -= size
    return _summary(np.concatenate(values))


def bootstrap_auc(labels: Sequence[int], scores: Sequence[float]) -> tuple[float, float, float] | None:
    n = len(labels)
    if n < 2:
        return None
    y = np.asarray(labels, dtype=np.int8)
    s = np.asarray(scores, dtype=float)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    values = []
    for _ in range(BOOTSTRAP_RESAMPLES):
        idx = rng.integers(0, n, size=n)
        value = roc_auc(y[idx].tolist(), s[idx].tolist())
        if value is not None:  # a resample with one class only has no AUC
            values.append(value)
    if len(values) < 2:
        return None
    return _summary(np.asarray(values))


def _summary(values: np.ndarray) -> tuple[float, float, float]:
    low, high = np.percentile(values, [2.5, 97.5])
    return float(np.std(values, ddof=1)), float(low), float(high)


def proportion_metric(name: str, successes: int, n: int, group: str | None = None) -> Metric:
    """A proportion with its Wilson 95% interval and binomial standard error."""
    if n == 0:
        return Metric(name=name, value=None, n=0, group=group)
    p = successes / n
    low, high = wilson_interval(successes, n)
    return Metric(name=name, value=p, stderr=math.sqrt(p * (1 - p) / n), n=n, ci_low=low, ci_high=high, group=group)


def bootstrapped_metric(
    name: str, value: float | None, interval: tuple[float, float, float] | None, n: int, group: str | None = None
) -> Metric:
    if value is None:
        return Metric(name=name, value=None, n=n, group=group)
    stderr, low, high = interval if interval else (None, None, None)
    return Metric(name=name, value=value, stderr=stderr, n=n, ci_low=low, ci_high=high, group=group)
