"""Scheduling writes: publishing availability (and its slots), booking, cancelling, moving a
booking, recording attendance, and the e-mails each change sends.

Every booking write runs in a transaction; the race between two people booking one slot is
decided by the database (``one_active_booking_per_slot``), not by a check before the insert.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from celery import current_app
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from interviews.models import CaseStudy
from interviews.scheduling import policy
from interviews.scheduling.invites import calendar_for_booking
from interviews.scheduling.models import Availability, Booking, Profile, Slot
from mlsd_site import roles

logger = logging.getLogger(__name__)

# Slots are materialised this far ahead; a daily task (or the next publish) extends them.
SLOT_HORIZON = timedelta(weeks=4)


class SchedulingRefused(Exception):
    """A scheduling action that is not allowed, with the reason to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- time zones --------------------------------------------------------------------------------


def profile_time_zone_set(*, user, time_zone: str) -> Profile:
    if not policy.time_zone_valid(time_zone):
        raise SchedulingRefused(f"Unknown time zone {time_zone!r}: pick one from the list.")
    profile, _ = Profile.objects.update_or_create(user=user, defaults={"time_zone": time_zone})
    return profile


# --- availability and slots --------------------------------------------------------------------


def _occurrence_dates(availability: Availability, first: date, last: date) -> list[date]:
    if availability.date is not None:
        return [availability.date] if first <= availability.date <= last else []
    offset = (availability.weekday - first.weekday()) % 7
    day, days = first + timedelta(days=offset), []
    while day <= last:
        days.append(day)
        day += timedelta(days=7)
    return days


def _slot_starts(availability: Availability, day: date) -> list[tuple[datetime, datetime]]:
    """The UTC (start, end) of each slot of the window on the local ``day``: the wall-clock
    times are local to the window's time zone, so daylight saving moves the UTC times."""
    zone = ZoneInfo(availability.time_zone)
    length = timedelta(minutes=availability.slot_minutes)
    start = datetime.combine(day, availability.start_time, tzinfo=zone)
    end_of_window = datetime.combine(day, availability.end_time, tzinfo=zone)
    slots = []
    while start + length <= end_of_window:
        slots.append((start.astimezone(ZoneInfo("UTC")),
                      (start + length).astimezone(ZoneInfo("UTC"))))
        start += length
    return slots


def slots_materialize(*, availability: Availability, now: datetime | None = None) -> int:
    """Create the window's future slots up to ``SLOT_HORIZON`` ahead; existing ones are
    kept (safe to repeat). Returns how many were created."""
    now = now or timezone.now()
    zone = ZoneInfo(availability.time_zone)
    first = now.astimezone(zone).date()
    last = (now + SLOT_HORIZON).astimezone(zone).date()
    rows = [
        Slot(availability=availability, host=availability.owner, kind=availability.kind,
             starts_at=start, ends_at=end, case_study=availability.case_study)
        for day in _occurrence_dates(availability, first, last)
        for start, end in _slot_starts(availability, day)
        if start > now
    ]
    before = Slot.objects.filter(availability=availability).count()
    Slot.objects.bulk_create(rows, ignore_conflicts=True)
    return Slot.objects.filter(availability=availability).count() - before


@dataclass(frozen=True)
class WindowInput:
    kind: str
    start_time: time
    end_time: time
    time_zone: str
    weekday: int | None = None
    date: date | None = None
    slot_minutes: int = 60
    case_study: CaseStudy | None = None


