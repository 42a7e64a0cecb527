"""The site's URLs plus ``bench/noop/``: an authenticated view that does nothing, so a
request to it costs exactly the middleware (sessions, CSRF, authentication, CSP...) that
every real view pays. The autosave benchmark sends it the same POST as a save."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.http import require_POST


@require_POST
@login_required
def noop(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/noop/", noop, name="bench_noop"),
    path("", include("mlsd_site.urls")),
]
