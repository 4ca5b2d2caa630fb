"""Each person's published shifts, and their calendar feed behind a signed link."""

from __future__ import annotations

from datetime import datetime

from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Router

from serviceops.core.permissions import staff_of
from serviceops.workforce import exports
from serviceops.workforce.api.schemas import FeedOut, MyShiftOut
from serviceops.workforce.selectors import my_shifts

router = Router()

# --- my shifts and the calendar feed ----------------------------------------------------


@router.get("/my-shifts", response=list[MyShiftOut], summary="Your published shifts",
            operation_id="serviceops_workforce_api_my_shift_list")
def my_shift_list(request, since: datetime | None = None):
    """From `since` (default: the start of today, UTC); shifts ending after it."""
    if since is None:
        since = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    return list(my_shifts(request.auth, since=since).select_related("staff"))


@router.get("/my-shifts/feed", response=FeedOut,
            summary="The secret link of your calendar feed (subscribe to it)",
            operation_id="serviceops_workforce_api_my_feed")
def my_feed(request):
    staff = staff_of(request.auth)
    if staff is None:
        raise Http404("Your login has no staff record, so no shifts.")
    path = reverse("api:workforce_calendar_feed", kwargs={"token": exports.feed_token(staff)})
    return {"url": request.build_absolute_uri(path)}


@router.get("/calendar/{token}", auth=None, response={200: None},
            url_name="workforce_calendar_feed",
            summary="A person's published shifts as iCalendar (signed link; no token)",
            operation_id="serviceops_workforce_api_calendar_feed")
def calendar_feed(request, token: str):
    staff = exports.staff_for_feed_token(token)
    if staff is None:
        raise Http404("This calendar link is not valid (or no longer).")
    shifts = exports.feed_shifts(staff, now=timezone.now())
    return HttpResponse(exports.shifts_ics(shifts, name=f"Shifts of {staff.name}"),
                        content_type="text/calendar; charset=utf-8")
