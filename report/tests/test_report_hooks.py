"""The report's two hooks: metric pairs and per-task views contributed by any plugin, a broken
contributor reported while the others still count."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emergebench import hookimpl
from emergebench.metric_pairs import MetricPair
from emergebench.plugins import get_manager
from emergebench_report.pairs import collect_pairs
from emergebench_report.views import ReportView, collect_views


class PairsFromElsewhere:
    """A plugin adding a pair for a task it does not own, once more for one already declared."""

    @staticmethod
    @hookimpl
    def register_metric_pairs(register: Any) -> None:
        register("rtest/mirage", MetricPair(headline="exact", continuous="per_token"))
        register("someone/else", MetricPair(headline="solved", continuous="error", lower_is_better=True))


class BrokenPairs:
    @staticmethod
    @hookimpl
    def register_metric_pairs(register: Any) -> None:
        register("rtest/mirage", "not a pair")


def _view(samples: list[Any]) -> None:
    return None


class Views:
    @staticmethod
    @hookimpl
    def register_report_views(register: Any) -> None:
        register(ReportView(task="rtest/", title="Toy view", build=_view))


class BrokenViews:
    @staticmethod
    @hookimpl
    def register_report_views(register: Any) -> None:
        raise RuntimeError("view plugin broke")


def test_hook_register_metric_pairs(rep_home: Path) -> None:
    manager = get_manager()
    manager.register_module(PairsFromElsewhere, "pairs-elsewhere")
    manager.register_module(BrokenPairs, "pairs-broken")
    pairs = collect_pairs()
    assert pairs["rtest/mirage"].count(MetricPair(headline="exact", continuous="per_token")) == 1
    assert pairs["someone/else"] == [MetricPair(headline="solved", continuous="error", lower_is_better=True)]
    assert any(p.plugin == "pairs-broken" and "register_metric_pairs" in p.error for p in manager.problems)


def test_hook_register_report_views(rep_home: Path) -> None:
    manager = get_manager()
    manager.register_module(Views, "views-toy")
    manager.register_module(BrokenViews, "views-broken")
    toy = [v for v in collect_views() if v.title == "Toy view"]
    assert len(toy) == 1 and toy[0].matches("rtest/mirage") and not toy[0].matches("mars/event")
    assert any(p.plugin == "views-broken" and "view plugin broke" in p.error for p in manager.problems)
