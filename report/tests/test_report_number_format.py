"""Chart labels stay short for extreme values (issue #15: a BoxingGym standardised error near 5e29 gave
axis labels such as ``4.0000000000000004e+29``). The charts are rendered to SVG by vl-convert (the
same Vega engine the browser runs, offline) and the label texts read back."""

from __future__ import annotations

import re

import vl_convert as vlc
from emergebench_report.charts import scaling_spec
from emergebench_report.views import band_chart


def _labels(spec: dict) -> set[str]:
    return set(re.findall(r"<text[^>]*>([^<]*)</text>", vlc.vegalite_to_svg(spec)))


def _numeric(labels: set[str]) -> set[str]:
    return {t for t in labels if re.fullmatch(r"[-+0-9.e]+", t)}


def test_band_chart_axis_labels_are_compact_for_huge_values() -> None:
    values = [1e28, 3e29, 4.9999999999999994e29]
    summary = [{"g": "a", "x": i, "y": v, "ci_low": v / 2, "ci_high": v * 1.5, "n": 5} for i, v in enumerate(values)]
    labels = _numeric(_labels(band_chart(summary, "x", "y", "g", "experiments", "error").to_dict()))
    assert "5e+29" in labels
    assert max(len(t) for t in labels) <= 6, sorted(labels)


def test_band_chart_keeps_plain_labels_for_scores() -> None:
    summary = [
        {"g": "a", "x": i, "y": v, "ci_low": v - 0.1, "ci_high": v + 0.1, "n": 5} for i, v in enumerate([0.2, 0.5])
    ]
    labels = _numeric(_labels(band_chart(summary, "x", "y", "g", "k", "score").to_dict()))
    assert {"0.2", "0.4", "0.6"} <= labels
    assert not any("e" in t for t in labels)


def test_scaling_chart_score_axis_is_compact_for_huge_values() -> None:
    spec = scaling_spec([([], "task metric", "")])
    spec["datasets"]["points-0"] = [
        {"family": "f", "model": f"m{i}", "parameters": p, "score": s, "ci_low": s / 2, "ci_high": s * 2, "n": 9}
        for i, (p, s) in enumerate([(1e8, 1e27), (1e9, 3.49e25), (1e10, 4.9999999999999994e29)])
    ]
    labels = _numeric(_labels(spec))
    assert any(t.endswith("e+29") for t in labels), sorted(labels)
    assert max(len(t) for t in labels) <= 6, sorted(labels)
