"""The complaint analysis (figures, breakdown, root causes, Paretos) and its drill-down."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone
from ninja import Router

from serviceops.api.lookups import page
from serviceops.complaints import analysis
from serviceops.complaints.api.schemas import AnalysisOut, ComplaintPage, FiguresOut
from serviceops.complaints.models import Fishbone

router = Router(tags=["complaints"])

MAX_ANALYSIS_DAYS = 3 * 366  # as the analysis page: at most three years at a time

# --- analysis ---------------------------------------------------------------------------


def _analysis_filters(start: date, end: date, team: int | None, category: int | None,
                      product: str, severity: int | None) -> analysis.Filters:
    if end < start:
        raise ValidationError({"end": "The period ends before it starts."})
    if end - start > timedelta(days=MAX_ANALYSIS_DAYS):
        raise ValidationError({"end": "Choose a period of at most three years."})
    return analysis.Filters(team_id=team, category_id=category, product=product,
                            severity=severity)


def _figures(f: analysis.Figures) -> dict:
    return {name: getattr(f, name) for name in FiguresOut.model_fields}


def _cost(c: analysis.Cost) -> dict:
    return {"total": c.total, "gestures": c.gestures, "per_complaint": c.per_complaint,
            "by_kind": c.by_kind}


def _trend(t: analysis.CauseTrend) -> dict:
    return {"key": t.key, "label": t.label, "fishbone": t.fishbone, "count": t.count,
            "previous": t.previous, "direction": t.direction}


@router.get("", response=AnalysisOut,
            summary="Figures, breakdown, root causes and Paretos for a period")
def analysis_get(request, start: date, end: date, team: int | None = None,
                 category: int | None = None, product: str = "", severity: int | None = None,
                 by: str = "category"):
    """The complaints you may see received from `start` to `end` (local dates, included),
    with the previous period of the same length beside them, the filters and breakdown of
    the analysis page (`by`: category, product, team, severity, month or week). Times in
    seconds, rates 0–1, money in pounds."""
    if by not in analysis.BREAKDOWNS:
        raise ValidationError({"by": f"Choose one of {', '.join(analysis.BREAKDOWNS)}."})
    filters = _analysis_filters(start, end, team, category, product, severity)
    result = analysis.complaint_analysis(request.auth, first=start, last=end, filters=filters,
                                         by=by, now=timezone.now())
    return {
        "period": {"first": result.period.first, "last": result.period.last},
        "previous_period": {"first": result.previous.first, "last": result.previous.last},
        "by": by, "verdict": result.causes_verdict,
        "totals": _figures(result.totals), "previous_totals": _figures(result.previous_totals),
        "rows": [{"key": analysis.group_key(by, r.key), "label": r.label,
                  "figures": _figures(r.figures), "previous_volume": r.previous_volume}
                 for r in result.rows],
        "repeats": vars(result.repeats) | {"share": result.repeats.share},
        "previous_repeats": vars(result.previous_repeats)
        | {"share": result.previous_repeats.share},
        "causes": [_trend(t) for t in result.causes],
        "fishbone": [_trend(t) for t in result.fishbone],
        "cost": _cost(result.cost), "previous_cost": _cost(result.previous_cost),
        "cause_pareto": [vars(r) for r in result.cause_pareto],
        "category_pareto": [vars(r) for r in result.category_pareto],
    }


@router.get("/complaints", response=ComplaintPage,
            summary="The complaints behind a figure of the analysis (drill-down)")
def analysis_complaints(request, start: date, end: date, figure: str = "all",
                        team: int | None = None, category: int | None = None,
                        product: str = "", severity: int | None = None,
                        by: str | None = None, group: str | None = None,
                        cause: int | None = None, fishbone: str | None = None,
                        after: int | None = None, limit: int = 50):
    """`figure`: all, decided, upheld, acknowledged, resolved, ack_late, final_late, summary,
    open, open_overdue, repeat or gestures; optionally within one `group` of a breakdown
    `by` (the `key` of a row of the analysis), one root `cause` (id) or `fishbone`
    category."""
    if figure not in analysis.DRILLS:
        raise ValidationError({"figure": f"Choose one of {', '.join(analysis.DRILLS)}."})
    if by is not None and by not in analysis.BREAKDOWNS:
        raise ValidationError({"by": f"Choose one of {', '.join(analysis.BREAKDOWNS)}."})
    if fishbone is not None and fishbone not in Fishbone.values:
        raise ValidationError({"fishbone": f"Choose one of {', '.join(Fishbone.values)}."})
    filters = _analysis_filters(start, end, team, category, product, severity)
    try:
        complaints = analysis.analysis_drill(
            request.auth, first=start, last=end, filters=filters, figure=figure,
            by=by if group is not None else None, group=group,
            cause=str(cause) if cause is not None else None, fishbone=fishbone,
            now=timezone.now())
    except ValueError:
        raise ValidationError({"group": f"There is no {by} group {group!r}."}) from None
    return page(complaints.select_related("regime", "category", "category__parent"),
                 after, limit)
