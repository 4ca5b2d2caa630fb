"""Response headers that every page gets."""

from django.conf import settings


class SecurityHeadersMiddleware:
    """Add a strict Content-Security-Policy (scripts and styles only from our own origin)."""

    POLICY = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # The API docs page loads its viewer from a CDN; everything else is self-hosted.
        if not request.path.startswith("/api/docs"):
            response.headers.setdefault("Content-Security-Policy", self.POLICY)
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=()")
        if settings.SECURE_COOKIES:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
