"""Sign-up with a verified e-mail address: one inbox, one account (each account has its own
upload quota). The mail goes to Django's locmem outbox in tests (pytest-django)."""

import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.urls import reverse

from interviews.services.catalogue import demo_accounts_ensure
from mlsd_site import accounts
from mlsd_site.accounts import account_signup, verification_token

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-unusual-pass-42"


def sign_up(client, username="ada", email="ada@example.com"):
    return client.post(reverse("signup"), {"username": username, "email": email,
                                           "password1": PASSWORD, "password2": PASSWORD})


def link_in(message) -> str:
    return re.search(r"https?://\S+/accounts/verify/\S+/", message.body).group(0)


def log_in(client, username="ada", password=PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_sign_up_makes_an_inactive_account_and_mails_its_link(client, mailoutbox):
    response = sign_up(client)
    assert response.status_code == 302 and response.url == reverse("verify_resend")
    user = get_user_model().objects.get(username="ada")
    assert not user.is_active and user.email == "ada@example.com"
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["ada@example.com"]
    assert "/accounts/verify/" in mailoutbox[0].body and "48 hours" in mailoutbox[0].body
    page = client.get(response.url).content.decode()
    assert "We sent a link to ada@example.com" in page and "Send a new link" in page


def test_an_unverified_account_cannot_log_in_and_is_told_how_to_get_a_link(client, mailoutbox):
    sign_up(client)
    refused = log_in(client)
    html = refused.content.decode()
    assert refused.status_code == 200 and "_auth_user_id" not in client.session
    assert "Confirm your e-mail address first" in html
    assert reverse("verify_resend") in html
    # With a wrong password nothing is told about the account.
    wrong = log_in(client, password="not-the-password").content.decode()
    assert "didn't match" in wrong and "Confirm your e-mail" not in wrong


def test_the_link_shows_a_button_and_confirming_activates_and_logs_in_once(client, mailoutbox):
    sign_up(client)
    link = link_in(mailoutbox[0])
    page = client.get(link)
    assert page.status_code == 200 and "Confirm and log in" in page.content.decode()
    assert not get_user_model().objects.get(username="ada").is_active  # GET changes nothing

    confirmed = client.post(link)
    assert confirmed.status_code == 302 and confirmed.url == reverse("home")
    assert get_user_model().objects.get(username="ada").is_active
    assert "ada" in client.get("/").content.decode()

    client.post(reverse("logout"))
    used = client.post(link)
    assert used.status_code == 400 and "used already" in used.content.decode()
    assert "_auth_user_id" not in client.session
    assert log_in(client).status_code == 302  # the password works now


def test_an_expired_link_says_so_and_offers_a_new_one(client, mailoutbox, settings):
    user = account_signup(username="ada", email="ada@example.com", password=PASSWORD)

    class TwoDaysAgo(signing.TimestampSigner):
        def timestamp(self) -> str:
            return signing.b62_encode(int(time.time()) - 49 * 3600)

    token = TwoDaysAgo(salt=accounts._SALT).sign_object(
        {"user": user.pk, "email": user.email.casefold()})
    url = reverse("verify_email", args=[token])
    html = client.get(url).content.decode()
    assert "This link has expired" in html and "Send a new link" in html
    assert client.post(url).status_code == 400
    user.refresh_from_db()
    assert not user.is_active
    settings.EMAIL_VERIFICATION_MAX_AGE_HOURS = 50  # the same link within a longer age works
    assert client.post(url).status_code == 302


@pytest.mark.parametrize("damage", ["cut", "tampered", "other salt"])
def test_a_damaged_link_is_invalid_and_activates_nothing(client, damage):
    user = account_signup(username="ada", email="ada@example.com", password=PASSWORD)
    token = verification_token(user)
    token = {"cut": token[:-3],
             "tampered": token.replace(token[2], "A" if token[2] != "A" else "B", 1),
             "other salt": signing.dumps({"user": user.pk, "email": user.email})}[damage]
    response = client.post(reverse("verify_email", args=[token]))
    assert response.status_code == 400 and "This link is not valid" in response.content.decode()
    user.refresh_from_db()
    assert not user.is_active


def test_a_link_for_an_address_the_account_no_longer_has_is_invalid(client):
    user = account_signup(username="ada", email="ada@example.com", password=PASSWORD)
    token = verification_token(user)
    get_user_model().objects.filter(pk=user.pk).update(email="other@example.com")
    assert "This link is not valid" in client.get(
        reverse("verify_email", args=[token])).content.decode()


def test_a_link_never_reactivates_an_account_an_admin_disabled(client):
    user = account_signup(username="ada", email="ada@example.com", password=PASSWORD)
    token = verification_token(user)
    client.post(reverse("verify_email", args=[token]))
    client.post(reverse("logout"))
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)  # logged in once
    response = client.post(reverse("verify_email", args=[token]))
    assert response.status_code == 400
    user.refresh_from_db()
    assert not user.is_active


