"""Personal API tokens: shown once, stored as SHA-256, revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.utils import timezone

from serviceops.core.models import ApiToken
from serviceops.core.permissions import require
from serviceops.core.roles import Perm

TOKEN_PREFIX = "so_"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_create(*, user, name: str, now: datetime | None = None) -> tuple[ApiToken, str]:
    """Create a token for `user` and return it with its secret (the only time it is known)."""
    require(user, Perm.API_TOKENS)
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user, name=name or "API token", prefix=key[:10], key_hash=_hash(key),
        created_at=now or timezone.now(),
    )
    token.full_clean()
    token.save()
    return token, key


def api_token_revoke(*, token: ApiToken, now: datetime | None = None) -> None:
    """Revoke `token`; requests that present it are refused from now on."""
    token.revoked_at = now or timezone.now()
    token.save(update_fields=["revoked_at"])


def api_token_user(key: str, *, now: datetime | None = None):
    """Return the active user owning `key`, or None for unknown, revoked or forged keys."""
    if not key or not key.startswith(TOKEN_PREFIX) or len(key) > 100:
        return None
    token = (
        ApiToken.objects.select_related("user", "user__staff")  # every request asks its role
        .filter(key_hash=_hash(key), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    moment = now or timezone.now()
    # Touch at most once a minute: a busy integration should not write on every request.
    if token.last_used_at is None or (moment - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=moment)
    return token.user
