"""Accounts: a sign-up works once its e-mail address is verified, and one verified address
makes one account, so extra accounts (each with its own upload quota) cost an inbox each.

A new account is inactive and *pending*: it has never been active and never logged in. The
link mailed to it is a signed, timestamped token (``django.core.signing``) naming the account
and its address; opening it and confirming activates the account and logs it in, once. An
address counts as taken by an account that is active or ever logged in; pending accounts do
not hold it, so the first to verify an address takes it. An account an admin deactivated
after it logged in is never activated by a link again.
"""

import logging
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse

log = logging.getLogger(__name__)

_SALT = "mlsd_site.accounts.email-verification"
# A forgotten address gets a new link for at most this many pending accounts at once.
_RESEND_MAX_ACCOUNTS = 3


class VerificationFailed(Exception):
    """A verification link that activates nothing. ``reason``: ``"expired"``,
    ``"invalid"`` (tampered, cut short, or for an address the account no longer has),
    ``"used"`` (the account is already active) or ``"taken"`` (another account verified the
    address first)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _claimed() -> Q:
    return Q(is_active=True) | Q(last_login__isnull=False)


def email_is_taken(email: str) -> bool:
    """Whether an active account, or one that ever logged in, has ``email`` (in any case)."""
    return get_user_model().objects.filter(_claimed(), email__iexact=email).exists()


def account_awaits_verification(*, username: str, password: str) -> bool:
    """Whether ``username`` is a pending account and ``password`` is its password: the log-in
    page then says to open the link instead of "wrong password"."""
    user = (get_user_model().objects
            .filter(username=username, is_active=False, last_login__isnull=True).first())
    return user is not None and user.check_password(password)


def account_signup(*, username: str, email: str, password: str) -> AbstractUser:
    """Create a pending (inactive) candidate account. The caller validated the form
    (username free, password strong, ``email_is_taken`` false) and sends the link."""
    return get_user_model().objects.create_user(
        username=username, email=email, password=password, is_active=False)


def verification_token(user: AbstractUser) -> str:
    """The token of ``user``'s verification link: signed, timestamped, for its address."""
    return signing.dumps({"user": user.pk, "email": user.email.casefold()}, salt=_SALT)


def verification_send(*, user: AbstractUser, absolute_url: Callable[[str], str]) -> bool:
    """Mail ``user`` the link that verifies its address (``absolute_url`` makes the path a
    full URL, e.g. ``request.build_absolute_uri``). False when the mail could not be sent
    (logged): the account stays pending and a new link can be asked for."""
    context = {
        "user": user,
        "link": absolute_url(reverse("verify_email", args=[verification_token(user)])),
        "hours": settings.EMAIL_VERIFICATION_MAX_AGE_HOURS,
    }
    subject = render_to_string("registration/verify_email_subject.txt", context).strip()
    body = render_to_string("registration/verify_email_body.txt", context)
    try:
        send_mail(subject, body, None, [user.email])
    except Exception:  # noqa: BLE001 - SMTP refusals, timeouts, DNS: all "not sent"
        log.exception("The verification mail to account %s was not sent.", user.pk)
        return False
    return True


def verification_resend(*, email: str, absolute_url: Callable[[str], str]) -> int:
    """Send a new link to each pending account with ``email`` (the newest few), unless the
    address is taken. Returns how many were sent; the page says the same either way, so it
    does not tell who has an account."""
    if email_is_taken(email):
        return 0
    pending = (get_user_model().objects
               .filter(email__iexact=email, is_active=False, last_login__isnull=True)
               .order_by("-date_joined")[:_RESEND_MAX_ACCOUNTS])
    return sum(verification_send(user=user, absolute_url=absolute_url) for user in pending)


def verification_check(*, token: str) -> AbstractUser:
    """The pending account ``token`` would activate. Raises ``VerificationFailed``."""
    try:
        payload = signing.loads(token, salt=_SALT,
                                max_age=settings.EMAIL_VERIFICATION_MAX_AGE_HOURS * 3600)
    except signing.SignatureExpired:
        raise VerificationFailed("expired") from None
    except signing.BadSignature:
        raise VerificationFailed("invalid") from None
    user = get_user_model().objects.filter(pk=payload.get("user")).first()
    return _pending_or_fail(user, payload.get("email", ""))


def _pending_or_fail(user: AbstractUser | None, email: str) -> AbstractUser:
    if user is None or user.email.casefold() != email:
        raise VerificationFailed("invalid")
    if user.is_active:
        raise VerificationFailed("used")
    if user.last_login is not None:  # deactivated by an admin, not pending
        raise VerificationFailed("invalid")
    return user


def account_verify(*, token: str) -> AbstractUser:
    """Activate the pending account of ``token`` and return it (the caller logs it in).
    Every account with the same address is locked first, so two accounts verifying one
    address at once cannot both win. Raises ``VerificationFailed``."""
    user = verification_check(token=token)
    with transaction.atomic():
        same_address = list(get_user_model().objects.select_for_update()
                            .filter(email__iexact=user.email).order_by("pk"))
        user = _pending_or_fail(next((u for u in same_address if u.pk == user.pk), None),
                                user.email.casefold())
        if any(other.is_active or other.last_login is not None
               for other in same_address if other.pk != user.pk):
            raise VerificationFailed("taken")
        user.is_active = True
        user.save(update_fields=["is_active"])
    return user
