"""Vega-Altair charts of the analysis: scaling curves with bootstrap intervals, families overlaid,
and metric pairs side by side. Exported as SVG/PNG with vl-convert (no browser, no network)."""

from __future__ import annotations

import functools
import json
import math
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import altair as alt

from .analysis import Analysis, Curve, args_label
from .formats import AXIS_FORMAT, TOOLTIP_FORMAT
from .pooled import CurveKey

WIDTH, HEIGHT = 360, 240


def curve_title(key: CurveKey, metric: str) -> str:
    group = f" {key.group}" if key.group else ""
    return f"{key.task}@{key.task_version}{group}: {metric}"


def _points(curves: list[Curve]) -> list[dict[str, Any]]:
    """One row per model: the chart's data is the analysis' points, never samples."""
    return [
        {
            "family": c.family,
            "model": p.model_id,
            "parameters": p.parameters,
            "score": _round(p.mean),
            "ci_low": _round(p.ci_low),
            "ci_high": _round(p.ci_high),
            "n": p.n,
        }
        for c in curves
        for p in c.points
    ]


def _round(value: float) -> float | None:
    return round(value, 6) if math.isfinite(value) else None


def scaling_chart(dataset: str, title: str, subtitle: str = "") -> alt.LayerChart | alt.FacetChart:
    """Score against parameters (log scale) with a 95% interval per model, one line per family; the
    points are the named ``dataset`` (see ``scaling_spec``)."""
    base = alt.Chart(alt.NamedData(name=dataset)).encode(
        x=alt.X(
            "parameters:Q", scale=alt.Scale(type="log"), axis=alt.Axis(format="~s"), title="parameters (log scale)"
        ),
        color=alt.Color("family:N", title="family"),
    )
    line = base.mark_line(point=True).encode(
        y=alt.Y("score:Q", title="score", axis=alt.Axis(format=AXIS_FORMAT)),
        tooltip=[
            "model:N",
            "family:N",
            alt.Tooltip("parameters:Q", format="~s"),
            alt.Tooltip("score:Q", format=TOOLTIP_FORMAT),
            "n:Q",
        ],
    )
    band = base.mark_errorbar().encode(
        y=alt.Y("ci_low:Q", title="score", axis=alt.Axis(format=AXIS_FORMAT)), y2="ci_high:Q"
    )
    chart_title = alt.TitleParams(text=title, subtitle=subtitle)
    return alt.layer(band, line).properties(width=WIDTH, height=HEIGHT, title=chart_title)


# Placeholders of the templates below; JSON strings, so a filled-in title is JSON-escaped.
_SLOTS = ("@data-0@", "@title-0@", "@subtitle-0@", "@data-1@", "@title-1@", "@subtitle-1@")


@functools.lru_cache(maxsize=2)
def _template(panels: int) -> str:
    """A Vega-Lite spec of one chart (or two side by side) written by Altair once per process, with
    placeholders for titles and data: building and serialising a chart through Altair costs a tenth
    of a second or more, and a registry of many tasks has hundreds of charts of the same shape."""
    charts = [scaling_chart(_SLOTS[3 * i], _SLOTS[3 * i + 1], _SLOTS[3 * i + 2]) for i in range(panels)]
    chart = charts[0] if panels == 1 else alt.hconcat(*charts)
    return json.dumps(chart.to_dict(validate=False))


def scaling_spec(panels: list[tuple[list[Curve], str, str]]) -> dict[str, Any]:
    """The Vega-Lite spec of one chart, or of a metric pair side by side: each panel is (curves,
    title, subtitle), its points a named dataset of the spec (one row per model)."""
    text = _template(len(panels))
    datasets = {}
    for i, (curves, title, subtitle) in enumerate(panels):
        name = f"points-{i}"
        datasets[name] = _points(curves)
        for slot, value in zip(_SLOTS[3 * i : 3 * i + 3], (name, title, subtitle), strict=True):
            text = text.replace(json.dumps(slot), json.dumps(value))
    spec = json.loads(text)
    spec["datasets"] = datasets
    return spec


def curve_groups(result: Analysis) -> dict[tuple[CurveKey, str], list[Curve]]:
    """Families overlaid: one chart per (comparison key, metric)."""
    groups: dict[tuple[CurveKey, str], list[Curve]] = defaultdict(list)
    for curve in result.curves:
        groups[(curve.key, curve.metric)].append(curve)
    return groups


def verdicts(curves: list[Curve]) -> str:
    return "; ".join(f"{c.family}: {c.diagnosis.verdict}" for c in curves)


def scaling_charts(result: Analysis) -> list[tuple[str, dict[str, Any]]]:
    """(name, Vega-Lite spec) for every (comparison key, metric); paired metrics are drawn side by side."""
    groups = curve_groups(result)
    out: list[tuple[str, dict[str, Any]]] = []
    done: set[tuple[CurveKey, str]] = set()
    for (key, metric), curves in sorted(groups.items(), key=lambda kv: (curve_title(*kv[0]), args_label(kv[0][0]))):
        if (key, metric) in done:
            continue
        role, partner = curves[0].role, curves[0].points[0].partner
        left = (curves, curve_title(key, metric), verdicts(curves))
        if role and (key, partner) in groups:
            right_curves = groups[(key, partner)]
            right = (right_curves, curve_title(key, partner), verdicts(right_curves))
            spec = scaling_spec([left, right] if role == "headline" else [right, left])
            done |= {(key, metric), (key, partner)}
            name = f"{key.task} {key.group} {pair_names(metric, partner, role)}"
        else:
            spec = scaling_spec([left])
            done.add((key, metric))
            name = f"{key.task} {key.group} {metric}"
        if args_label(key):
            name += f" {args_label(key)}"
        out.append((name, spec))
    return out


def pair_names(metric: str, partner: str, role: str) -> str:
    return f"{metric} vs {partner}" if role == "headline" else f"{partner} vs {metric}"


def safe_filename(name: str, used: set[str]) -> str:
    """A portable file name for a chart title; never a path outside the target folder."""
    stem = re.sub(r"[^A-Za-z0-9._=-]+", "_", name).strip("._")[:120] or "chart"
    candidate, i = stem, 2
    while candidate in used:
        candidate, i = f"{stem}_{i}", i + 1
    used.add(candidate)
    return candidate


def export_spec(spec: dict[str, Any], folder: Path, stem: str) -> list[Path]:
    """Write ``stem.svg`` and ``stem.png`` (2x scale) with vl-convert: no browser, no network."""
    import vl_convert as vlc

    svg, png = folder / f"{stem}.svg", folder / f"{stem}.png"
    svg.write_text(vlc.vegalite_to_svg(spec), encoding="utf-8")
    png.write_bytes(vlc.vegalite_to_png(spec, scale=2))
    return [svg, png]


def export_scaling_charts(result: Analysis, folder: str | Path) -> list[Path]:
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    used: set[str] = set()
    written: list[Path] = []
    for name, chart in scaling_charts(result):
        written += export_spec(chart, target, safe_filename(name, used))
    return written
