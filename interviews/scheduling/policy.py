"""The scheduling rules, as functions of plain facts (no Django, no queries): when a booking
may still be cancelled or moved, what counts as a late cancellation, and when repeated
no-shows keep someone from booking peer mocks. Each refusal is said in words the person
understands; None means allowed."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

# Moving a booking, or cancelling it without it counting as late, is possible until this long
# before the start: the other person can still plan around it.
CANCEL_CUTOFF = timedelta(hours=12)
# Peer mocks need both people: this many no-shows within the window keeps a person from
# booking peer slots for the pause after their last one.
NO_SHOW_LIMIT = 2
NO_SHOW_WINDOW = timedelta(days=30)
NO_SHOW_PAUSE = timedelta(days=14)
# A slot can be booked until it starts, and at most this far ahead.
BOOKING_HORIZON = timedelta(weeks=8)
# The join button opens this long before the start.
JOIN_OPENS_BEFORE = timedelta(minutes=10)


def time_zone_valid(name: str) -> bool:
    """Whether ``name`` is an IANA time zone this machine knows."""
    if not name or name not in available_timezones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def booking_refusal(*, now: datetime, starts_at: datetime, is_withdrawn: bool,
                    host_is_candidate: bool, already_booked: bool,
                    peer_paused_until: datetime | None, is_peer: bool) -> str | None:
    if is_withdrawn:
        return "This slot is no longer offered."
    if starts_at <= now:
        return "This slot has already started."
    if starts_at - now > BOOKING_HORIZON:
        return "Slots can be booked at most eight weeks ahead."
    if host_is_candidate:
        return "This is your own slot."
    if already_booked:
        return "Someone booked this slot a moment ago. Please pick another time."
    if is_peer and peer_paused_until is not None and peer_paused_until > now:
        return (f"After repeated no-shows, peer mocks can be booked again from "
                f"{peer_paused_until:%Y-%m-%d %H:%M} UTC.")
    return None


def cancellation_refusal(*, now: datetime, starts_at: datetime, is_booked: bool) -> str | None:
    if not is_booked:
        return "This booking is no longer active."
    if starts_at <= now:
        return "The interview has started: it can no longer be cancelled."
    return None


def is_late_cancellation(*, now: datetime, starts_at: datetime) -> bool:
    return starts_at - now < CANCEL_CUTOFF


def reschedule_refusal(*, now: datetime, starts_at: datetime, is_booked: bool) -> str | None:
    refusal = cancellation_refusal(now=now, starts_at=starts_at, is_booked=is_booked)
    if refusal:
        return refusal
    if is_late_cancellation(now=now, starts_at=starts_at):
        hours = int(CANCEL_CUTOFF.total_seconds() // 3600)
        return f"A booking can be moved until {hours} hours before it starts."
    return None


def peer_paused_until(no_shows_at: list[datetime], *, now: datetime) -> datetime | None:
    """When a person may book peer mocks again, or None if they may now: ``NO_SHOW_LIMIT``
    no-shows within ``NO_SHOW_WINDOW`` pause them until ``NO_SHOW_PAUSE`` after the last."""
    recent = sorted(t for t in no_shows_at if now - t <= NO_SHOW_WINDOW)
    if len(recent) < NO_SHOW_LIMIT:
        return None
    until = recent[-1] + NO_SHOW_PAUSE
    return until if until > now else None


def join_open(*, now: datetime, starts_at: datetime, ends_at: datetime) -> bool:
    """Whether the join button is live: from shortly before the start to the end."""
    return starts_at - JOIN_OPENS_BEFORE <= now < ends_at
