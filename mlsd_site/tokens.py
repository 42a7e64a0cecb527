"""Personal access tokens: make one (the secret is returned once), list, revoke, and
authenticate a request's bearer secret.

A secret is ``mlsd_`` + 43 URL-safe characters (32 random bytes), so a leaked one is easy to
recognise in logs and by secret scanners; the database keeps its SHA-256 only. A plain
hash, not a password hash: the secret is random and long, so a slow hash would only slow
every API call.
"""

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from mlsd_site.models import ApiToken

log = logging.getLogger(__name__)

PREFIX = "mlsd_"
EXPIRY_DAYS = (7, 30, 90, 365)
# How often last_used_at is written: once a minute is plenty to see a token is in use, and
# spares a write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenRefused(Exception):
    """A bearer secret that signs nothing in. ``code``: ``token_invalid`` (unknown or
    malformed), ``token_revoked``, ``token_expired``, ``account_inactive``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class TokenNameTaken(Exception):
    """The user already has a live token of that name."""


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once; never stored


def token_create(*, user: AbstractBaseUser, name: str, scopes: list[str],
                 days: int) -> NewToken:
    """Make a token for ``user`` valid ``days`` days with ``scopes`` (read is always
    included). Raises ``TokenNameTaken`` when a live token has ``name``."""
    if days not in EXPIRY_DAYS:
        raise ValueError(f"days must be one of {EXPIRY_DAYS}")
    chosen = {ApiToken.Scope.READ.value, *scopes}
    unknown = chosen - set(ApiToken.Scope.values)
    if unknown:
        raise ValueError(f"unknown scopes: {sorted(unknown)}")
    secret = PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    try:
        with transaction.atomic():
            token = ApiToken.objects.create(
                user=user, name=name.strip()[:80], hint=secret[len(PREFIX):][:6],
                secret_sha256=secret_digest(secret),
                scopes=[s for s in ApiToken.Scope.values if s in chosen],
                expires_at=now + timedelta(days=days))
    except IntegrityError as error:
        raise TokenNameTaken(name) from error
    log.info("API token %r made for %s (scopes %s, %d days).", token.name, user, token.scopes,
             days)
    return NewToken(token=token, secret=secret)


def tokens_for_user(*, user: AbstractBaseUser) -> list[ApiToken]:
    """The user's tokens, live ones first, newest first."""
    return sorted(ApiToken.objects.filter(user=user),
                  key=lambda t: (t.revoked_at is not None, -t.created_at.timestamp()))


def token_revoke(*, user: AbstractBaseUser, token_id: int) -> ApiToken:
    """Revoke ``user``'s token ``token_id`` (again is harmless); Http404 for anyone else's."""
    token = ApiToken.objects.filter(pk=token_id, user=user).first()
    if token is None:
        raise Http404("No such token.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        log.info("API token %r of %s revoked.", token.name, user)
    return token


def token_authenticate(*, secret: str) -> ApiToken:
    """The live token whose secret this is, with its user loaded; ``last_used_at`` is
    brought up to date (to the minute). Raises ``TokenRefused`` saying why not."""
    if not secret.startswith(PREFIX) or len(secret) > 128:
        raise TokenRefused("token_invalid", "This is not an mlsd-mock token.")
    digest = secret_digest(secret)
    token = ApiToken.objects.select_related("user").filter(secret_sha256=digest).first()
    # The lookup is by an index on the digest; the comparison below is constant-time anyway.
    if token is None or not hmac.compare_digest(token.secret_sha256, digest):
        raise TokenRefused("token_invalid", "Unknown token: it may have been mistyped.")
    now = timezone.now()
    if token.revoked_at is not None:
        raise TokenRefused("token_revoked", f"The token {token.name!r} was revoked.")
    if token.expires_at <= now:
        raise TokenRefused("token_expired", f"The token {token.name!r} expired on "
                                            f"{token.expires_at:%Y-%m-%d}.")
    if not token.user.is_active:
        raise TokenRefused("account_inactive", "This account is not active.")
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
