"""The push channel of a live room: one WebSocket per open page, at ``/ws/live/<room_id>/``.

The protocol (the browser side is ``static/js/lib/live_feed.js``):

- The page sends ``{"type": "hello", "after": n}`` on every (re)connect, ``n`` being the last
  seq it has. The answer is every event after ``n`` it may read, in pages of
  ``{"type": "events", "after": a, "events": [...]}`` (at least one, maybe empty), where
  ``after`` is the seq the page continues from, so the page can tell a gap from the holes
  other people's private notes leave in the numbers.
- When the log grows (``push.room_wake`` sends the group ``{"type": "log.grew", "seq": s,
  "audience": a, "event": payload or None}``) a connection that has accounted for every
  event up to ``s - 1`` sends the event from the wake-up (or, for the candidate and a
  private note, nothing) without reading the database; any other connection (a wake-up
  missed or overtaken, or the interviewer's and a private note) reads the events after the
  last one *it* sent, for its own audience, and sends them the same way: no event twice,
  none out of order, none the side may not read.
- The candidate's page may send ``{"type": "typing", "step", "text", "version"}``; it goes to
  the group of the room's interviewer pages, which pass it on (``{"type": "typing", ...}``).
  It is not logged and touches no database: the saved answers are the record (autosave).

Who may connect is decided once, at connect, from the Django session
(``AuthMiddlewareStack``): the room's candidate or its interviewer. Anyone else is accepted
and closed at once with code 4403, so a browser can tell "refused" from "network down"
(a refused handshake looks like a dropped connection to a page).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from interviews.live.models import LiveEvent
from interviews.live.push import room_group, room_interviewers_group
from interviews.live.selectors import EVENTS_PAGE, event_payload, events_after, room_member_role

logger = logging.getLogger("interviews.live")

CLOSE_REFUSED = 4403
TYPING_MAX_CHARS = 50_000
STEPS = range(1, 7)
# At most one typing relay per this many seconds per connection; a faster burst is not
# dropped but coalesced: the newest text goes out when the interval has passed.
TYPING_INTERVAL_S = 0.05
# Each connection also reads the log this often by itself: a wake-up lost on the way, or one
# that never came (``make run``'s in-memory layer does not reach its Celery worker, whose
# deadline sweep ends rooms), then costs a delay, not an event.
LOG_RECHECK_S = 20.0


@database_sync_to_async
def _member_role(user: Any, room_id: int) -> str | None:
    return room_member_role(user, room_id)


def _events_page_sync(room_id: int, *, after: int, interviewer_view: bool
                      ) -> list[dict[str, Any]]:
    return [event_payload(event) for event in
            events_after(room_id, after=after, interviewer_view=interviewer_view)]


# A read of committed rows: it may run on any thread of the pool, each with its own database
# connection, rather than queueing behind every other connection's reads on the one thread
# ``thread_sensitive`` work shares (100 rooms woke up at once otherwise read one by one).
_events_page = database_sync_to_async(_events_page_sync, thread_sensitive=False)


def _typing_message(content: dict[str, Any]) -> dict[str, Any] | None:
    """The typing message to relay, or None when ``content`` is not a valid one. The frame
    the consoles get is encoded here, once, rather than by every console's connection."""
    step, text, version = content.get("step"), content.get("text"), content.get("version")
    if type(step) is not int or step not in STEPS:
        return None
    if not isinstance(text, str) or len(text) > TYPING_MAX_CHARS:
        return None
    if version is not None and (type(version) is not int or version < 0):
        return None
    frame = json.dumps({"type": "typing", "step": step, "text": text, "version": version})
    return {"type": "live.typing", "frame": frame}


