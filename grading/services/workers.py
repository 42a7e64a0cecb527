"""Writes for worker liveness: the heartbeat each worker records."""

from __future__ import annotations

from django.db.models.functions import Now

from grading.models import (
    WorkerHeartbeat,
)


def worker_heartbeat_record(*, hostname: str, starting: bool = False) -> WorkerHeartbeat:
    """Record that ``hostname`` is alive, using the database clock."""
    defaults = {"seen_at": Now()}
    if starting:
        defaults["started_at"] = Now()
    heartbeat, _ = WorkerHeartbeat.objects.update_or_create(
        hostname=hostname, defaults=defaults, create_defaults={**defaults, "started_at": Now()}
    )
    heartbeat.refresh_from_db(fields=["seen_at", "started_at"])
    return heartbeat
