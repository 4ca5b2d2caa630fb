"""Background jobs for cases. Each one loads by id, calls a service, and is safe to repeat."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from serviceops.cases.choices import Status
from serviceops.cases.models import Case
from serviceops.people.models import Staff


@db_task(retries=3, retry_delay=30)
def case_notify_assignee(case_id: int, staff_id: int) -> bool:
    """Email the assignee that a case is theirs, if it still is. Returns whether mail went."""
    case = Case.objects.filter(pk=case_id, assignee_id=staff_id).select_related("customer").first()
    staff = Staff.objects.filter(pk=staff_id).first()
    if case is None or staff is None or not staff.email:
        return False
    send_mail(
        subject=f"[ServiceOps] Case #{case.pk} assigned to you: {case.subject}",
        message=f"Case #{case.pk} ({case.get_priority_display()} priority) is now yours.\n\n"
                f"Customer: {case.customer or 'unknown'}\n\n{case.description[:2000]}",
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[staff.email],
    )
    return True


def cases_autoclose(*, now) -> int:
    """Close cases resolved more than CASE_AUTOCLOSE_DAYS ago. Returns how many closed."""
    from serviceops.cases.services import case_change_status

    cutoff = now - timedelta(days=settings.CASE_AUTOCLOSE_DAYS)
    closed = 0
    ids = list(
        Case.objects.filter(status=Status.RESOLVED, resolved_at__lt=cutoff)
        .values_list("id", flat=True)[:1000]
    )
    for case in Case.objects.filter(pk__in=ids):
        # Re-checked under the row lock inside the service: a second worker finds the case
        # closed already (nothing to do), and a customer reply that reopened it in the
        # meantime wins (the lifecycle refuses reopened → closed).
        try:
            result = case_change_status(case=case, status=Status.CLOSED, by=None, now=now)
        except ValidationError:
            continue
        closed += result.closed_at == now
    return closed


@db_periodic_task(crontab(minute="*/15"))
def cases_autoclose_job() -> int:
    return cases_autoclose(now=timezone.now())


@db_task()
def derived_refresh_job() -> int:
    """Recompute the SLA clocks and facts of the cases changed since the last pass
    (`cases.derived`). Safe to repeat and to run on several workers: passes take turns."""
    from serviceops.cases.derived import derived_pass

    return derived_pass()


@db_periodic_task(crontab(minute="*"))
def derived_refresh_periodic() -> int:
    """The same pass every minute, for changes whose own pass was never queued (the queue
    was down) or failed."""
    from serviceops.cases.derived import derived_pass

    return derived_pass()
