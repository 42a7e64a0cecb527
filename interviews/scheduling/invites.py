"""Calendar invitations: one ``.ics`` event per booking, built with the icalendar library.

The event carries UTC times (``DTSTART:...Z``), so every calendar client shows it in its
own time zone; the UID is stable per booking, and its SEQUENCE grows with each change, so a
client updates or cancels the event it already has rather than adding a second one."""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar, Event, vCalAddress, vText

PRODID = "-//mlsd-mock//scheduling//EN"


def booking_uid(booking_id: int, domain: str) -> str:
    return f"booking-{booking_id}@{domain}"


def calendar_for_booking(*, booking_id: int, domain: str, summary: str, description: str,
                         starts_at: datetime, ends_at: datetime, join_url: str,
                         organizer_email: str, attendees: list[tuple[str, str]],
                         sequence: int = 0, cancelled: bool = False,
                         stamp: datetime | None = None) -> bytes:
    """The ``.ics`` bytes of one booking: METHOD:REQUEST, or METHOD:CANCEL when
    ``cancelled``. ``attendees``: (name, e-mail) pairs."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", booking_uid(booking_id, domain))
    event.add("dtstamp", (stamp or datetime.now(UTC)).astimezone(UTC))
    event.add("dtstart", starts_at.astimezone(UTC))
    event.add("dtend", ends_at.astimezone(UTC))
    event.add("sequence", sequence)
    event.add("summary", summary)
    event.add("description", f"{description}\n\nJoin: {join_url}")
    event.add("url", join_url)
    event.add("location", join_url)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{organizer_email}")
    organizer.params["cn"] = vText("mlsd-mock")
    event["organizer"] = organizer
    for name, email in attendees:
        attendee = vCalAddress(f"mailto:{email}")
        attendee.params["cn"] = vText(name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        event.add("attendee", attendee, encode=0)
    calendar.add_component(event)
    return calendar.to_ical()
