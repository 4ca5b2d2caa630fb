"""The balanced scorecard as CSV, XLSX and PDF (WeasyPrint, with trend charts rendered to
SVG by vl-convert)."""

from __future__ import annotations

import csv
import io
from datetime import date

from django.template.loader import render_to_string

from serviceops.insights import charts
from serviceops.insights.kpis import display
from serviceops.insights.selectors import ScorecardPerspective

HEADER = ["perspective", "perspective_status", "objective", "objective_status", "kpi_key",
          "kpi", "value", "value_text", "unit", "previous", "target", "amber", "status",
          "owner", "initiatives"]


def scorecard_rows(perspectives: list[ScorecardPerspective]) -> list[list]:
    """One row per measure (and one per objective without measures)."""
    rows = []
    for p in perspectives:
        for o in p.objectives:
            initiatives = "; ".join(
                f"{i.name} ({i.get_state_display()}"
                + (f", due {i.due:%d %b %Y}" if i.due else "")
                + (f", {i.owner}" if i.owner else "") + ")" for i in o.initiatives)
            measures = o.rows or [None]
            for r in measures:
                rows.append([
                    p.perspective.label, p.status.words, o.objective.name, o.status.words,
                    r.kpi.key if r else "", r.kpi.name if r else "",
                    r.value if r else None,
                    display(r.value, r.kpi.unit) if r else "",
                    r.kpi.unit.value if r else "",
                    r.previous.value if r and r.previous else None,
                    r.target if r else None, r.amber if r else None,
                    r.status.words if r else "", r.owner if r else "", initiatives,
                ])
    return rows


def scorecard_csv(perspectives: list[ScorecardPerspective]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for row in scorecard_rows(perspectives):
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue()


def scorecard_xlsx(perspectives: list[ScorecardPerspective], *, first: date,
                   last: date) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Scorecard"
    sheet.append([f"Balanced scorecard {first:%d %b %Y} to {last:%d %b %Y}"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(HEADER)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in scorecard_rows(perspectives):
        sheet.append(row)
    for column, width in zip("ABCDEFGHIJKLMNO", (18, 14, 36, 14, 30, 36, 12, 14, 9, 12, 10,
                                                 10, 14, 18, 50), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def scorecard_pdf(perspectives: list[ScorecardPerspective], *, first: date, last: date,
                  labels: list[str], series: dict) -> bytes:
    """A printable scorecard: statuses in words and symbols, and each measure's trend."""
    from weasyprint import HTML

    svgs = {}
    for p in perspectives:
        for o in p.objectives:
            for r in o.rows:
                values = [m.value if m else None for m in series.get(r.kpi.key, [])]
                if r.kpi.key in svgs or not any(v is not None for v in values):
                    continue
                svgs[r.kpi.key] = charts.to_svg(charts.trend(
                    name=r.kpi.name, unit=r.kpi.unit, labels=labels, values=values,
                    target=r.target), width=300)
    html = render_to_string("insights/scorecard_pdf.html", {
        "perspectives": perspectives, "first": first, "last": last, "svgs": svgs})
    return HTML(string=html).write_pdf()
