"""Rate limits on the endpoints a script could abuse (mlsd_site/ratelimit.py), and the client
address they and django-axes key on, with and without the reverse proxy."""

import time
import uuid

import pytest
from django.core.checks import run_checks
from django.test import Client, RequestFactory
from django.urls import reverse

from interviews.tests.factories import candidate, start_session
from mlsd_site.ratelimit import Rate, client_ip, limit_hit, rate_parse

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def limits(settings, name: str, *, user: str = "off", ip: str = "off") -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, name: {"user": user, "ip": ip}}


def clear_of_a_window_turn(seconds: int, margin: float) -> None:
    """Wait, if need be, so that the next ``margin`` seconds stay in one window: windows are
    fixed, and a count split over two of them would not reach the limit."""
    left = seconds - time.time() % seconds
    if left < margin:
        time.sleep(left + 0.05)


def save(client, session, text: str, *, version: int = 0, step: int = 1, **extra):
    return client.post(reverse("interviews:answer_save", args=[session.pk, step]),
                       {"text": text, "base_version": version, "active_step": step},
                       **HTMX, **extra)


# --- rates and addresses ----------------------------------------------------------------------


def test_rates_parse_and_a_typo_is_loud():
    assert rate_parse("180/m") == Rate(180, 60)
    assert rate_parse("5/10s") == Rate(5, 10)
    assert rate_parse(" 20 / h ") == Rate(20, 3600)
    assert rate_parse("1/2d") == Rate(1, 172_800)
    assert rate_parse("off") is None and rate_parse("") is None
    for typo in ("180", "180/min", "m/180", "-1/m", "5/0s"):
        with pytest.raises(ValueError):
            rate_parse(typo)


def test_every_configured_rate_parses_and_a_typo_stops_the_start(settings):
    for name, rates in settings.RATE_LIMITS.items():
        assert set(rates) == {"user", "ip"}, name
        assert all(rate_parse(rate) for rate in rates.values()), name

    def rate_errors() -> list:
        return [error for error in run_checks(tags=["security"]) if error.id == "mlsd_site.E001"]

    assert rate_errors() == []
    limits(settings, "preview", user="60/minute")
    errors = rate_errors()
    assert len(errors) == 1 and "RATE_LIMITS['preview']['user']" in errors[0].msg


@pytest.mark.parametrize(("behind_proxy", "forwarded", "expected"), [
    (False, "203.0.113.9", "10.0.0.2"),  # no proxy: the header is the client's own words
    (True, "203.0.113.9", "203.0.113.9"),
    (True, "198.51.100.66, 203.0.113.9", "203.0.113.9"),  # a forged entry comes first
    (True, "", "10.0.0.2"),
    (True, "not-an-address", "10.0.0.2"),
    (True, "2001:db8::1", "2001:db8::1"),
])
def test_the_client_is_the_address_the_proxy_appended_only_behind_it(settings, behind_proxy,
                                                                     forwarded, expected):
    settings.BEHIND_PROXY = behind_proxy
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2",
                                   HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


# --- autosave -----------------------------------------------------------------------------------


def test_a_fast_typists_minute_never_meets_the_default_autosave_limit(client):
    """About a save a second on the step being typed, and a burst over all six steps on
    each blur or tab switch: well inside a minute's allowance."""
    session = start_session()
    client.force_login(session.candidate)
    versions = dict.fromkeys(range(1, 7), 0)
    statuses = []
    for second in range(60):
        response = save(client, session, f"typed {second}", version=versions[1])
        statuses.append(response.status_code)
        versions[1] = int(response["X-Answer-Version"])
        if second % 12 == 11:  # a tab switch: every step flushes
            for step in range(2, 7):
                response = save(client, session, f"step {step} at {second}",
                                version=versions[step], step=step)
                statuses.append(response.status_code)
                versions[step] = int(response["X-Answer-Version"])
    assert set(statuses) == {200} and len(statuses) == 85


def test_a_script_meets_the_autosave_limit_with_a_429_that_says_when_to_retry(client,
                                                                              settings):
    session = start_session()
    client.force_login(session.candidate)
    per_user = rate_parse(settings.RATE_LIMITS["autosave"]["user"])
    clear_of_a_window_turn(per_user.seconds, margin=15)
    statuses = [save(client, session, "same text").status_code for _ in range(per_user.count)]
    assert set(statuses) == {200}
    refused = save(client, session, "same text")
    assert refused.status_code == 429
    assert refused["Content-Type"].startswith("text/plain")
    assert "Too many requests" in refused.content.decode()
    assert 1 <= int(refused["Retry-After"]) <= per_user.seconds


