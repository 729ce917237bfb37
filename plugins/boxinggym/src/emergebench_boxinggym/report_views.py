"""BoxingGym's view in ``emergebench report``: prediction error against the number of experiments."""

from __future__ import annotations

from typing import Any


def error_by_experiments(samples: list[Any]) -> Any:
    import altair as alt
    from emergebench_report.views import band_chart, model_label, summarise

    rows = []
    for s in samples:
        if s.error is not None:
            continue
        for name, value in s.scores.items():
            base, _, budget = name.partition("@")
            if base == "z" and budget.isdigit():
                rows.append({"model": model_label(s), "task": s.task, "experiments": int(budget), "z": value})
    if not rows:
        return None
    charts = []
    for task in sorted({r["task"] for r in rows}):
        summary = summarise([r for r in rows if r["task"] == task], ("model", "experiments"), "z")
        chart = band_chart(summary, "experiments", "z", "model", "experiments", "standardised error (z)")
        charts.append(chart.properties(title=task))
    return alt.hconcat(*charts) if len(charts) > 1 else charts[0]


def register_views(register: Any) -> None:
    from emergebench_report.views import ReportView

    register(
        ReportView(
            task="boxinggym/",
            title="BoxingGym: error against the number of experiments",
            build=error_by_experiments,
            description="Standardised prediction error after N experiments (lower is better); band: 95% bootstrap CI.",
        )
    )
