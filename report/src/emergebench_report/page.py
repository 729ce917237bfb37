"""Assembling the report: one self-contained HTML file (scripts inlined, no network fetch)."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from .browser import BrowserData


def esc(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value), quote=True)


def json_script(element_id: str, value: Any) -> str:
    """JSON inside a script tag; '<' is escaped so no data can close the tag (hostile pulled text)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    return f'<script type="application/json" id="{esc(element_id)}">{text}</script>'


def table(columns: list[str], rows: list[tuple[Any, ...]], table_id: str = "") -> str:
    if not rows:
        return '<p class="empty">Nothing to show yet.</p>'
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>" for row in rows)
    ident = f' id="{esc(table_id)}"' if table_id else ""
    return f'<div class="scroll"><table{ident}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


@dataclass
class ChartBlock:
    chart_id: str
    title: str
    spec: dict[str, Any]
    note: str = ""


@dataclass
class Section:
    anchor: str
    title: str
    body: str


def chart_divs(blocks: list[ChartBlock]) -> str:
    if not blocks:
        return '<p class="empty">No charts: no curve has models of known size yet.</p>'
    return "".join(
        f'<figure class="chart"><div id="{esc(b.chart_id)}" class="vega"></div>'
        f"<figcaption>{esc(b.title)}{(' — ' + esc(b.note)) if b.note else ''}</figcaption></figure>"
        for b in blocks
    )


def render_page(
    title: str,
    summary: str,
    sections: list[Section],
    charts: list[ChartBlock],
    browser: BrowserData,
    bundle_js: str,
) -> str:
    css = resources.files(__package__).joinpath("assets/report.css").read_text(encoding="utf-8")
    app_js = resources.files(__package__).joinpath("assets/report.js").read_text(encoding="utf-8")
    toc = "".join(f'<a href="#{esc(s.anchor)}">{esc(s.title)}</a>' for s in sections)
    body = "".join(f'<section id="{esc(s.anchor)}"><h2>{esc(s.title)}</h2>{s.body}</section>' for s in sections)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    browser_meta = {
        "total_runs": browser.total_runs,
        "shown_runs": len(browser.runs),
        "total_samples": browser.total_samples,
        "shown_samples": browser.shown_samples,
    }
    safe_bundle = bundle_js.replace("</script", "<\\/script")  # the bundle must not end its own tag
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<style>{css}</style>
</head><body data-ready="false">
<header><h1>{esc(title)}</h1><p class="meta">Generated {esc(generated)}. {summary}</p><nav>{toc}</nav></header>
<main>{body}</main>
{json_script("charts-data", [{"id": c.chart_id, "spec": c.spec} for c in charts])}
{json_script("browser-data", browser.runs)}
{json_script("browser-meta", browser_meta)}
<script>{safe_bundle}</script>
<script>{app_js}</script>
</body></html>
"""