def availability_publish(*, owner, window: WindowInput, now: datetime | None = None
                         ) -> Availability:
    """Publish a weekly or one-off window and create its slots."""
    if not policy.time_zone_valid(window.time_zone):
        raise SchedulingRefused(f"Unknown time zone {window.time_zone!r}.")
    if (window.weekday is None) == (window.date is None):
        raise SchedulingRefused("Choose a weekday for a weekly window, or a date for a one-off.")
    if window.end_time <= window.start_time:
        raise SchedulingRefused("The window must end after it starts (on the same day).")
    if window.kind == Availability.Kind.PEER and window.case_study is None:
        raise SchedulingRefused("A peer slot names the case study you will be interviewed on.")
    if not 15 <= window.slot_minutes <= 180:
        raise SchedulingRefused("Slots are between 15 and 180 minutes long.")
    length = (datetime.combine(date.min, window.end_time)
              - datetime.combine(date.min, window.start_time))
    if length < timedelta(minutes=window.slot_minutes):
        raise SchedulingRefused("The window is shorter than one slot.")
    availability = Availability.objects.create(
        owner=owner, kind=window.kind, weekday=window.weekday, date=window.date,
        start_time=window.start_time, end_time=window.end_time, time_zone=window.time_zone,
        slot_minutes=window.slot_minutes, case_study=window.case_study)
    slots_materialize(availability=availability, now=now)
    return availability


def availability_withdraw(*, owner, availability_id: int) -> int:
    """Stop offering a window: its future slots nobody booked are withdrawn (booked ones
    stay). Returns how many were withdrawn."""
    availability = Availability.objects.filter(pk=availability_id, owner=owner).first()
    if availability is None:
        raise SchedulingRefused("No such availability.")
    availability.is_active = False
    availability.save(update_fields=["is_active"])
    return (Slot.objects.filter(availability=availability, starts_at__gt=timezone.now())
            .exclude(bookings__status=Booking.Status.BOOKED)
            .update(is_withdrawn=True))


# --- bookings ----------------------------------------------------------------------------------


def no_show_times(*, user) -> list[datetime]:
    return list(Booking.objects.filter(status=Booking.Status.NO_SHOW, no_show_user=user)
                .values_list("slot__starts_at", flat=True))


def _insert_booking(*, slot: Slot, candidate, case_study: CaseStudy) -> Booking:
    try:
        with transaction.atomic():
            return Booking.objects.create(slot=slot, candidate=candidate, case_study=case_study)
    except IntegrityError:
        # The partial unique index decided: someone else's booking committed first.
        raise SchedulingRefused(
            "Someone booked this slot a moment ago. Please pick another time.") from None


def _check_bookable(*, slot: Slot, candidate, case_study: CaseStudy, now: datetime) -> None:
    if not roles.is_candidate(candidate):
        raise SchedulingRefused("Interviewers publish availability; candidates book it.")
    if slot.kind == Availability.Kind.PEER:
        # The host is interviewed on the slot's case study; the booker on another one.
        if slot.case_study_id is None or slot.case_study_id == case_study.pk:
            raise SchedulingRefused("Pick another case study for your turn: your partner is "
                                    f"interviewed on {slot.case_study}.")
    elif slot.case_study_id is not None and slot.case_study_id != case_study.pk:
        raise SchedulingRefused(f"This slot is for {slot.case_study.title}.")
    paused = (policy.peer_paused_until(no_show_times(user=candidate), now=now)
              if slot.kind == Availability.Kind.PEER else None)
    refusal = policy.booking_refusal(
        now=now, starts_at=slot.starts_at, is_withdrawn=slot.is_withdrawn,
        host_is_candidate=slot.host_id == candidate.pk,
        already_booked=slot.bookings.filter(status=Booking.Status.BOOKED).exists(),
        peer_paused_until=paused, is_peer=slot.kind == Availability.Kind.PEER)
    if refusal:
        raise SchedulingRefused(refusal)


def booking_create(*, candidate, slot_id: int, case_study: CaseStudy,
                   now: datetime | None = None, notify: bool = True) -> Booking:
    """Book ``slot_id`` for ``candidate``. Raises ``SchedulingRefused``."""
    now = now or timezone.now()
    slot = Slot.objects.select_related("case_study").filter(pk=slot_id).first()
    if slot is None:
        raise SchedulingRefused("No such slot.")
    _check_bookable(slot=slot, candidate=candidate, case_study=case_study, now=now)
    with transaction.atomic():
        booking = _insert_booking(slot=slot, candidate=candidate, case_study=case_study)
        if slot.kind == Availability.Kind.PEER:
            from interviews.scheduling.peers import peer_mock_for_booking

            peer_mock_for_booking(booking=booking)
    if notify:
        transaction.on_commit(lambda: booking_emails_enqueue(booking_id=booking.pk,
                                                             change="booked"))
    return booking


