"""Intraday: today's contacts against the forecast, the requirement and the rota."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from ninja import Router

from serviceops.people.models import Team
from serviceops.workforce import selectors

router = Router()

# --- intraday ---------------------------------------------------------------------------


@router.get("/intraday", summary="Today's actual vs forecast vs required vs scheduled",
            operation_id="serviceops_workforce_api_intraday")
def intraday(request, team: int | None = None, day: date | None = None,
             plan: int | None = None, short: float = 1.0, sl_points: float = 5.0):
    """Per interval of the day (default today in the forecast's time zone): contacts so far,
    the forecast and its re-forecast, agents required and scheduled, the predicted service
    level and the warnings. `team` omitted: all teams (for those who see every team). A
    warning is raised when the rota is `short` agents or more below the requirement, or the
    predicted service level is `sl_points` or more below target."""
    from serviceops.workforce import intraday as maths
    from serviceops.workforce import live

    if not selectors.can_view_plans(request.auth):
        raise PermissionDenied("Your role does not include workforce planning.")
    if short < 0 or not 0 <= sl_points <= 100:
        raise ValidationError({"short": "Give 0 or more agents and 0–100 points."})
    chosen = None
    if team is not None:
        chosen = Team.objects.filter(pk=team).first()
        if chosen is None:
            raise ValidationError({"team": f"There is no team {team}."})
    return live.live_day_json(request.auth, team=chosen, now=timezone.now(), day=day,
                              plan_id=plan, thresholds=maths.Thresholds(
                                  short_agents=short, sl_points=sl_points / 100))
