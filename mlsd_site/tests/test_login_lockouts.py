"""django-axes locks out a name from the client's address: behind the reverse proxy
(MLSD_BEHIND_PROXY=1) the address the proxy appended to X-Forwarded-For, never the proxy's
own (which would lock out everyone behind it); without the proxy, REMOTE_ADDR, whatever the
header claims."""

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from interviews.tests.factories import candidate

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"
ATTACKER = "203.0.113.5"
NEIGHBOUR = "198.51.100.7"
RIGHT = "correct-horse-battery"  # the factories' password


def attempt(forwarded_for: str, password: str):
    return Client().post(reverse("login"), {"username": "carol", "password": password},
                         REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for)


@pytest.mark.parametrize("behind_proxy", [True, False], ids=["behind the proxy", "direct"])
def test_a_lockout_holds_the_client_address_it_came_from(settings, behind_proxy):
    settings.BEHIND_PROXY = behind_proxy
    candidate(username="carol")
    tries = [attempt(ATTACKER, "wrong").status_code
             for _ in range(settings.AXES_FAILURE_LIMIT)]
    assert tries == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]  # the last locks
    locked = attempt(ATTACKER, RIGHT)
    assert locked.status_code == 429 and "Too many failed log-ins" in locked.content.decode()
    assert AccessAttempt.objects.get().ip_address == (ATTACKER if behind_proxy else PROXY)

    neighbour = attempt(NEIGHBOUR, RIGHT)
    # Behind the proxy, someone else behind it logs in; directly, the header is the
    # client's own words and changes nothing: the address is still locked.
    assert neighbour.status_code == (302 if behind_proxy else 429)


def test_behind_the_proxy_a_forged_first_address_does_not_escape_a_lockout(settings):
    settings.BEHIND_PROXY = True
    candidate(username="carol")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(ATTACKER, "wrong")
    # The proxy appends what it saw to whatever the client sent.
    assert attempt(f"{NEIGHBOUR}, {ATTACKER}", RIGHT).status_code == 429
