"""The complaint panel on a case page: its deadlines and a link, or a way to log one."""

from __future__ import annotations

from django import template
from django.utils import timezone

from serviceops.complaints.models import Complaint

register = template.Library()


@register.inclusion_tag("complaints/_case_panel.html", takes_context=True)
def case_complaint(context, case) -> dict:
    from serviceops.complaints.selectors import deadline_status

    complaint = (Complaint.objects.filter(case=case).select_related("regime", "handler")
                 .first())
    return {
        "case": case, "complaint": complaint, "can": context.get("can", {}),
        "deadlines": deadline_status(complaint, timezone.now()) if complaint else [],
    }