def booking_get_for_participant(*, user, booking_id: int) -> Booking:
    booking = (Booking.objects.select_related("slot", "slot__host", "candidate", "case_study")
               .filter(pk=booking_id).first())
    if booking is None or user.pk not in (booking.candidate_id, booking.slot.host_id):
        raise SchedulingRefused("No such booking.")
    return booking


def booking_cancel(*, user, booking_id: int, now: datetime | None = None,
                   notify: bool = True) -> Booking:
    """Cancel a booking (either person may). Late if inside the cut-off: recorded."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = booking_get_for_participant(user=user, booking_id=booking_id)
        booking = Booking.objects.select_for_update().select_related("slot").get(pk=booking.pk)
        refusal = policy.cancellation_refusal(now=now, starts_at=booking.slot.starts_at,
                                              is_booked=booking.status == Booking.Status.BOOKED)
        if refusal:
            raise SchedulingRefused(refusal)
        booking.status = Booking.Status.CANCELLED
        booking.cancelled_at = now
        booking.cancelled_by = user
        booking.is_late_cancellation = policy.is_late_cancellation(
            now=now, starts_at=booking.slot.starts_at)
        booking.save(update_fields=["status", "cancelled_at", "cancelled_by",
                                    "is_late_cancellation"])
    if notify:
        transaction.on_commit(lambda: booking_emails_enqueue(booking_id=booking.pk,
                                                             change="cancelled"))
    return booking


def booking_reschedule(*, user, booking_id: int, new_slot_id: int,
                       now: datetime | None = None, notify: bool = True) -> Booking:
    """Move the candidate's booking to another slot, in one transaction: the old booking is
    released only if the new slot is won."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = booking_get_for_participant(user=user, booking_id=booking_id)
        if booking.candidate_id != user.pk:
            raise SchedulingRefused("Only the candidate who booked can move the booking.")
        booking = Booking.objects.select_for_update().select_related("slot").get(pk=booking.pk)
        refusal = policy.reschedule_refusal(now=now, starts_at=booking.slot.starts_at,
                                            is_booked=booking.status == Booking.Status.BOOKED)
        if refusal:
            raise SchedulingRefused(refusal)
        slot = Slot.objects.select_related("case_study").filter(pk=new_slot_id).first()
        if slot is None or slot.pk == booking.slot_id:
            raise SchedulingRefused("Choose another slot.")
        _check_bookable(slot=slot, candidate=user, case_study=booking.case_study, now=now)
        booking.status = Booking.Status.RESCHEDULED
        booking.cancelled_at = now
        booking.cancelled_by = user
        booking.save(update_fields=["status", "cancelled_at", "cancelled_by"])
        moved = _insert_booking(slot=slot, candidate=user, case_study=booking.case_study)
        booking.rescheduled_to = moved
        booking.save(update_fields=["rescheduled_to"])
    if notify:
        transaction.on_commit(lambda: booking_emails_enqueue(booking_id=booking.pk,
                                                             change="cancelled"))
        transaction.on_commit(lambda: booking_emails_enqueue(booking_id=moved.pk,
                                                             change="booked"))
    return moved


def booking_record_attendance(*, booking_id: int, no_show_user=None) -> Booking:
    """After the slot: it took place, or ``no_show_user`` did not come."""
    booking = Booking.objects.select_related("slot").get(pk=booking_id)
    if booking.status != Booking.Status.BOOKED:
        raise SchedulingRefused("Only an active booking's attendance can be recorded.")
    if no_show_user is not None and no_show_user.pk not in (booking.candidate_id,
                                                            booking.slot.host_id):
        raise SchedulingRefused("Only one of the two people can be a no-show.")
    booking.status = (Booking.Status.NO_SHOW if no_show_user is not None
                      else Booking.Status.COMPLETED)
    booking.no_show_user = no_show_user
    booking.save(update_fields=["status", "no_show_user"])
    return booking


