from django.contrib.auth import login
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from grading.selectors.workers import workers_health
from mlsd_site.forms import SignupForm


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form})


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and people: the database answers, and which Celery
    workers said lately that they are alive, with the queues each consumes. 503 only when
    the database does not answer (a missing worker is reported, not a reason to restart the
    web server)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database_ok = True
    except Exception:  # noqa: BLE001 - any database failure means "not healthy"
        database_ok = False
    body: dict[str, object] = {"database": "ok" if database_ok else "down"}
    if database_ok:
        health = workers_health()
        now = timezone.now()
        body["workers_alive"] = len(health.alive)
        body["worker_last_seen_seconds"] = health.last_seen_seconds
        body["workers"] = [
            {"hostname": worker.hostname, "queues": worker.queues,
             "last_seen_seconds": round((now - worker.seen_at).total_seconds(), 1)}
            for worker in health.alive
        ]
        body["workers_per_queue"] = health.workers_per_queue
    return JsonResponse(body, status=200 if database_ok else 503)
