"""Vega-Lite chart specs (built with Altair) for the dashboard, control charts, Paretos and
the scorecard export. Pages draw them with the offline bundle from vl-convert (see
`views.charts_js`); the PDF export renders the same specs to SVG on the server."""

from __future__ import annotations

from functools import lru_cache

import altair as alt

from serviceops.insights.kpis import Unit
from serviceops.insights.spc import ControlChart, ParetoRow

# The page's own script draws every <script type="application/json" data-chart="ID"> into
# the element ID; `ast` makes Vega interpret expressions instead of compiling them, which
# keeps the pages within a Content-Security-Policy without 'unsafe-eval'.
_DRAW = """
function drawCharts(root) {
  for (const node of root.querySelectorAll('script[type="application/json"][data-chart]')) {
    const target = document.getElementById(node.dataset.chart);
    if (!target || target.dataset.drawn) continue;
    target.dataset.drawn = "1";
    vegaEmbed(target, JSON.parse(node.textContent), {ast: true, actions: false,
                                                       renderer: "svg"})
      .then(() => { target.dataset.ready = "1"; })
      .catch((error) => { target.textContent = "The chart could not be drawn: " + error; });
  }
}
document.addEventListener("DOMContentLoaded", () => drawCharts(document));
document.addEventListener("htmx:afterSettle", (event) => drawCharts(event.target));
"""


@lru_cache(maxsize=1)
def javascript_bundle() -> str:
    """Vega, Vega-Lite and Vega-Embed with our drawing script, as one file (a few seconds
    to build, so built once per process)."""
    import vl_convert

    return vl_convert.javascript_bundle(_DRAW)


def _scale(unit: Unit) -> tuple[float, str]:
    """Values are stored in seconds or 0–1; charts show hours and percentages."""
    if unit is Unit.SECONDS:
        return 1 / 3600, "hours"
    if unit is Unit.RATIO:
        return 100, "%"
    return 1, ""


def trend(*, name: str, unit: Unit, labels: list[str], values: list[float | None],
          target: float | None) -> dict:
    """A small line chart of one KPI over the period, with its target as a dashed rule."""
    factor, suffix = _scale(unit)
    data = [{"period": label, "value": None if v is None else v * factor}
            for label, v in zip(labels, values, strict=True)]
    title = f"{name} ({suffix})" if suffix else name
    line = alt.Chart(alt.Data(values=data)).mark_line(point=True).encode(
        x=alt.X("period:O", title=None, sort=None, axis=alt.Axis(labelAngle=-45)),
        y=alt.Y("value:Q", title=suffix or None),
        tooltip=[alt.Tooltip("period:O"), alt.Tooltip("value:Q", format=",.2f")],
    )
    layers = [line]
    if target is not None:
        layers.append(alt.Chart(alt.Data(values=[{"target": target * factor}])).mark_rule(
            strokeDash=[4, 4], color="#555").encode(y="target:Q"))
    chart = alt.layer(*layers).properties(width="container", height=120, title=title,
                                          description=f"Trend of {name}")
    return chart.to_dict()


def bars(*, title: str, rows: list[tuple[str, float]], unit: Unit = Unit.COUNT) -> dict:
    """A horizontal bar chart of one value per group (e.g. volume by channel)."""
    factor, suffix = _scale(unit)
    data = [{"group": g, "value": v * factor} for g, v in rows]
    chart = alt.Chart(alt.Data(values=data)).mark_bar().encode(
        y=alt.Y("group:N", sort="-x", title=None),
        x=alt.X("value:Q", title=suffix or "cases"),
        tooltip=["group:N", alt.Tooltip("value:Q", format=",.2f")],
    ).properties(width="container", height=max(60, 22 * len(rows)), title=title,
                 description=title)
    return chart.to_dict()


def control(*, title: str, chart: ControlChart, labels: list[str], unit: Unit) -> dict:
    """A control chart: the values, centre line and limits, signals marked in another
    shape as well as colour."""
    factor, suffix = _scale(unit if chart.kind == "xmr" else Unit.RATIO
                            if chart.kind == "p" else Unit.NUMBER)
    rows = []
    for row in chart.to_rows(labels):
        rows.append({
            "period": row["label"],
            "value": None if row["value"] is None else row["value"] * factor,
            "centre": row["centre"] * factor,
            "ucl": None if row["ucl"] is None else row["ucl"] * factor,
            "lcl": None if row["lcl"] is None else row["lcl"] * factor,
            "signal": "Signal: " + row["signal"].replace("_", " ") if row["signal"]
            else "Common cause",
        })
    base = alt.Chart(alt.Data(values=rows)).encode(
        x=alt.X("period:O", title=None, sort=None, axis=alt.Axis(labelAngle=-45)))
    limits = [base.mark_line(strokeDash=dash, color=color, interpolate="step-after").encode(
        y=alt.Y(f"{field}:Q", title=suffix or None)) for field, dash, color in (
        ("ucl", [6, 3], "#b00"), ("lcl", [6, 3], "#b00"), ("centre", [1, 0], "#555"))]
    points = base.mark_line(point=alt.OverlayMarkDef(filled=True, size=60)).encode(
        y="value:Q")
    flagged = base.mark_point(size=160, shape="diamond", filled=True).encode(
        y="value:Q", color=alt.Color("signal:N", title=None,
                                     scale=alt.Scale(range=["#1f4e79", "#d62728"])),
        shape=alt.Shape("signal:N", title=None),
        tooltip=["period:O", alt.Tooltip("value:Q", format=",.2f"), "signal:N"])
    layered = alt.layer(*limits, points, flagged).properties(
        width="container", height=260, title=title, description=f"Control chart of {title}")
    return layered.to_dict()


def pareto(*, title: str, rows: list[ParetoRow]) -> dict:
    """Bars of counts in falling order with the cumulative percentage as a line."""
    data = [{"label": r.label, "count": r.count, "cumulative": r.cumulative_share * 100,
             "vital": "Vital few" if r.vital_few else "Useful many"} for r in rows]
    base = alt.Chart(alt.Data(values=data)).encode(
        x=alt.X("label:N", sort=None, title=None, axis=alt.Axis(labelAngle=-40)))
    counts = base.mark_bar().encode(
        y=alt.Y("count:Q", title="cases"),
        color=alt.Color("vital:N", title=None, scale=alt.Scale(
            domain=["Vital few", "Useful many"], range=["#1f4e79", "#9ab"])),
        tooltip=["label:N", "count:Q", alt.Tooltip("cumulative:Q", format=".1f")])
    cumulative = base.mark_line(point=True, color="#d62728").encode(
        y=alt.Y("cumulative:Q", title="cumulative %", scale=alt.Scale(domain=[0, 100])))
    chart = alt.layer(counts, cumulative).resolve_scale(y="independent").properties(
        width="container", height=260, title=title, description=f"Pareto chart: {title}")
    return chart.to_dict()


def to_svg(spec: dict, *, width: int = 640) -> str:
    """Render a spec to SVG on the server (for the PDF export); 'container' widths become
    `width` pixels."""
    import vl_convert

    fixed = _fixed_width(spec, width)
    return vl_convert.vegalite_to_svg(fixed)


def _fixed_width(spec, width):
    if isinstance(spec, dict):
        return {k: (width if k == "width" and v == "container" else _fixed_width(v, width))
                for k, v in spec.items()}
    if isinstance(spec, list):
        return [_fixed_width(v, width) for v in spec]
    return spec
