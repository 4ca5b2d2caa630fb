"""Sign-in, sign-out, API tokens and the health check."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from serviceops.core.models import ApiToken
from serviceops.core.permissions import allowed
from serviceops.core.roles import Perm
from serviceops.core.throttle import login_failure_record, login_is_locked, login_success_record
from serviceops.core.tokens import api_token_create, api_token_revoke


def _client_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


def login_view(request: HttpRequest) -> HttpResponse:
    """Sign in with username and password, refusing further tries after repeated failures."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = ""
    error = ""
    status = 200
    if request.method == "POST":
        username = request.POST.get("username", "").strip()
        password = request.POST.get("password", "")
        now = timezone.now()
        address = _client_address(request)
        if login_is_locked(username=username, address=address, now=now):
            error = "Too many failed sign-ins. Wait 15 minutes, then try again."
            status = 429
        else:
            user = authenticate(request, username=username, password=password)
            if user is None:
                login_failure_record(username=username, address=address, now=now)
                error = "That username and password do not match."
                status = 401
            else:
                login_success_record(username=username, now=now)
                login(request, user)
                return redirect(next_url or "cases:queue")
    return render(request, "core/login.html", {"error": error, "next": next_url}, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("login")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect("cases:queue")


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    """List, create and revoke the user's API tokens; a new secret is shown only once."""
    new_key = ""
    if request.method == "POST":
        if not allowed(request.user, Perm.API_TOKENS):
            raise PermissionDenied("Your role cannot create API tokens.")
        if "revoke" in request.POST:
            token = get_object_or_404(
                ApiToken, pk=request.POST["revoke"], user=request.user, revoked_at__isnull=True
            )
            api_token_revoke(token=token)
            messages.success(request, f"Token “{token.name}” revoked.")
            return redirect("tokens")
        _, new_key = api_token_create(user=request.user, name=request.POST.get("name", "")[:100])
    return render(request, "core/tokens.html", {
        "tokens": request.user.api_tokens.all(),
        "new_key": new_key,
    })


def health(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for load balancers; and, for monitoring, how many
    changes wait for the job worker to refresh their SLA clocks and facts, and for how long
    the oldest has waited (a backlog that keeps growing means no worker is running)."""
    from serviceops.cases.derived import derived_backlog

    waiting, oldest = derived_backlog()
    return JsonResponse({
        "status": "ok", "database": connection.vendor, "refresh_backlog": waiting,
        "refresh_oldest_seconds": round((timezone.now() - oldest).total_seconds(), 1)
        if oldest else None,
    })
