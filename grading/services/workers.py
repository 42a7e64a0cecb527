"""Writes for worker liveness: the heartbeat each worker records."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models.functions import Now

from grading.models import (
    WorkerHeartbeat,
)


def worker_heartbeat_record(*, hostname: str, queues: Iterable[str] = (),
                            starting: bool = False) -> WorkerHeartbeat:
    """Record that ``hostname`` is alive and consumes ``queues``, using the database clock.
    ``starting`` also resets its start time."""
    fields = {"seen_at": Now(), "queues": sorted(queues)}
    if starting:
        fields["started_at"] = Now()
    # Write first, read after: on SQLite (`make run`) a transaction that reads and then
    # writes fails at once when another worker wrote meanwhile, where a lone write waits.
    rows = WorkerHeartbeat.objects.filter(hostname=hostname)
    if not rows.update(**fields):
        try:
            with transaction.atomic():
                WorkerHeartbeat.objects.create(
                    hostname=hostname, **{"started_at": Now(), **fields})
        except IntegrityError:  # the same worker's row, created meanwhile
            rows.update(**fields)
    return rows.get()
