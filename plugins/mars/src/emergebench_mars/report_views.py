"""MARS's view in ``emergebench report``: accuracy by task and by gold label (yes / no)."""

from __future__ import annotations

from typing import Any


def by_task_and_label(samples: list[Any]) -> Any:
    import altair as alt
    from emergebench_report.views import model_label, summarise

    rows = [
        {"model": model_label(s), "task": s.task, "label": "yes" if str(s.target) == "1" else "no", **s.scores}
        for s in samples
        if s.error is None and "correct" in s.scores
    ]
    if not rows:
        return None
    summary = summarise(rows, ("task", "label", "model"), "correct")
    base = alt.Chart(alt.Data(values=summary)).encode(
        x=alt.X("label:N", title="gold label"), xOffset="model:N", color=alt.Color("model:N", title="model")
    )
    bars = base.mark_bar().encode(
        y=alt.Y("correct:Q", title="accuracy", scale=alt.Scale(domain=[0, 1])),
        tooltip=["task:N", "label:N", "model:N", alt.Tooltip("correct:Q", format=".3f"), "n:Q"],
    )
    whiskers = base.mark_errorbar().encode(y="ci_low:Q", y2="ci_high:Q")
    return alt.layer(bars, whiskers).properties(width=200, height=220).facet(column=alt.Column("task:N", title=None))


def register_views(register: Any) -> None:
    from emergebench_report.views import ReportView

    register(
        ReportView(
            task="mars/",
            title="MARS: accuracy by task and label",
            build=by_task_and_label,
            description="Accuracy per MARS task, split by the human label; whiskers: 95% bootstrap CI.",
        )
    )
