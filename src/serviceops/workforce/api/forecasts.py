"""Forecasts: from a team's cases or an uploaded arrivals CSV, queued; their values per
interval once done."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from serviceops.api.lookups import get_or_404, page, referenced
from serviceops.people.models import Team
from serviceops.workforce import services
from serviceops.workforce.api._common import numbers
from serviceops.workforce.api.schemas import (
    ForecastFileIn,
    ForecastIn,
    ForecastOut,
    ForecastPage,
    ForecastValuesOut,
)
from serviceops.workforce.models import Forecast, JobState
from serviceops.workforce.selectors import forecast_arrays, forecast_scope

router = Router()

# --- forecasts --------------------------------------------------------------------------


@router.get("/forecasts", response=ForecastPage, summary="Forecasts you may see",
            operation_id="serviceops_workforce_api_forecast_list")
def forecast_list(request, after: int | None = None, limit: int = 50):
    return page(forecast_scope(request.auth), after, limit)


def _forecast_create(request, payload: ForecastIn, **file_fields) -> Forecast:
    return services.forecast_create(
        by=request.auth, name=payload.name,
        team=referenced(Team.objects.all(), payload.team_id, "team_id", "team"),
        last_history_day=payload.last_history_day, interval_minutes=payload.interval_minutes,
        horizon_days=payload.horizon_days, time_zone=payload.time_zone,
        holidays=payload.holidays, closures=payload.closures, model=payload.model,
        origins=payload.origins, **file_fields)


@router.post("/forecasts", response={201: ForecastOut},
             summary="Forecast a team's contacts from its cases (queued)",
             operation_id="serviceops_workforce_api_forecast_create")
def forecast_create(request, payload: ForecastIn):
    """Saves the request and queues the job; poll the forecast until `state` is done."""
    return Status(201, _forecast_create(request, payload))


@router.post("/forecasts/file", response={201: ForecastOut},
             summary="Forecast from an uploaded arrivals CSV (multipart, queued)",
             operation_id="serviceops_workforce_api_forecast_create_from_file")
def forecast_create_from_file(request, arrivals: File[UploadedFile],
                              payload: Form[ForecastFileIn]):
    """`arrivals`: a CSV with a header row, one row per arrival (or a count per row with
    `count_column`; mean handle seconds per row with `handle_column`)."""
    return Status(201, _forecast_create(
        request, payload, source=Forecast.Source.FILE, arrivals=arrivals,
        time_column=payload.time_column, count_column=payload.count_column,
        handle_column=payload.handle_column))


@router.get("/forecasts/{forecast_id}", response=ForecastOut,
            operation_id="serviceops_workforce_api_forecast_get")
def forecast_get(request, forecast_id: int):
    return get_or_404(forecast_scope(request.auth), forecast_id, "forecast")


@router.post("/forecasts/{forecast_id}/rerun", response=ForecastOut,
             summary="Queue a failed forecast again",
             operation_id="serviceops_workforce_api_forecast_rerun")
def forecast_rerun(request, forecast_id: int):
    forecast = get_or_404(forecast_scope(request.auth), forecast_id, "forecast")
    services.forecast_rerun(by=request.auth, forecast=forecast)
    forecast.refresh_from_db()
    return forecast


@router.get("/forecasts/{forecast_id}/values", response=ForecastValuesOut,
            summary="A finished forecast per interval, with recent history",
            operation_id="serviceops_workforce_api_forecast_values")
def forecast_values(request, forecast_id: int):
    forecast = get_or_404(forecast_scope(request.auth), forecast_id, "forecast")
    if forecast.state != JobState.DONE:
        state = forecast.get_state_display().lower()
        raise ValidationError({"state": f"The forecast is {state}: it has no values yet."})
    arrays = forecast_arrays(forecast)
    return {"interval_minutes": forecast.interval_minutes, "starts": arrays.starts,
            "mean": numbers(arrays.mean),
            **{f"{side}_{p}": numbers(getattr(arrays, side)[p])
               for side in ("low", "high") for p in (80, 95)},
            "handle_time": None if arrays.handle_time is None else numbers(arrays.handle_time),
            "history_starts": arrays.history_starts, "history": numbers(arrays.history)}
