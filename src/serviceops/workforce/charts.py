"""Vega-Lite specs (built with Altair) of the workforce pages: a forecast with its
prediction intervals after the recent history, and agent counts per interval (a plan's
need, a rota's coverage).
Pages draw them with the insights chart script (`insights:charts_js`)."""

from __future__ import annotations

import math

import altair as alt


def _points(starts: list[str], values, series: str) -> list[dict]:
    return [{"time": t, "value": None if not math.isfinite(v) else round(float(v), 2),
             "series": series} for t, v in zip(starts, values, strict=True)]


def forecast(*, title: str, history_starts: list[str], history, starts: list[str], mean,
             low, high, unit: str = "contacts") -> dict:
    """The last weeks of actuals, then the forecast with its 80 % prediction interval."""
    lines = _points(history_starts, history, "Actual") + _points(starts, mean, "Forecast")
    band = [{"time": t, "low": round(float(lo), 2), "high": round(float(hi), 2)}
            for t, lo, hi in zip(starts, low, high, strict=True)
            if math.isfinite(lo) and math.isfinite(hi)]
    x = alt.X("time:T", title=None)
    area = alt.Chart(alt.Data(values=band)).mark_area(opacity=0.25, color="#4c78a8").encode(
        x=x, y=alt.Y("low:Q", title=f"{unit} per interval"), y2="high:Q",
        tooltip=[alt.Tooltip("time:T", format="%a %d %b %H:%M"),
                 alt.Tooltip("low:Q", title="80 % low", format=",.1f"),
                 alt.Tooltip("high:Q", title="80 % high", format=",.1f")])
    line = alt.Chart(alt.Data(values=lines)).mark_line(strokeWidth=1.5).encode(
        x=x, y=alt.Y("value:Q"),
        color=alt.Color("series:N", title=None,
                        scale=alt.Scale(domain=["Actual", "Forecast"],
                                        range=["#555555", "#1f5fa8"])),
        strokeDash=alt.StrokeDash("series:N", legend=None,
                                  scale=alt.Scale(domain=["Actual", "Forecast"],
                                                  range=[[1, 0], [5, 3]])),
        tooltip=[alt.Tooltip("time:T", format="%a %d %b %H:%M"), "series:N",
                 alt.Tooltip("value:Q", format=",.1f")])
    return alt.layer(area, line).properties(
        width="container", height=260, title=title,
        description=f"{title}: actual {unit} then the forecast with its 80 % interval",
    ).to_dict()


def steps(*, title: str, starts: list[str], series: dict[str, list], unit: str = "agents"
          ) -> dict:
    """Agent counts per interval as step lines, one per series (e.g. required and
    scheduled); the first series is dashed so that the two read apart without colour."""
    names = list(series)
    data = [point for name in names for point in _points(starts, series[name], name)]
    chart = alt.Chart(alt.Data(values=data)).mark_line(interpolate="step-after").encode(
        x=alt.X("time:T", title=None),
        y=alt.Y("value:Q", title=unit),
        color=alt.Color("series:N", title=None, sort=names,
                        scale=alt.Scale(domain=names,
                                        range=["#b71c1c", "#1f5fa8", "#2e7d32"][:len(names)])),
        strokeDash=alt.StrokeDash("series:N", legend=None, sort=names,
                                  scale=alt.Scale(domain=names,
                                                  range=[[4, 2], [1, 0], [2, 2]][:len(names)])),
        tooltip=[alt.Tooltip("time:T", format="%a %d %b %H:%M"), "series:N",
                 alt.Tooltip("value:Q", format=",.0f")])
    return chart.properties(width="container", height=220, title=title,
                            description=f"{title}: {' and '.join(names).lower()} per "
                                        "interval").to_dict()