def test_an_address_of_an_account_in_use_cannot_sign_up_again_in_any_case(client, mailoutbox):
    get_user_model().objects.create_user("bob", "Bob@Example.com", PASSWORD)
    response = sign_up(client, username="bobby", email="bob@EXAMPLE.COM")
    assert response.status_code == 200
    assert "exists already" in response.content.decode()
    assert not get_user_model().objects.filter(username="bobby").exists() and not mailoutbox


def test_of_two_pending_accounts_with_one_address_the_first_verified_takes_it(client,
                                                                               mailoutbox):
    # A pending account does not hold its address: someone without the inbox cannot block
    # its owner; but only one of them can ever be verified.
    sign_up(client, username="squatter", email="ada@example.com")
    sign_up(client, username="ada", email="ADA@example.com")
    squatter_link, ada_link = link_in(mailoutbox[0]), link_in(mailoutbox[1])
    assert client.post(ada_link).status_code == 302
    client.post(reverse("logout"))
    taken = client.post(squatter_link)
    assert taken.status_code == 400 and "confirmed this e-mail address first" in (
        taken.content.decode())
    assert list(get_user_model().objects.filter(is_active=True)
                .values_list("username", flat=True)) == ["ada"]
    # And the address is taken for new sign-ups now.
    assert "exists already" in sign_up(client, username="third").content.decode()


def test_a_new_link_goes_to_a_pending_account_and_the_page_says_the_same_for_any(client,
                                                                                   mailoutbox):
    sign_up(client)
    mailoutbox.clear()
    url = reverse("verify_resend")
    asked = client.post(url, {"email": "ADA@example.com"}, follow=True).content.decode()
    unknown = client.post(url, {"email": "nobody@example.com"}, follow=True).content.decode()
    assert [m.to for m in mailoutbox] == [["ada@example.com"]]
    assert "a new one is on its way" in asked and "a new one is on its way" in unknown
    assert client.post(link_in(mailoutbox[0])).status_code == 302
    client.post(reverse("logout"))
    client.post(url, {"email": "ada@example.com"})
    assert len(mailoutbox) == 1  # verified: no more links


def test_a_mail_that_cannot_be_sent_leaves_the_account_pending_and_says_so(client, settings):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": 1, "timeout": 2}}}
    page = sign_up(client)
    assert page.status_code == 302
    assert "could not be sent" in client.get(page.url).content.decode()
    assert not get_user_model().objects.get(username="ada").is_active


def test_logged_in_users_are_sent_home_from_the_verification_pages(client):
    user = account_signup(username="ada", email="ada@example.com", password=PASSWORD)
    client.force_login(get_user_model().objects.create_user("bob", "bob@example.com", "x"))
    for url in (reverse("verify_resend"), reverse("verify_email",
                                                  args=[verification_token(user)])):
        assert client.get(url).url == reverse("home")
        assert client.post(url).url == reverse("home")
    user.refresh_from_db()
    assert not user.is_active


def test_demo_accounts_are_active_and_log_in(client, catalogue):
    for account in demo_accounts_ensure():
        assert get_user_model().objects.get(username=account.username).is_active
        response = log_in(client, account.username, account.password)
        assert response.status_code == 302, account.username
        client.post(reverse("logout"))
