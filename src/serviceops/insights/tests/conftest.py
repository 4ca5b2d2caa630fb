"""The small case history the KPI tests share."""

from datetime import UTC, datetime, timedelta

import pytest

from serviceops.cases.services import (
    case_assign,
    case_change_status,
    case_create,
    case_customer_message,
    case_reply,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
HOUR = 3600


@pytest.fixture
def cases(org, django_capture_on_commit_callbacks):
    """Four Billing email cases answered after 1, 2, 3 and 10 hours, resolved after 4, 6, 8
    and 30 hours; the second reopened and resolved again, the third reassigned; one phone
    case in Technical still open; one case opened before the period."""
    made = []
    with django_capture_on_commit_callbacks(execute=True):
        for i, (reply, resolve) in enumerate(((1, 4), (2, 6), (3, 8), (10, 30))):
            opened = T0 + timedelta(hours=i)
            case = case_create(by=org.agent.user, subject=f"Case {i}", channel="email",
                               team=org.billing, assignee=org.agent, category=org.refunds,
                               now=opened)
            case_reply(case=case, body="Hello", by=org.agent.user,
                       now=opened + timedelta(hours=reply))
            if i == 2:
                case_assign(case=case, assignee=org.agent2, by=org.leader.user,
                            now=opened + timedelta(hours=reply, minutes=5))
            case_change_status(case=case, status="resolved", by=org.agent.user,
                               now=opened + timedelta(hours=resolve - (2 if i == 1 else 0)))
            if i == 1:
                case_customer_message(case=case, body="Not fixed",
                                      now=opened + timedelta(hours=resolve - 1))
                case_change_status(case=case, status="resolved", by=org.agent.user,
                                   now=opened + timedelta(hours=resolve))
            made.append(case)
        made.append(case_create(by=org.outsider.user, subject="Phone", channel="phone",
                                team=org.technical, now=T0 + timedelta(hours=5)))
        made.append(case_create(by=org.agent.user, subject="Old", team=org.billing,
                                now=T0 - timedelta(days=40)))
    return made
