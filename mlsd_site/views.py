from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from grading.selectors.workers import workers_health
from mlsd_site.accounts import (
    VerificationFailed,
    account_signup,
    account_verify,
    verification_check,
    verification_resend,
    verification_send,
)
from mlsd_site.forms import ApiTokenForm, ResendForm, SignupForm
from mlsd_site.ratelimit import posted, rate_limited
from mlsd_site.tokens import TokenNameTaken, token_create, token_revoke, tokens_for_user


@require_http_methods(["GET", "POST"])
@rate_limited("signup", who=posted("email"))
def signup(request: HttpRequest) -> HttpResponse:
    """Create a pending account and mail its verification link; then the "check your
    e-mail" page. The account logs in once the link is opened."""
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = account_signup(username=form.cleaned_data["username"],
                              email=form.cleaned_data["email"],
                              password=form.cleaned_data["password1"])
        if verification_send(user=user, absolute_url=request.build_absolute_uri):
            messages.success(request, f"We sent a link to {user.email}: open it to start.")
        else:
            messages.error(request, "Your account is made, but the e-mail with its link "
                                    "could not be sent just now. Ask for a new one below.")
        return redirect("verify_resend")
    return render(request, "registration/signup.html", {"form": form})


@require_http_methods(["GET", "POST"])
@rate_limited("verify", who=posted("email"))
def verify_resend(request: HttpRequest) -> HttpResponse:
    """The "check your e-mail" page, with a form that sends a new link. It answers the same
    whether or not the address has an account waiting."""
    if request.user.is_authenticated:
        return redirect("home")
    form = ResendForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        verification_resend(email=email, absolute_url=request.build_absolute_uri)
        messages.info(request, f"If an account with {email} waits for its link, a new one "
                               "is on its way.")
        return redirect("verify_resend")
    return render(request, "registration/verify_resend.html",
                  {"form": form, "hours": settings.EMAIL_VERIFICATION_MAX_AGE_HOURS})


@require_http_methods(["GET", "POST"])
def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    """The link of the verification mail. GET shows the account and a button (so a mail
    scanner that follows links activates nothing); POST activates it and logs it in. An
    expired, used or damaged link says which, with the way to a new one."""
    if request.user.is_authenticated:
        return redirect("home")
    try:
        if request.method == "GET":
            user = verification_check(token=token)
            return render(request, "registration/verify_email.html", {"account": user})
        user = account_verify(token=token)
    except VerificationFailed as failed:
        return render(request, "registration/verify_email.html",
                      {"failure": failed.reason, "form": ResendForm()},
                      status=200 if request.method == "GET" else 400)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    messages.success(request, "Your e-mail address is confirmed. Welcome!")
    return redirect("home")


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


@login_required
@require_http_methods(["GET", "POST"])
@never_cache
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The account's personal access tokens: make one (its secret is shown once, in this
    response only), see when each was last used, revoke."""
    form = ApiTokenForm(request.POST or None)
    created = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            scopes = ["read", "submit"] if data["scope"] == "submit" else ["read"]
            try:
                created = token_create(user=request.user, name=data["name"], scopes=scopes,
                                       days=data["days"])
            except TokenNameTaken:
                form.add_error("name", "You have a token of that name already: pick another, "
                                       "or revoke that one first.")
            else:
                form = ApiTokenForm()
        if not created:
            status = 422
    return render(request, "registration/api_tokens.html",
                  {"form": form, "created": created, "now": timezone.now(),
                   "tokens": tokens_for_user(user=request.user)}, status=status)


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = token_revoke(user=request.user, token_id=token_id)
    messages.success(request, f"The token “{token.name}” is revoked: it no longer works.")
    return redirect("api_tokens")
