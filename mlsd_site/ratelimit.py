"""Rate limits: how often one client may call an endpoint that costs the server work or can be
abused (autosave, the preview, clarifying questions, model uploads, sign-up, log-in and the
verification mail).

Each limit counts POSTs twice, per user and IP address and per IP address alone, in
``settings.RATE_LIMITS`` (``"180/m"``: 180 in each minute). Counters live in Django's
default cache: Redis in production (shared by every web process, ``incr`` is atomic there),
the process's memory otherwise (shared by its threads, ``incr`` under a lock). The windows
are fixed, so a client may send up to twice a limit across the turn of a window; that is
plenty to stop a script.

A limited request gets 429 with ``Retry-After``: plain text for htmx (the autosave engine
says "Not saved (too many requests)" and retries after it), a page otherwise. When the cache
does not answer, requests are let through and the failure is logged: an interview must not
stop saving because Redis is down.
"""

import hashlib
import ipaddress
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core import checks
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

log = logging.getLogger(__name__)

_RATE = re.compile(r"^(\d+)/(\d*)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int


def rate_parse(text: str) -> Rate | None:
    """``"120/m"`` is 120 a minute, ``"5/10s"`` 5 in ten seconds; ``"off"`` (or empty) is no
    limit. Raises ``ValueError`` for anything else, so a typo in the environment is loud."""
    text = (text or "").replace(" ", "").lower()
    if text in ("", "off"):
        return None
    match = _RATE.match(text)
    if not match:
        raise ValueError(f"A rate is '<count>/<period>', e.g. '120/m' or '5/10s'; not {text!r}.")
    count, multiple, unit = match.groups()
    seconds = int(multiple or 1) * _UNIT_SECONDS[unit]
    if seconds < 1:
        raise ValueError(f"A rate's period is at least one second: {text!r}.")
    return Rate(count=int(count), seconds=seconds)


@checks.register(checks.Tags.security)
def rate_limits_check(**_: object) -> list[checks.CheckMessage]:
    """Every rate in ``settings.RATE_LIMITS`` parses: a typo in the environment stops the
    start (``manage.py check``) rather than fail every limited request."""
    errors: list[checks.CheckMessage] = []
    for name, rates in settings.RATE_LIMITS.items():
        for scope, text in rates.items():
            try:
                rate_parse(text)
            except ValueError as error:
                errors.append(checks.Error(f"RATE_LIMITS[{name!r}][{scope!r}]: {error}",
                                           id="mlsd_site.E001"))
    return errors


def client_ip(request: HttpRequest) -> str | None:
    """The client's IP address. Behind the one reverse proxy (``settings.BEHIND_PROXY``), the
    last address of ``X-Forwarded-For``, which that proxy appended (anything before it the
    client may have written itself); otherwise, or when that is not an address,
    ``REMOTE_ADDR``; None when there is none (a request built in code). django-axes keys its
    lock-outs on this too."""
    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        candidate = forwarded.rsplit(",", 1)[-1].strip()
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR") or None


def signed_in_user(request: HttpRequest) -> str | None:
    """Who a limit counts for a logged-in view: the user's id."""
    return f"user:{request.user.pk}" if request.user.is_authenticated else None


def posted(field: str) -> Callable[[HttpRequest], str | None]:
    """Who a limit counts for before log-in: the ``field`` the form posts (the username, the
    e-mail address), case-folded."""

    def who(request: HttpRequest) -> str | None:
        value = request.POST.get(field, "").strip().casefold()[:254]
        return f"{field}:{value}" if value else None

    return who


def _count(key: str, rate: Rate) -> int:
    cache.add(key, 0, timeout=rate.seconds + 1)
    try:
        return cache.incr(key)
    except ValueError:  # the key expired between add and incr
        cache.add(key, 1, timeout=rate.seconds + 1)
        return 1


def limit_hit(request: HttpRequest, name: str, *, who: str | None) -> int | None:
    """Count this request against the limit ``name`` (its per-IP rate, and its per-user rate
    when ``who`` names someone). Returns the seconds to wait when it is over either, else
    None. A cache that fails lets the request through (logged)."""
    rates = settings.RATE_LIMITS.get(name, {})
    ip = client_ip(request) or "unknown"
    scopes = [("ip", ip)] + ([("user", f"{who}|{ip}")] if who else [])
    now = time.time()
    wait = None
    for scope, identity in scopes:
        rate = rate_parse(rates.get(scope, "off"))
        if rate is None:
            continue
        window = int(now // rate.seconds)
        digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
        key = f"ratelimit:{name}:{scope}:{rate.count}/{rate.seconds}:{digest}:{window}"
        try:
            count = _count(key, rate)
        except Exception:  # noqa: BLE001 - any cache failure: let the request through
            log.exception("Rate limit %s not checked: the cache failed.", name)
            return None
        if count > rate.count:
            if count == rate.count + 1:  # once per window, not once per refused request
                log.warning("Rate limit %s (%s) reached by %s.", name, scope, ip)
            left = math.ceil((window + 1) * rate.seconds - now)
            wait = max(wait or 1, left)
    return wait


def too_many_requests(request: HttpRequest, wait: int) -> HttpResponse:
    """429 with ``Retry-After``: plain text for htmx, the page otherwise."""
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(f"Too many requests: wait {wait} s and try again.",
                                status=429, content_type="text/plain; charset=utf-8")
    else:
        response = render(request, "429.html", {"retry_after": wait}, status=429)
    response["Retry-After"] = str(wait)
    return response


def rate_limited(name: str, *, who: Callable[[HttpRequest], str | None] = signed_in_user
                 ) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Limit the view's POSTs by ``settings.RATE_LIMITS[name]``, counted per IP address and
    per ``who(request)`` and IP address (by default the logged-in user). GETs are not
    counted. Put it inside the log-in check, so a logged-out request costs no count."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            if request.method == "POST":
                wait = limit_hit(request, name, who=who(request))
                if wait is not None:
                    return too_many_requests(request, wait)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
