"""Login throttling: too many failures for a username or an address lock further tries.

Failures are kept in the database (not a per-process cache) so that the limit holds across
every web process.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q

from serviceops.core.models import LoginFailure


def _window_start(now: datetime) -> datetime:
    return now - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)


def login_is_locked(*, username: str, address: str, now: datetime) -> bool:
    """Return whether sign-in for `username` or from `address` is locked at `now`."""
    recent = LoginFailure.objects.filter(at__gte=_window_start(now))
    limit = settings.LOGIN_FAILURE_LIMIT
    by_user = recent.filter(username=username.lower()).count()
    by_address = recent.filter(address=address).count()
    # An address gets more room than a username: an office shares one address.
    return by_user >= limit or by_address >= limit * 4


def login_failure_record(*, username: str, address: str, now: datetime) -> None:
    """Record a failed sign-in and forget failures older than the window."""
    LoginFailure.objects.create(at=now, username=username.lower()[:150], address=address[:64])
    LoginFailure.objects.filter(at__lt=_window_start(now)).delete()


def login_success_record(*, username: str, now: datetime) -> None:
    """Clear the failures of `username` after a successful sign-in."""
    LoginFailure.objects.filter(Q(username=username.lower())).delete()