# --- e-mail ------------------------------------------------------------------------------------

SUBJECTS = {
    "booked": "Booked: {what} on {when}",
    "cancelled": "Cancelled: {what} on {when}",
    "reminder": "Reminder: {what} starts {when}",
}


def _local(moment: datetime, user) -> str:
    profile = Profile.objects.filter(user=user).first()
    zone_name = profile.time_zone if profile else "UTC"
    local = moment.astimezone(ZoneInfo(zone_name))
    return f"{local:%A %d %B %Y, %H:%M} ({zone_name})"


def booking_join_url(booking: Booking) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("scheduling:booking",
                                                   kwargs={"booking_id": booking.pk})


def booking_emails_send(*, booking_id: int, change: str) -> int:
    """Send both people an e-mail about ``change`` ("booked", "cancelled", "reminder") with
    the ``.ics`` invitation attached, each with the time in their own time zone. Returns the
    number of messages sent."""
    booking = (Booking.objects.select_related("slot", "slot__host", "candidate", "case_study")
               .get(pk=booking_id))
    slot = booking.slot
    what = (f"Peer mock: {booking.case_study.title}" if slot.kind == Availability.Kind.PEER
            else f"Mock interview: {booking.case_study.title}")
    join_url = booking_join_url(booking)
    people = [booking.candidate, slot.host]
    cancelled = change == "cancelled"
    ics = calendar_for_booking(
        booking_id=booking.pk, domain=settings.SCHEDULING_CALENDAR_DOMAIN, summary=what,
        description=f"{what} on mlsd-mock.", starts_at=slot.starts_at, ends_at=slot.ends_at,
        join_url=join_url,
        organizer_email=parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "noreply@localhost",
        attendees=[(p.get_full_name() or p.get_username(), p.email) for p in people if p.email],
        sequence=1 if cancelled else 0, cancelled=cancelled)
    sent = 0
    for person in people:
        if not person.email:
            logger.info("booking %s: %s has no e-mail address", booking.pk, person)
            continue
        when = _local(slot.starts_at, person)
        other = slot.host if person == booking.candidate else booking.candidate
        body = (f"Hello {person.get_username()},\n\n{what} with {other.get_username()} "
                f"{'was cancelled' if cancelled else 'is'} on {when}.\n\n"
                + ("" if cancelled else f"Join here when it is time: {join_url}\n\n")
                + "The attached invitation adds it to your calendar.\n")
        message = EmailMessage(subject=SUBJECTS[change].format(what=what, when=when), body=body,
                               to=[person.email])
        message.attach("invite.ics", ics,
                       f"text/calendar; method={'CANCEL' if cancelled else 'REQUEST'}")
        sent += message.send()
    return sent


EMAIL_TASK = "interviews.send_booking_emails"


def booking_emails_enqueue(*, booking_id: int, change: str) -> None:
    """Queue the e-mails of a change: a worker sends them and retries while the mail server
    is unreachable, so a booking never fails on its e-mail. Looked up by name in Celery's
    registry: tasks call services, services never import the tasks module."""
    current_app.tasks[EMAIL_TASK].delay(booking_id, change)


def booking_reminders_send(*, now: datetime | None = None) -> int:
    """Send the reminder of every active booking starting within
    ``SCHEDULING_REMINDER_MINUTES``, once: the row is claimed with a conditional UPDATE, so
    two beats (or a retried task) never send it twice."""
    now = now or timezone.now()
    soon = now + timedelta(minutes=settings.SCHEDULING_REMINDER_MINUTES)
    due = list(Booking.objects.filter(status=Booking.Status.BOOKED, reminder_sent_at=None,
                                      slot__starts_at__gt=now, slot__starts_at__lte=soon)
               .values_list("pk", flat=True))
    sent = 0
    for booking_id in due:
        claimed = Booking.objects.filter(pk=booking_id, reminder_sent_at=None).update(
            reminder_sent_at=now)
        if claimed:
            booking_emails_enqueue(booking_id=booking_id, change="reminder")
            sent += 1
    return sent


