"""The site's URLs plus two no-op views: authenticated views that do nothing, so a request to
one costs exactly the middleware (sessions, CSRF, authentication, CSP...) that every real
view pays. The autosave benchmark sends ``bench/noop/`` the same POST as a save; the
leaderboard benchmark's floor is a GET of ``bench/noop/get/``."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.http import require_GET, require_POST


@require_POST
@login_required
def noop(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@require_GET
@login_required
def noop_get(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/noop/", noop, name="bench_noop"),
    path("bench/noop/get/", noop_get, name="bench_noop_get"),
    path("", include("mlsd_site.urls")),
]
