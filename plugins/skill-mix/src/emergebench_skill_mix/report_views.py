"""Skill-Mix's view in ``emergebench report``: full marks and skill fraction by k, never pooled over k."""

from __future__ import annotations

from typing import Any


def by_k(samples: list[Any]) -> Any:
    import altair as alt
    from emergebench_report.views import band_chart, model_label, summarise

    rows = [
        {"model": model_label(s), "k": int(s.metadata["k"]), **s.scores}
        for s in samples
        if s.error is None and "k" in s.metadata and s.scores
    ]
    if not rows:
        return None
    charts = [
        band_chart(summarise(rows, ("model", "k"), name), "k", name, "model", "k (skills per piece)", title)
        for name, title in (("ratio_of_full_marks", "full marks"), ("skill_fraction", "skill fraction"))
    ]
    return alt.hconcat(*charts)


def register_views(register: Any) -> None:
    from emergebench_report.views import ReportView

    register(
        ReportView(
            task="skill-mix",
            title="Skill-Mix by k",
            build=by_k,
            description="The headline (full marks) next to its continuous counterpart (skill fraction), per k.",
        )
    )
