"""SLA jobs: the escalation sweep every minute and escalation emails."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from serviceops.sla.models import CaseEscalation


@db_periodic_task(crontab(minute="*"))
def sla_sweep_job() -> int:
    from serviceops.sla.services import sla_sweep

    return sla_sweep(now=timezone.now())


@db_task()
def sla_sweep_once() -> int:
    """The same sweep, queued on demand (the two-worker test queues several at once)."""
    from serviceops.sla.services import sla_sweep

    return sla_sweep(now=timezone.now())


@db_task(retries=3, retry_delay=30)
def escalation_email(escalation_id: int, recipients: list[str]) -> bool:
    """Email the people an escalation names. Returns whether mail went."""
    escalation = (CaseEscalation.objects.select_related("case", "level").filter(
        pk=escalation_id).first())
    if escalation is None:
        return False
    case = escalation.case
    lines = [f"Case #{case.pk}: {case.subject}",
             f"Priority: {case.get_priority_display()}, status: {case.get_status_display()}", ""]
    if escalation.level is not None:
        lines.append(f"Escalation level {escalation.level.position} of the "
                     f"{escalation.get_clock_display().lower()} clock.")
    if escalation.reason:
        lines.append(f"Reason: {escalation.reason}")
    lines += [f"- {action}" for action in escalation.actions]
    send_mail(subject=f"[ServiceOps] Escalated: case #{case.pk} {case.subject}"[:200],
              message="\n".join(lines), from_email=settings.DEFAULT_FROM_EMAIL,
              recipient_list=recipients)
    return True