# --- joining -----------------------------------------------------------------------------------


def booking_join(*, user, booking_id: int, now: datetime | None = None) -> str:
    """Where ``user`` goes to join their booking at its time: the candidate opens the live
    room (its interviewer is the slot's host); the interviewer goes to its console once the
    candidate is in. Raises ``SchedulingRefused`` before the join opens, after the slot, or
    while the candidate has not opened the room yet."""
    from interviews.live import services as live

    now = now or timezone.now()
    booking = booking_get_for_participant(user=user, booking_id=booking_id)
    slot = booking.slot
    if booking.status != Booking.Status.BOOKED:
        raise SchedulingRefused("This booking is no longer active.")
    if not policy.join_open(now=now, starts_at=slot.starts_at, ends_at=slot.ends_at):
        opens = slot.starts_at - policy.JOIN_OPENS_BEFORE
        if now < opens:
            raise SchedulingRefused(f"You can join from {opens:%H:%M} UTC, ten minutes "
                                    f"before the start.")
        raise SchedulingRefused("This slot is over.")
    # Who came: what the attendance sweep reads once the slot is over.
    joined = "candidate_joined_at" if user.pk == booking.candidate_id else "host_joined_at"
    Booking.objects.filter(pk=booking.pk, **{f"{joined}__isnull": True}).update(**{joined: now})
    if slot.kind == Availability.Kind.PEER:
        # Two turns, two rooms: the peer mock's page opens each in its turn.
        return reverse("scheduling:peer", kwargs={"peer_mock_id": booking.peer_mock.pk})
    if user.pk == booking.candidate_id:
        room, _ = live.room_open(candidate=user, case_study=booking.case_study)
        if room.interviewer_id != slot.host_id:
            room = live.room_claim(room_id=room.pk, interviewer=slot.host)
        if booking.live_room_id != room.pk:
            Booking.objects.filter(pk=booking.pk).update(live_room=room)
        return room.get_absolute_url()
    if booking.live_room_id is None:
        raise SchedulingRefused("The candidate has not opened the room yet: this page will "
                                "let you in as soon as they do.")
    return reverse("live:console", kwargs={"room_id": booking.live_room_id})


# After a slot this long, a booking's attendance is settled from who joined.
ATTENDANCE_GRACE = timedelta(minutes=15)


def bookings_settle_attendance(*, now: datetime | None = None) -> int:
    """Record each active booking whose slot ended ``ATTENDANCE_GRACE`` ago: completed when
    both people joined (the Join button, which every way into the interview goes through),
    else a no-show of the one who did not (neither: a no-show on nobody's record). Safe to
    repeat: only bookings still active are settled, each under its row lock."""
    now = now or timezone.now()
    due = list(Booking.objects.filter(status=Booking.Status.BOOKED,
                                      slot__ends_at__lte=now - ATTENDANCE_GRACE)
               .values_list("pk", flat=True))
    settled = 0
    for booking_id in due:
        with transaction.atomic():
            booking = (Booking.objects.select_for_update(of=("self",)).select_related("slot")
                       .filter(pk=booking_id, status=Booking.Status.BOOKED).first())
            if booking is None:
                continue
            came = {booking.candidate_id: booking.candidate_joined_at is not None,
                    booking.slot.host_id: booking.host_joined_at is not None}
            absent = [user_id for user_id, here in came.items() if not here]
            if not absent:
                booking.status = Booking.Status.COMPLETED
            else:
                booking.status = Booking.Status.NO_SHOW
                booking.no_show_user_id = absent[0] if len(absent) == 1 else None
            booking.save(update_fields=["status", "no_show_user"])
            settled += 1
    return settled

