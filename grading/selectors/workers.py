"""Reads for worker liveness: which workers have been seen lately."""

from datetime import timedelta

from django.db.models.functions import Now
from django.utils import timezone

from grading.models import (
    WorkerHeartbeat,
)

WORKER_ALIVE_WINDOW = timedelta(minutes=3)


def workers_alive() -> list[WorkerHeartbeat]:
    """Workers seen within the last few minutes (beat refreshes them every minute)."""
    return list(WorkerHeartbeat.objects.filter(seen_at__gte=Now() - WORKER_ALIVE_WINDOW))


def worker_last_seen_seconds() -> float | None:
    latest = WorkerHeartbeat.objects.order_by("-seen_at").first()
    if latest is None:
        return None
    return (timezone.now() - latest.seen_at).total_seconds()