class LiveRoomConsumer(AsyncJsonWebsocketConsumer):
    """One open page of a live room (the candidate's or the interviewer's)."""

    room_id: int
    role: str | None = None
    # The seq of the last event this connection sent (None until the page says hello).
    cursor: int | None = None
    # The highest seq a wake-up announced that a read has already covered.
    read_through: int = 0
    typing_sent_at: float = 0.0
    typing_pending: dict[str, Any] | None = None
    typing_flush: asyncio.Task | None = None
    recheck: asyncio.Task | None = None

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' own dispatch first closes stale database connections, through
        # sync_to_async on its one shared thread, before every message: a thread hop per
        # keystroke in and out, queued behind every other socket's of the process (without
        # it each server's CPU at 100 rooms typing fell from about 31 % to 20 % of a core,
        # bench/live.py). This consumer touches the database only through
        # database_sync_to_async, which does that upkeep in the thread it reads from.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        self.room_id = int(self.scope["url_route"]["kwargs"]["room_id"])
        self.group = room_group(self.room_id)
        self.role = await _member_role(self.scope.get("user"), self.room_id)
        await self.accept()
        if self.role is None:
            await self.close(code=CLOSE_REFUSED)
            return
        await self.channel_layer.group_add(self.group, self.channel_name)
        if self.role == "interviewer":
            await self.channel_layer.group_add(room_interviewers_group(self.room_id),
                                               self.channel_name)

    async def disconnect(self, code: int) -> None:
        for task in (self.typing_flush, self.recheck):
            if task is not None:
                task.cancel()
        if self.role is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
        if self.role == "interviewer":
            await self.channel_layer.group_discard(room_interviewers_group(self.room_id),
                                                   self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # A frame that is not JSON (or is binary) is ignored rather than ending the connection.
        if text_data is None:
            return
        try:
            content = await self.decode_json(text_data)
        except ValueError:
            return
        if isinstance(content, dict):
            await self.receive_json(content)

    async def receive_json(self, content: dict[str, Any], **kwargs: Any) -> None:
        if self.role is None:
            return
        kind = content.get("type")
        if kind == "hello":
            after = content.get("after", 0)
            if type(after) is not int or after < 0:
                after = 0
            self.cursor = after
            await self.send_events(always=True)
            if self.recheck is None:
                self.recheck = asyncio.create_task(self._recheck_periodically())
        elif kind == "typing" and self.role == "candidate":
            message = _typing_message(content)
            if message is not None:
                await self.relay_typing(message)

    # ------------------------------------------------------------------ the log

    async def send_events(self, *, always: bool = False) -> None:
        """Send every event after ``cursor`` this side may read, a page at a time, and move
        the cursor. ``always``: send one (empty) message even when there is nothing new,
        the answer to a hello."""
        interviewer_view = self.role == "interviewer"
        while True:
            after = self.cursor
            events = await _events_page(self.room_id, after=after,
                                        interviewer_view=interviewer_view)
            if events or always:
                await self.send_json({"type": "events", "after": after, "events": events})
                always = False
            if events:
                self.cursor = events[-1]["seq"]
            if len(events) < EVENTS_PAGE:
                return

    async def log_grew(self, message: dict[str, Any]) -> None:
        """The group's wake-up (``push.room_wake``). Handlers run one at a time per
        connection, so the cursor is never read and moved by two at once."""
        if self.cursor is None:
            return  # the hello's catch-up will read it
        seq = message.get("seq")
        if type(seq) is not int or seq <= 0:
            await self.send_events()
            return
        # Every event up to ``accounted`` was sent, or is one this side may not read.
        accounted = max(self.read_through, self.cursor)
        if seq <= accounted:
            return  # a read already covered it
        # Every event up to a wake-up's seq has committed when it arrives (seqs are given
        # out under the room's lock), so one read covers every wake-up queued behind it.
        self.read_through = seq
        if seq == accounted + 1:
            # The next event of the log: nothing can be missing before it.
            audience = message.get("audience")
            event = message.get("event")
            if audience == LiveEvent.Audience.INTERVIEWER and self.role == "candidate":
                return  # not for this side, and nothing to send
            if (audience == LiveEvent.Audience.BOTH and isinstance(event, dict)
                    and event.get("seq") == seq
                    and event.get("audience") == LiveEvent.Audience.BOTH):
                await self.send_json({"type": "events", "after": self.cursor,
                                      "events": [event]})
                self.cursor = seq
                return
        await self.send_events()

    async def _recheck_periodically(self) -> None:
        # Through this connection's own channel, so the read runs as a handler: one at a time
        # with the others, never moving the cursor under one.
        while True:
            await asyncio.sleep(LOG_RECHECK_S)
            try:
                await self.channel_layer.send(self.channel_name, {"type": "log.recheck"})
            except Exception:
                logger.warning("live: recheck of room %s not queued", self.room_id,
                               exc_info=True)

    async def log_recheck(self, message: dict[str, Any]) -> None:
        await self.send_events()

    # ------------------------------------------------------------------ typing

    async def relay_typing(self, message: dict[str, Any]) -> None:
        wait = self.typing_sent_at + TYPING_INTERVAL_S - time.monotonic()
        if wait <= 0 and self.typing_flush is None:
            await self._send_typing(message)
            return
        self.typing_pending = message  # the newest text wins
        if self.typing_flush is None:
            self.typing_flush = asyncio.create_task(self._flush_typing(max(wait, 0)))

    async def _flush_typing(self, wait: float) -> None:
        await asyncio.sleep(wait)
        message, self.typing_pending, self.typing_flush = self.typing_pending, None, None
        if message is not None:
            await self._send_typing(message)

    async def _send_typing(self, message: dict[str, Any]) -> None:
        self.typing_sent_at = time.monotonic()
        try:
            await self.channel_layer.group_send(room_interviewers_group(self.room_id), message)
        except Exception:  # a down Redis loses a keystroke, not the connection
            logger.warning("live: could not relay typing in room %s", self.room_id,
                           exc_info=True)

    async def live_typing(self, message: dict[str, Any]) -> None:
        """The candidate's text as it is typed: for the interviewer's console only."""
        if self.role == "interviewer":
            await self.send(text_data=message["frame"])
