import math

import pytest
from emergebench.metrics import mean_metrics, mean_stderr, metric, wilson_interval
from emergebench.records import SampleResult


def test_mean_stderr_exact():
    mean, se = mean_stderr([1.0, 0.0, 1.0, 1.0])
    assert mean == 0.75
    assert se == pytest.approx(math.sqrt((0.0625 * 3 + 0.5625) / 3 / 4))


def test_single_value_has_no_stderr_and_empty_has_none():
    assert mean_stderr([2.0]) == (2.0, None)
    assert mean_stderr([]) == (None, None)


def test_metric_ci_is_normal_95():
    m = metric("acc", [0.0, 1.0])
    assert m.ci_low == pytest.approx(0.5 - 1.959963984540054 * 0.5)
    assert m.n == 2


def test_wilson_interval_at_extremes_stays_in_unit_range():
    low, high = wilson_interval(0, 10)
    assert low == pytest.approx(0.0, abs=1e-12) and 0 < high < 0.35
    low, high = wilson_interval(10, 10)
    assert 0.65 < low < 1 and high == pytest.approx(1.0)


def test_mean_metrics_skip_errored_samples():
    rs = [
        SampleResult(run_id="r", sample_id="a", scores={"acc": 1.0}),
        SampleResult(run_id="r", sample_id="b", scores={"acc": 0.0}),
        SampleResult(run_id="r", sample_id="c", error="boom"),
    ]
    (m,) = mean_metrics(rs)
    assert (m.name, m.value, m.n) == ("acc", 0.5, 2)


def test_progress_shows_live_model_call_counts():
    from emergebench.context import CallStats
    from emergebench.progress import CallsColumn

    stats = CallStats(calls=1234, cached=5)
    column = CallsColumn(stats)
    assert column.render(None).plain == "1,239 calls"
    stats.calls += 1
    assert column.render(None).plain == "1,240 calls"
    assert CallsColumn(CallStats()).render(None).plain == ""
