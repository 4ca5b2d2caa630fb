"""A team with four weeks of weekday case history, a finished forecast of the week after, a
staffing plan of it and shift patterns: the path from history to a rota."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pytest

LAST_HISTORY_DAY = date(2026, 5, 3)  # a Sunday: the forecast starts on Monday 4 May


@pytest.fixture
def history(org):
    """Billing cases opened 09:00–17:00 on weekdays for four weeks, about 8 an hour with a
    lunchtime peak (seeded)."""
    from serviceops.cases.models import Case

    rng = np.random.default_rng(7)
    rows = []
    first = LAST_HISTORY_DAY - timedelta(days=27)
    for d in range(28):
        day = first + timedelta(days=d)
        if day.weekday() >= 5:
            continue
        for hour in range(9, 17):
            mean = 12 if hour in (12, 13) else 8
            for _ in range(rng.poisson(mean)):
                moment = datetime.combine(day, time(hour), tzinfo=UTC) + timedelta(
                    seconds=int(rng.integers(0, 3600)))
                rows.append(Case(subject="Where is my refund?", opened_at=moment,
                                 updated_at=moment, team=org.billing))
    Case.objects.bulk_create(rows)
    return rows


@pytest.fixture
def forecast(org, history, django_capture_on_commit_callbacks):
    from serviceops.workforce import services

    with django_capture_on_commit_callbacks(execute=True):
        made = services.forecast_create(
            by=org.leader.user, name="Billing, week of 4 May", team=org.billing,
            last_history_day=LAST_HISTORY_DAY, interval_minutes=60, horizon_days=7,
            time_zone="UTC", holidays="none", origins=1)
    made.refresh_from_db()
    assert made.state == "done", made.error
    return made


@pytest.fixture
def staffing_plan(org, forecast):
    from serviceops.workforce import services

    return services.plan_create(by=org.leader.user, forecast=forecast, name="80/20",
                                aht_seconds=600, sl_target=0.8, sl_seconds=20, shrinkage=0.3,
                                hourly_cost=15)


@pytest.fixture
def patterns(org):
    from serviceops.workforce.models import ShiftPattern

    return [
        ShiftPattern.objects.create(name="Day", team=org.billing, first_start=time(8),
                                    last_start=time(10), step_minutes=60,
                                    length_minutes=8 * 60, unpaid_break_minutes=60),
        ShiftPattern.objects.create(name="Short", team=org.billing, first_start=time(11),
                                    last_start=time(13), step_minutes=60,
                                    length_minutes=4 * 60, unpaid_break_minutes=0),
    ]
