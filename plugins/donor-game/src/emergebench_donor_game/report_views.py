"""The Donor Game's view in ``emergebench report``: average resources per generation, with a band."""

from __future__ import annotations

from typing import Any


def resources_by_generation(samples: list[Any]) -> Any:
    from emergebench_report.views import band_chart, model_label, summarise

    rows = [
        {"model": model_label(s), "generation": g["generation"], "resources": g["average"]}
        for s in samples
        if s.error is None
        for g in s.metadata.get("generations", [])
        if isinstance(g, dict) and "generation" in g and "average" in g
    ]
    if not rows:
        return None
    summary = summarise(rows, ("model", "generation"), "resources")
    return band_chart(summary, "generation", "resources", "model", "generation", "average final resources")


def register_views(register: Any) -> None:
    from emergebench_report.views import ReportView

    register(
        ReportView(
            task="donor-game",
            title="Donor Game: resources per generation",
            build=resources_by_generation,
            description="Mean over simulations of each generation's average final resources; band: 95% bootstrap CI.",
        )
    )
