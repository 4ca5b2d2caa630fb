"""Complaint jobs: the deadline and action reminders, every 15 minutes."""

from __future__ import annotations

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task


@db_periodic_task(crontab(minute="*/15"))
def complaint_reminders_job() -> int:
    """Remind handlers, leaders and owners of deadlines near or missed (safe to run twice)."""
    from serviceops.complaints.reminders import reminders_send

    return reminders_send(now=timezone.now())