def test_the_per_user_limit_leaves_others_on_the_same_address_alone(settings):
    limits(settings, "autosave", user="2/h", ip="100/h")
    first, second = start_session(), start_session()
    ada, bob = Client(), Client()
    ada.force_login(first.candidate)
    bob.force_login(second.candidate)
    assert [save(ada, first, "a").status_code for _ in range(3)] == [200, 200, 429]
    assert save(bob, second, "b").status_code == 200


def test_the_per_address_limit_counts_everyone_behind_it(settings):
    limits(settings, "autosave", user="100/h", ip="3/h")
    sessions = [start_session() for _ in range(4)]
    statuses = []
    for session in sessions:
        browser = Client()
        browser.force_login(session.candidate)
        statuses.append(save(browser, session, "x").status_code)
    assert statuses == [200, 200, 200, 429]
    # Behind the proxy each client is its own address.
    settings.BEHIND_PROXY = True
    browser = Client()
    browser.force_login(sessions[3].candidate)
    assert save(browser, sessions[3], "x", HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 200


def test_a_limit_opens_again_in_the_next_window(client, settings):
    limits(settings, "autosave", user="1/1s")
    session = start_session()
    client.force_login(session.candidate)
    time.sleep(1 - time.time() % 1)  # the start of a window
    assert save(client, session, "one").status_code == 200
    assert save(client, session, "two", version=1).status_code == 429
    time.sleep(1 - time.time() % 1 + 0.05)
    assert save(client, session, "two", version=1).status_code == 200


def test_a_limited_save_stores_nothing(client, settings):
    limits(settings, "autosave", user="1/h")
    session = start_session()
    client.force_login(session.candidate)
    save(client, session, "kept")
    assert save(client, session, "refused", version=1).status_code == 429
    assert session.answers.get(step_number=1).text == "kept"


# --- the other limited endpoints ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["preview", "question"])
def test_preview_and_questions_are_limited(client, settings, name):
    limits(settings, name, user="2/h")
    session = start_session()
    client.force_login(session.candidate)
    url, data = {
        "preview": (reverse("interviews:answer_preview", args=[session.pk]), {"text": "x"}),
        "question": (reverse("interviews:question_ask", args=[session.pk]),
                     {"text": "Is latency a hard limit?"}),
    }[name]
    statuses = [client.post(url, data, **HTMX).status_code for _ in range(3)]
    assert statuses[:2] == [200, 200] and statuses[2] == 429
    assert session.questions_asked.count() == (2 if name == "question" else 0)


def test_uploads_are_limited_with_a_page_for_a_plain_form(client, settings, catalogue):
    limits(settings, "upload", user="1/h")
    client.force_login(candidate())
    url = reverse("grading:submit", args=["food-delivery-time"])
    assert client.post(url, {"note": "no file"}).status_code == 422
    refused = client.post(url, {"note": "no file"})
    assert refused.status_code == 429 and "Too many requests" in refused.content.decode()
    assert "<html" in refused.content.decode() and refused["Retry-After"]
    assert client.get(url).status_code == 200  # reading the page is not counted


def test_sign_up_is_limited_per_address(client, settings, mailoutbox):
    limits(settings, "signup", ip="2/h")
    statuses = [client.post(reverse("signup"), {
        "username": f"user{n}", "email": f"user{n}@example.com",
        "password1": "a-long-unusual-pass-42", "password2": "a-long-unusual-pass-42",
    }).status_code for n in range(3)]
    assert statuses == [302, 302, 429] and len(mailoutbox) == 2


def test_log_in_is_limited_per_name_before_axes_locks_and_per_address(client, settings):
    candidate(username="carol")
    limits(settings, "login", user="2/h", ip="4/h")
    url = reverse("login")
    tries = [client.post(url, {"username": "carol", "password": "wrong"}).status_code
             for _ in range(3)]
    assert tries == [200, 200, 429]
    # Another name from the same address: the per-address count still runs out.
    others = [client.post(url, {"username": f"dave{n}", "password": "x"}).status_code
              for n in range(2)]
    assert others == [200, 429]


def test_a_cache_that_fails_lets_requests_through(client, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}
    limits(settings, "autosave", user="0/h", ip="0/h")
    session = start_session()
    client.force_login(session.candidate)
    assert save(client, session, "still saved").status_code == 200


def test_the_counters_work_in_redis_as_in_production(settings, require_redis):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": require_redis,
                                   "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}}
    limits(settings, "autosave", user="3/h", ip="100/h")
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.1")
    hits = [limit_hit(request, "autosave", who="user:1") for _ in range(4)]
    assert hits[:3] == [None, None, None] and 1 <= hits[3] <= 3600
    assert limit_hit(request, "autosave", who="user:2") is None
