"""Template helpers of the insight pages: values in words, status badges, chart specs."""

from __future__ import annotations

import json

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from serviceops.insights.kpis import Direction, Status, Unit, display

register = template.Library()

_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}
_SYMBOLS = {Status.GREEN: "✔", Status.AMBER: "▲", Status.RED: "✖", Status.NO_TARGET: "–",
            Status.NO_DATA: "–"}


@register.filter
def kpi_value(value, unit) -> str:
    """A KPI value in words for its unit."""
    return display(value, Unit(unit))


@register.filter
def status_badge(status) -> str:
    """The status as a symbol and words (never colour alone)."""
    status = Status(status)
    return format_html('<span class="rag rag-{}"><span aria-hidden="true">{}</span> {}</span>',
                       status.value, _SYMBOLS[status], status.words)


@register.simple_tag
def change_words(row) -> str:
    """How the value moved since the previous period, and whether that is better."""
    if row.previous is None or row.previous.value is None or row.value is None:
        return "—"
    before, now = row.previous.value, row.value
    if before == now:
        return "no change"
    rising = now > before
    arrow = "↑" if rising else "↓"
    if row.kpi.direction is Direction.NEUTRAL:
        verdict = ""
    else:
        better = rising == (row.kpi.direction is Direction.HIGHER)
        verdict = " (better)" if better else " (worse)"
    if row.kpi.unit == Unit.RATIO:
        amount = f"{abs(now - before) * 100:.1f} points"
    elif before:
        amount = f"{abs(now - before) / abs(before) * 100:.0f} %"
    else:
        amount = display(abs(now - before), row.kpi.unit)
    return f"{arrow} {amount}{verdict}"


@register.simple_tag
def chart(spec: dict, chart_id: str) -> str:
    """A chart placeholder and its Vega-Lite spec (drawn by /insights/charts.js)."""
    data = json.dumps(spec).translate(_ESCAPES)
    return format_html('<div class="chart" id="{}" role="img" aria-label="{}"></div>'
                       '<script type="application/json" data-chart="{}">{}</script>',
                       chart_id, spec.get("description") or spec.get("title") or "Chart",
                       chart_id, mark_safe(data))


@register.filter
def get_item(mapping: dict, key):
    return mapping.get(key)
