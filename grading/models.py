"""Datasets, model submissions, scores and leaderboards (see docs/architecture.md)."""

from django.db import models


class WorkerHeartbeat(models.Model):
    """The last time each Celery worker said it was alive (on start and from beat), so the
    health page and the admins can tell a stuck queue from a dead worker."""

    hostname = models.CharField(max_length=255, unique=True)
    seen_at = models.DateTimeField()
    started_at = models.DateTimeField()

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self) -> str:
        return f"{self.hostname} at {self.seen_at:%H:%M:%S}"
