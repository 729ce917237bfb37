"""``emergebench report``: the analysis, the leaderboard, plugin views and a sample browser in one
self-contained HTML file (see docs/analysis.md for what each part shows)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emergebench_registry.query import direction_legend, leaderboard, origin_legend, pivot_leaderboard
from emergebench_registry.store import Store

from .analysis import FIT_COLUMNS, PAIR_COLUMNS, Analysis, analyze, fit_rows, pair_rows
from .browser import browser_data
from .bundle import javascript_bundle
from .charts import export_spec, safe_filename, scaling_charts
from .page import ChartBlock, Section, chart_divs, esc, render_page, table
from .pairs import collect_group_by, collect_pairs
from .pooled import POOLED_STATUSES, load_pool
from .views import collect_views, view_samples


@dataclass
class ReportSettings:
    tasks: list[str] | None = None
    resamples: int = 1000
    seed: int = 0
    browser_runs: int = 200
    samples_per_run: int = 50
    browser_budget_bytes: int = 6_000_000
    export_dir: Path | None = None


@dataclass
class ReportOutcome:
    path: Path
    bytes: int
    charts: int
    exported: list[Path] = field(default_factory=list)
    view_problems: list[str] = field(default_factory=list)
    analysis: Analysis | None = None


def _spec(chart: Any) -> dict[str, Any]:
    # Altair's schema validation walks every inline data row: seconds for large curves. The specs
    # are built by this package's own code, and the browser test renders every one of them.
    return chart.to_dict(validate=False)


def _summary(result: Analysis, n_models: int) -> str:
    left = ""
    if result.skipped:
        counts = ", ".join(f"{n} {status}" for status, n in sorted(result.skipped.items()))
        left = (
            f" Left out of the curves: {sum(result.skipped.values())} run(s) ({esc(counts)}); only "
            + " and ".join(POOLED_STATUSES)
            + " runs are pooled."
        )
    unplaced = ""
    if result.unplaced_models:
        unplaced = f" {len(result.unplaced_models)} model(s) have no parameter count and are not on the curves."
    return f"{len(result.points)} points from {n_models} model(s); {len(result.curves)} curves.{left}{unplaced}"


def _view_blocks(store: Store, tasks: list[str] | None, start: int) -> tuple[list[ChartBlock], list[str]]:
    views = collect_views()
    blocks: list[ChartBlock] = []
    problems: list[str] = []
    with store.reader() as con:
        present = [
            t
            for (t,) in con.execute(
                "SELECT DISTINCT task FROM runs WHERE status IN (SELECT unnest($s)) ORDER BY task",
                {"s": list(POOLED_STATUSES)},
            ).fetchall()
            if tasks is None or t in tasks
        ]
        for view in views:
            matched = [t for t in present if view.matches(t)]
            if not matched:
                continue
            samples = [s for t in matched for s in view_samples(con, t)]
            try:
                chart = view.build(samples)
            except Exception as exc:  # a broken view is reported in the page; the report is still written
                problems.append(f"{view.title}: {type(exc).__name__}: {exc}")
                continue
            if chart is None:
                continue
            blocks.append(ChartBlock(f"view-{start + len(blocks)}", view.title, _spec(chart), view.description))
    return blocks, problems


def _write_atomic(path: Path, text: str) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".report-", suffix=".html")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)
    return len(data)


def build_report(store: Store, output: Path, settings: ReportSettings | None = None) -> ReportOutcome:
    settings = settings or ReportSettings()
    pairs = collect_pairs()
    with store.reader() as con:
        pool = load_pool(con, collect_group_by(), settings.tasks)
        browser = browser_data(con, settings.browser_runs, settings.samples_per_run, settings.browser_budget_bytes)
    result = analyze(pool, pairs, resamples=settings.resamples, seed=settings.seed)
    ranked = leaderboard(store)
    board = pivot_leaderboard(ranked, ci=True)
    legend = " ".join(text for text in (direction_legend(ranked), origin_legend(ranked)) if text) or None

    charts = scaling_charts(result)
    scaling = [ChartBlock(f"scaling-{i}", name, spec) for i, (name, spec) in enumerate(charts)]
    views, problems = _view_blocks(store, settings.tasks, len(scaling))
    problem_text = "".join(f'<p class="error">View failed: {esc(p)}</p>' for p in problems)
    sections = [
        Section(
            "leaderboard",
            "Leaderboard",
            table(board.columns, board.rows, "leaderboard") + (f'<p class="note">{esc(legend)}</p>' if legend else ""),
        ),
        Section(
            "scaling",
            "Scaling",
            '<p class="note">Score against parameters (log scale), one line per model family, 95% bootstrap '
            "intervals over samples. Paired metrics (headline | continuous) are drawn side by side. "
            "Each chart's menu saves it as SVG or PNG.</p>" + f'<div class="charts">{chart_divs(scaling)}</div>',
        ),
        Section(
            "diagnostics",
            "Emergence diagnostics",
            "<h3>Metric pairs</h3>"
            + table(PAIR_COLUMNS, pair_rows(result), "pairs")
            + "<h3>Fits per curve</h3>"
            + table(FIT_COLUMNS, fit_rows(result), "fits"),
        ),
        Section("views", "Task views", problem_text + f'<div class="charts">{chart_divs(views)}</div>'),
        Section(
            "samples",
            "Samples",
            '<div class="controls"><label>Run <select id="run-select"></select></label>'
            '<label>Show <select id="sample-filter"><option value="all">all samples</option>'
            '<option value="errors">errors only</option>'
            '<option value="failures">failures (error, or main score 0)</option></select></label>'
            '<label>Search <input id="sample-search" type="search" placeholder="text in any column"></label></div>'
            '<p id="sample-count" class="note"></p>'
            '<div class="scroll"><table id="samples"><thead><tr><th>sample</th><th>prompt</th><th>output</th>'
            "<th>scores</th><th>error</th></tr></thead><tbody></tbody></table></div>",
        ),
    ]
    n_models = len({p.model_id for p in result.points})
    page = render_page(
        "emergebench report", _summary(result, n_models), sections, scaling + views, browser, javascript_bundle()
    )
    size = _write_atomic(output, page)
    outcome = ReportOutcome(output, size, len(scaling) + len(views), view_problems=problems, analysis=result)
    if settings.export_dir is not None:
        settings.export_dir.mkdir(parents=True, exist_ok=True)
        used: set[str] = set()
        for name, spec in charts:
            outcome.exported += export_spec(spec, settings.export_dir, safe_filename(name, used))
        for block in views:
            outcome.exported += export_spec(block.spec, settings.export_dir, safe_filename(block.title, used))
    return outcome
