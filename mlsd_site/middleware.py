"""Project-wide middleware."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


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
                f"The request is larger than the {settings.MODEL_UPLOAD_MAX_BYTES / 1e6:.0f} MB "
                "upload limit.", status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
