"""The REST API (PF2): one NinjaAPI; each domain app contributes a router from its api.py."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as RequestValidationError
from ninja.security import HttpBearer

from serviceops.core.tokens import api_token_user


class TokenAuth(HttpBearer):
    """`Authorization: Bearer so_…` with a personal API token."""

    def authenticate(self, request, token: str):
        user = api_token_user(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="ServiceOps API",
    version="1",
    description="Customers, cases, replies, notes and case events. "
    "Authenticate with `Authorization: Bearer <token>` (create tokens under Account › API tokens).",
    auth=TokenAuth(),
    docs_url="/docs",
    openapi_url="/openapi.json",
    urls_namespace="api",
)


@api.exception_handler(PermissionDenied)
def permission_denied(request, exc):
    return api.create_response(request, {"detail": str(exc) or "Not allowed."}, status=403)


@api.exception_handler(ValidationError)
def validation_error(request, exc):
    if hasattr(exc, "message_dict"):
        errors = [{"field": field, "message": " ".join(messages)}
                  for field, messages in exc.message_dict.items()]
    else:
        errors = [{"field": None, "message": message} for message in exc.messages]
    detail = "; ".join(
        f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors
    )
    return api.create_response(request, {"detail": detail, "errors": errors}, status=422)


@api.exception_handler(RequestValidationError)
def request_validation_error(request, exc):
    """Malformed JSON or wrong types: the same shape as a refused change, with field names."""
    errors = []
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "payload")]
        errors.append({"field": ".".join(location) or None, "message": error.get("msg", "")})
    detail = "; ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"]
                       for e in errors)
    return api.create_response(request, {"detail": detail, "errors": errors}, status=422)


@api.exception_handler(AuthenticationError)
def authentication_error(request, exc):
    return api.create_response(
        request, {"detail": "Missing, unknown or revoked API token."}, status=401
    )


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, {"detail": str(exc) or "Not found."}, status=404)


def _register_routers() -> None:
    from serviceops.cases.api import router as cases_router
    from serviceops.complaints.api import router as complaints_router
    from serviceops.customers.api import router as customers_router
    from serviceops.insights.api import router as insights_router
    from serviceops.workforce.api import router as workforce_router

    api.add_router("/customers", customers_router)
    api.add_router("/cases", cases_router)
    api.add_router("/complaints", complaints_router)
    api.add_router("/kpis", insights_router)
    api.add_router("/workforce", workforce_router)


_register_routers()
