"""Background jobs of workforce planning. Each loads by id, calls a service, and is safe to
repeat: a forecast or rota is taken from the queue by one conditional update, so a second run
of the same job finds nothing to do."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import send_mass_mail
from huey.contrib.djhuey import db_task

from serviceops.workforce import services
from serviceops.workforce.models import Rota


@db_task()
def forecast_run_job(forecast_id: int) -> bool:
    return services.forecast_run(forecast_id)


@db_task()
def rota_solve_job(rota_id: int) -> bool:
    return services.rota_solve(rota_id)


@db_task(retries=3, retry_delay=30)
def rota_notify_published(rota_id: int) -> int:
    """Email each member of staff on a published rota their shifts. Returns how many mails."""
    published = (Rota.objects.filter(pk=rota_id, state=Rota.State.PUBLISHED)
                 .select_related("plan__forecast").first())
    if published is None:
        return 0
    zone = ZoneInfo(published.plan.forecast.time_zone)
    by_person: dict = {}
    for shift in published.shifts.select_related("staff").exclude(staff=None):
        by_person.setdefault(shift.staff, []).append(shift)
    mails = []
    for person, shifts in by_person.items():
        if not person.email:
            continue
        lines = [f"{s.start.astimezone(zone):%a %d %b %H:%M} to "
                 f"{s.end.astimezone(zone):%H:%M} ({s.template})" for s in shifts]
        mails.append((f"[ServiceOps] Your shifts from {published.first_day:%d %b %Y}",
                      "Your rota has been published:\n\n" + "\n".join(lines)
                      + "\n\nSee them, or subscribe to them in your calendar, under "
                        "'My shifts'.",
                      settings.DEFAULT_FROM_EMAIL, [person.email]))
    return send_mass_mail(mails) if mails else 0
