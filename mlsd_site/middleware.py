"""Project-wide middleware."""

from collections.abc import Callable

from django.conf import settings
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
