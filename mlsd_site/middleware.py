"""Project-wide middleware."""

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse


def upload_limit_text() -> str:
    """The upload limit as every page states it, in MiB: ``20 MiB``. The same wording as
    ``grading.engine.artifacts.mib_text``, which this module may not import."""
    value = settings.MODEL_UPLOAD_MAX_BYTES / (1024 * 1024)
    return f"{round(value, 1) if value >= 1 else round(value, 3):g} MiB"


class RequestSizeLimitMiddleware:
    """Refuse a request body larger than the biggest model upload (plus form overhead)
    before anything reads it, so an oversized upload is not streamed to disk first.
    Runs before CSRF, which would otherwise parse the whole body."""

    OVERHEAD_BYTES = 1024 * 1024

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.MODEL_UPLOAD_MAX_BYTES + self.OVERHEAD_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return HttpResponse(
                f"The request is larger than the {upload_limit_text()} upload limit.",
                status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class WebSocketConnectSrcMiddleware:
    """Add the page's own WebSocket origin (``ws://host`` on http, ``wss://host`` on https)
    to the CSP's ``connect-src``: the live rooms' pages open a socket to their own host.
    CSP Level 3 lets ``'self'`` match it, and Chromium does (checked with 156), but older
    browsers did not (reportedly Chrome before 71, Safari before 16). Listed after Django's
    CSP middleware, so it runs first on the way out; a view that set its own policy
    (``csp_override``) keeps it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = settings.SECURE_CSP
        if (not policy or "connect-src" not in policy or hasattr(response, "_csp_config")
                or not response.get("Content-Type", "").startswith("text/html")):
            return response
        try:
            host = request.get_host()  # checked against ALLOWED_HOSTS
        except DisallowedHost:
            return response
        scheme = "wss" if request.is_secure() else "ws"
        response._csp_config = {**policy,
                                "connect-src": [*policy["connect-src"], f"{scheme}://{host}"]}
        return response
