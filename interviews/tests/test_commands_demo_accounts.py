"""``manage.py demo_accounts`` creates accounts with published passwords (a superuser among
them): it runs on a development machine (DEBUG=1) and refuses, creating nothing, otherwise."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_demo_accounts_refuses_with_debug_off_and_creates_nothing(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="refuses to run with DEBUG=0") as refused:
        call_command("demo_accounts", stdout=StringIO())
    assert "development machine" in str(refused.value)
    assert not get_user_model().objects.exists()


def test_demo_accounts_runs_with_debug_on(settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("demo_accounts", stdout=out)
    assert "admin-demo-pass" in out.getvalue()
    assert get_user_model().objects.get(username="admin").is_superuser
