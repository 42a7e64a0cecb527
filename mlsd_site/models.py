"""Personal access tokens: what a script or the ``mlsd`` command line signs in with.

Only a SHA-256 of the secret is stored: the secret is shown once, when the token is made.
A token acts as its user, within its scopes, until it expires or is revoked; it never grants
more than the user has (the API checks the same roles and permission-scoped getters as the
pages).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class ApiToken(models.Model):
    """One personal access token of a user."""

    class Scope(models.TextChoices):
        READ = "read", "Read (case studies, data, own submissions, leaderboards)"
        SUBMIT = "submit", "Submit models"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_tokens")
    name = models.CharField(max_length=80, help_text="What the token is for, e.g. 'laptop'.")
    # The first characters of the secret after its prefix: enough to recognise a token in a
    # list, far too few to guess it.
    hint = models.CharField(max_length=16)
    secret_sha256 = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list, help_text='["read"] or ["read", "submit"].')
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("created_at")),
                                   name="api_token_expires_after_creation"),
            models.UniqueConstraint(fields=["user", "name"], condition=Q(revoked_at__isnull=True),
                                    name="api_token_unique_live_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes
