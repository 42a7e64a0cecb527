"""Telling the open pages of a room that its log grew.

What is pushed is a wake-up carrying the newest sequence number, its audience and, for an
event both sides may read, the event itself (never an interviewer-only one: a private note's
text stays in the database until an interviewer's connection reads it). A connection that has
everything up to the seq before takes the event from the wake-up without reading the
database; any other connection (one that missed a wake-up, or got two out of order, or an
interviewer's for a private note) reads the events after the last one it sent, for its own
audience, from the log (``selectors.events_after``). So a page never gets an event it may
not see, never gets one twice, and a push lost on the way costs nothing: the next one, or
the page's catch-up after a reconnect, reads the same log.

The channel layer is Redis whenever ``CHANNEL_LAYER_URL`` is set, so a write in one web
process (or a Celery worker: the deadline sweep ends rooms) reaches pages connected to any
other; without it, the layer is this process's memory (``make run``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger("interviews.live")

# LiveEvent.Audience.BOTH, spelt out: this module sits below the models in the import
# contracts (pyproject.toml) and imports none of them.
AUDIENCE_BOTH = "both"


def room_group(room_id: int) -> str:
    """The channel-layer group every open page of a room joins."""
    return f"live-room-{room_id}"


def room_interviewers_group(room_id: int) -> str:
    """The group of the room's interviewer pages only: the candidate's text as it is typed
    goes there, so candidate pages are not sent their own keystrokes back."""
    return f"live-room-{room_id}-interviewers"


def wake_message(seq: int, *, audience: str, event: dict[str, Any] | None) -> dict[str, Any]:
    """The group message saying the log reaches ``seq``; ``event`` (its payload) only when
    both sides may read it."""
    return {"type": "log.grew", "seq": seq, "audience": str(audience),
            "event": event if audience == AUDIENCE_BOTH else None}


def room_wake(room_id: int, seq: int, *, audience: str = AUDIENCE_BOTH,
              event: dict[str, Any] | None = None) -> None:
    """Tell the room's pages that the log now reaches ``seq`` (the event of ``audience``,
    whose payload ``event`` rides along when both sides may read it). Call after the
    transaction that wrote the event commits (``transaction.on_commit``). Never raises: the
    pages poll the log when the push does not come."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = wake_message(seq, audience=audience, event=event)
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # the usual caller: a sync view or a Celery task
        _send(layer, room_group(room_id), message)
        return
    # This thread runs an event loop (a process driving Playwright's sync API, say), which
    # async_to_sync refuses to block: send from a short-lived thread of our own instead.
    sender = threading.Thread(target=_send, args=(layer, room_group(room_id), message),
                              name="live-room-wake")
    sender.start()
    sender.join(timeout=10)


def _send(layer, group: str, message: dict) -> None:
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # a down Redis must not fail the write that already committed
        logger.warning("live: could not push %s to %s", message, group, exc_info=True)
