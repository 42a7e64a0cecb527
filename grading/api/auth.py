"""Sign an API request in with its bearer token, count it against the token's rate limit and
log it with the token's name.

The token's user becomes ``request.user`` for the rest of the request, so every selector
and service decides exactly as for that user's pages: a token never grants more than its
user has. Session cookies are not accepted here (no ambient authority, hence no CSRF to
check): a logged-in browser without a token gets 401 like anyone else.
"""

import logging

from django.http import HttpRequest
from ninja.security import HttpBearer

from grading.api.errors import ApiError
from mlsd_site.models import ApiToken
from mlsd_site.ratelimit import limit_hit
from mlsd_site.tokens import TokenRefused, token_authenticate

log = logging.getLogger("grading.api")


def token_rate_key(token: ApiToken) -> str:
    """Who the ``api`` limit counts: the token (with the client's address, as every limit)."""
    return f"token:{token.pk}"


class TokenAuth(HttpBearer):
    """``Authorization: Bearer mlsd_...``."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken:
        try:
            api_token = token_authenticate(secret=token.strip())
        except TokenRefused as refused:
            log.info("API %s %s refused: %s", request.method, request.path, refused.code)
            raise ApiError(401, refused.code, refused.message) from refused
        wait = limit_hit(request, "api", who=token_rate_key(api_token))
        log.info("API %s %s by %s with token %r%s", request.method, request.path,
                 api_token.user.get_username(), api_token.name,
                 " refused: rate limited" if wait is not None else "")
        if wait is not None:
            raise ApiError(429, "rate_limited",
                           f"Too many requests with this token: wait {wait} s and try again.",
                           headers={"Retry-After": str(wait)})
        request.user = api_token.user
        return api_token


def require_scope(request: HttpRequest, scope: str) -> None:
    """Raise 403 ``insufficient_scope`` unless the request's token has ``scope``."""
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    if not token.has_scope(scope):
        raise ApiError(403, "insufficient_scope",
                       f"The token {token.name!r} may not {scope}: make a token with the "
                       f"{scope} scope on the API tokens page.")
