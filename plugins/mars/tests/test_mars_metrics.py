"""Metrics on hand-built predictions with values worked out by hand, and P(yes) from logprobs."""

from __future__ import annotations

import math

import pytest
from emergebench import SampleResult, TokenLogprob
from emergebench_mars.scores import p_yes
from emergebench_mars.stats import bootstrap_auc, bootstrap_macro_f1, macro_f1, roc_auc
from emergebench_mars.tasks import mars_metrics

LABELS = [1, 1, 1, 0, 0, 0, 1, 0]
PREDS: list[int | None] = [1, 1, 0, 0, 1, None, 1, 0]


def test_macro_f1_by_hand() -> None:
    # class 1: tp 3 (0,1,6), fp 1 (4), fn 1 (2) -> 6/8; class 0: tp 2 (3,7), fp 1 (2), fn 2 (4,5) -> 4/7
    assert macro_f1(LABELS, PREDS) == pytest.approx((6 / 8 + 4 / 7) / 2)
    assert macro_f1(LABELS, PREDS) == pytest.approx(37 / 56)


def test_macro_f1_counts_an_absent_class_as_zero() -> None:
    # always "yes" on balanced labels: class 1 F1 = 2*2/(4+2) = 2/3, class 0 F1 = 0
    assert macro_f1([1, 1, 0, 0], [1, 1, 1, 1]) == pytest.approx(1 / 3)
    assert macro_f1([1, 0], [1, 0]) == 1.0
    assert macro_f1([], []) is None


def test_roc_auc_by_hand_with_ties() -> None:
    labels = [1, 1, 0, 0, 1, 0]
    scores = [0.9, 0.4, 0.4, 0.2, 0.6, 0.7]
    # positive-over-negative pairs: 0.9 -> 3, 0.4 -> 0.5 (tie) + 1, 0.6 -> 2; 6.5 of 9
    assert roc_auc(labels, scores) == pytest.approx(6.5 / 9)
    assert roc_auc([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.5]) == pytest.approx(0.5)
    assert roc_auc([1, 1], [0.2, 0.3]) is None


def test_bootstrap_intervals_bracket_the_estimate_and_repeat() -> None:
    labels = [1, 0] * 30
    preds: list[int | None] = [1, 0, 1, 1, 0, 0] * 10
    first = bootstrap_macro_f1(labels, preds)
    assert first is not None and first == bootstrap_macro_f1(labels, preds)
    stderr, low, high = first
    value = macro_f1(labels, preds)
    assert value is not None and low <= value <= high and stderr > 0
    scores = [0.9 if p == 1 else 0.1 for p in preds]
    stderr, low, high = bootstrap_auc(labels, scores) or (0, 0, 0)
    auc = roc_auc(labels, scores)
    assert auc is not None and low <= auc <= high and 0 < stderr < 0.2


def _result(i: int, label: int, pred: int | None, score: float | None = None, group: str | None = None) -> SampleResult:
    return SampleResult(
        run_id="r",
        sample_id=f"test-{i:06d}",
        target=label,
        scores={"correct": float(pred == label), "extraction_failed": float(pred is None)},
        metadata={"prediction": pred, "p_yes": score, "groups": {"component_type": group} if group else {}},
    )


def test_mars_metrics_on_hand_built_results() -> None:
    groups = ["temporal", "temporal", "object", "object", "temporal", "object", "object", "temporal"]
    results = [_result(i, y, p, group=g) for i, (y, p, g) in enumerate(zip(LABELS, PREDS, groups, strict=True))]
    results.append(SampleResult(run_id="r", sample_id="test-000099", target=1, error="ModelError: boom"))
    metrics = {(m.name, m.group): m for m in mars_metrics(results)}
    acc = metrics[("accuracy", None)]
    assert acc.value == pytest.approx(5 / 8) and acc.n == 8  # the errored sample is left out
    assert (acc.ci_low, acc.ci_high) == pytest.approx((0.305742, 0.863156), abs=1e-6)  # Wilson 95%
    assert acc.stderr == pytest.approx(math.sqrt(0.625 * 0.375 / 8))
    assert metrics[("macro_f1", None)].value == pytest.approx(37 / 56)
    failure = metrics[("extraction_failure_rate", None)]
    assert failure.value == pytest.approx(1 / 8)
    assert (failure.ci_low, failure.ci_high) == pytest.approx((0.022417, 0.470888), abs=1e-6)
    assert metrics[("yes_rate", None)].value == pytest.approx(4 / 7)  # of the 7 answers, 4 said yes
    assert metrics[("accuracy", "label=yes")].value == pytest.approx(3 / 4)
    assert metrics[("accuracy", "label=no")].value == pytest.approx(2 / 4)
    # temporal: items 0 (ok), 1 (ok), 4 (wrong), 7 (ok); object: 2 (wrong), 3 (ok), 5 (none), 6 (ok)
    assert metrics[("accuracy", "component_type=temporal")].value == pytest.approx(3 / 4)
    assert metrics[("accuracy", "component_type=object")].value == pytest.approx(2 / 4)
    assert ("roc_auc", None) not in metrics  # no scores, no AUC


def test_mars_metrics_auc_only_over_scored_items() -> None:
    rows = [(1, 1, 0.9), (1, 1, 0.4), (0, 0, 0.4), (0, 0, 0.2), (1, 1, 0.6), (0, 1, 0.7), (1, None, None)]
    metrics = {(m.name, m.group): m for m in mars_metrics([_result(i, *row) for i, row in enumerate(rows)])}
    auc = metrics[("roc_auc", None)]
    assert auc.value == pytest.approx(6.5 / 9) and auc.n == 6
    assert auc.ci_low is not None and auc.ci_low <= auc.value <= auc.ci_high


def test_p_yes_from_top_logprobs() -> None:
    lp = [TokenLogprob(token=" Yes", logprob=math.log(0.6), top={" Yes": math.log(0.6), " No": math.log(0.2)})]
    assert p_yes(lp) == pytest.approx(0.75)


def test_p_yes_skips_json_scaffolding_and_normalises_spelling() -> None:
    lp = [
        TokenLogprob(token='{"', logprob=-0.01, top={'{"': -0.01}),
        TokenLogprob(token="answer", logprob=-0.01, top={"answer": -0.01}),
        TokenLogprob(token='":"', logprob=-0.01, top={'":"': -0.01}),
        TokenLogprob(token="no", logprob=math.log(0.7), top={"no": math.log(0.7), "\u0120YES": math.log(0.1)}),
    ]
    assert p_yes(lp) == pytest.approx(0.1 / 0.8)


def test_p_yes_with_only_the_chosen_token() -> None:
    assert p_yes([TokenLogprob(token="No", logprob=math.log(0.9))]) == pytest.approx(0.1)
    assert p_yes([TokenLogprob(token="yes", logprob=math.log(0.8))]) == pytest.approx(0.8)


def test_p_yes_falls_back_to_alternatives_and_to_none() -> None:
    lp = [TokenLogprob(token="The", logprob=-0.1, top={"The": -0.1, "Yes": math.log(0.05), "No": math.log(0.15)})]
    assert p_yes(lp) == pytest.approx(0.25)
    assert p_yes([TokenLogprob(token="The", logprob=-0.1, top={"The": -0.1, "A": -3.0})]) is None
    assert p_yes(None) is None
    assert p_yes([]) is None
