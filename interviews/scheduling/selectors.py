"""Scheduling reads: a person's time zone, the open slots to book (in the viewer's time
zone, grouped by day), upcoming bookings with their join state, availability windows, and
each person's attendance record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from interviews.models import RubricStep
from interviews.scheduling import policy
from interviews.scheduling.models import (
    Availability,
    Booking,
    PeerMock,
    PeerScorecard,
    Profile,
    Slot,
)


def time_zone_of(user) -> str:
    if not user.is_authenticated:
        return "UTC"
    return (Profile.objects.filter(user=user).values_list("time_zone", flat=True).first()
            or "UTC")


@dataclass(frozen=True)
class SlotRow:
    slot: Slot
    local_start: datetime
    local_end: datetime


@dataclass(frozen=True)
class SlotDay:
    day: date
    slots: list[SlotRow]


def open_slots(*, viewer, kind: str, case_study=None, now: datetime | None = None,
               limit: int = 200) -> list[SlotDay]:
    """Bookable slots of ``kind`` (not the viewer's own), soonest first, in the viewer's
    time zone, grouped by local day."""
    now = now or timezone.now()
    zone = ZoneInfo(time_zone_of(viewer))
    booked = Booking.objects.filter(slot=OuterRef("pk"), status=Booking.Status.BOOKED)
    slots = (Slot.objects.filter(kind=kind, is_withdrawn=False, starts_at__gt=now,
                                 starts_at__lte=now + policy.BOOKING_HORIZON)
             .exclude(host=viewer).exclude(Exists(booked))
             .select_related("host", "case_study").order_by("starts_at", "id"))
    if case_study is not None and kind == Availability.Kind.PEER:
        # A peer slot's case study is its host's turn: the booker's must be another.
        slots = slots.exclude(case_study=case_study)
    elif case_study is not None:
        slots = slots.filter(Q(case_study=case_study) | Q(case_study__isnull=True))
    rows = [SlotRow(slot=s, local_start=s.starts_at.astimezone(zone),
                    local_end=s.ends_at.astimezone(zone)) for s in slots[:limit]]
    return [SlotDay(day=day, slots=list(group))
            for day, group in groupby(rows, key=lambda row: row.local_start.date())]


@dataclass(frozen=True)
class BookingRow:
    booking: Booking
    role: str  # "candidate" or "host"
    other: object
    local_start: datetime
    local_end: datetime
    join_open: bool
    join_opens_at: datetime  # UTC: the button comes alive then
    can_move: bool


def upcoming_bookings(*, user, now: datetime | None = None) -> list[BookingRow]:
    """``user``'s active bookings that have not ended, as candidate or as host."""
    now = now or timezone.now()
    zone = ZoneInfo(time_zone_of(user))
    bookings = (Booking.objects.filter(Q(candidate=user) | Q(slot__host=user),
                                       status=Booking.Status.BOOKED, slot__ends_at__gt=now)
                .select_related("slot", "slot__host", "candidate", "case_study")
                .order_by("slot__starts_at"))
    return [booking_row(booking=b, user=user, zone=zone, now=now) for b in bookings]


def booking_row(*, booking: Booking, user, zone: ZoneInfo | None = None,
                now: datetime | None = None) -> BookingRow:
    now = now or timezone.now()
    zone = zone or ZoneInfo(time_zone_of(user))
    slot = booking.slot
    is_candidate = booking.candidate_id == user.pk
    return BookingRow(
        booking=booking, role="candidate" if is_candidate else "host",
        other=slot.host if is_candidate else booking.candidate,
        local_start=slot.starts_at.astimezone(zone), local_end=slot.ends_at.astimezone(zone),
        join_open=(booking.status == Booking.Status.BOOKED
                   and policy.join_open(now=now, starts_at=slot.starts_at, ends_at=slot.ends_at)),
        join_opens_at=slot.starts_at - policy.JOIN_OPENS_BEFORE,
        can_move=(is_candidate and policy.reschedule_refusal(
            now=now, starts_at=slot.starts_at,
            is_booked=booking.status == Booking.Status.BOOKED) is None),
    )


def availabilities_of(*, user) -> list[Availability]:
    return list(Availability.objects.filter(owner=user, is_active=True)
                .select_related("case_study")
                .annotate(future_slots=Count("slots", filter=Q(slots__starts_at__gt=timezone.now(),
                                                               slots__is_withdrawn=False)))
                .order_by("date", "weekday", "start_time"))


@dataclass(frozen=True)
class AttendanceRecord:
    completed: int
    no_shows: int
    late_cancellations: int
    peer_paused_until: datetime | None


def attendance_record(*, user, now: datetime | None = None) -> AttendanceRecord:
    """What everyone sees of their own reliability: interviews that took place, no-shows,
    late cancellations, and whether peer bookings are paused."""
    now = now or timezone.now()
    mine = Q(candidate=user) | Q(slot__host=user)
    no_shows = list(Booking.objects.filter(status=Booking.Status.NO_SHOW, no_show_user=user)
                    .values_list("slot__starts_at", flat=True))
    return AttendanceRecord(
        completed=Booking.objects.filter(mine, status=Booking.Status.COMPLETED).count(),
        no_shows=len(no_shows),
        late_cancellations=Booking.objects.filter(is_late_cancellation=True,
                                                  cancelled_by=user).count(),
        peer_paused_until=policy.peer_paused_until(no_shows, now=now),
    )


# --- peer mocks ----------------------------------------------------------------------------------


def peer_mocks_of(*, user) -> list[PeerMock]:
    return list(PeerMock.objects.filter(Q(first=user) | Q(second=user))
                .select_related("first", "second", "first_case_study", "second_case_study",
                                "booking__slot")
                .order_by("-created_at"))


def peer_scorecard_of(*, room) -> PeerScorecard | None:
    return PeerScorecard.objects.filter(room=room).first()


def rubric_steps_of(*, room) -> list[RubricStep]:
    return list(RubricStep.objects.filter(rubric_id=room.session.rubric_id).order_by("number"))


@dataclass(frozen=True)
class PeerTurn:
    number: int
    candidate: object
    interviewer: object
    case_study: object
    room: object | None
    you_are: str  # "candidate" or "interviewer"
    scorecard: PeerScorecard | None  # shown to its author, and to its subject once submitted
    can_write: bool
    can_rate: bool
    rows: list[tuple[int, str, int | None, str]]  # (step, title, level, comment) of the card

    @property
    def ended(self) -> bool:
        return self.room is not None and self.room.state == "ended"


@dataclass(frozen=True)
class PeerMockView:
    mock: PeerMock
    partner: object | None
    turns: list[PeerTurn]
    next_action: str  # "wait", "open_1", "go_1", "open_2", "go_2", "done"


def peer_mock_view(*, mock: PeerMock, user) -> PeerMockView:
    """What the peer mock's page shows ``user``: both turns, who is who, the rooms, the
    peer scorecards they may see (their own writing; about them once submitted), and the
    one button that matters next."""
    cards = {card.room_id: card for card in PeerScorecard.objects.filter(peer_mock=mock)}
    turns = []
    for number in (1, 2):
        candidate, interviewer, case_study = (
            (mock.first, mock.second, mock.first_case_study) if number == 1
            else (mock.second, mock.first, mock.second_case_study))
        room = mock.first_room if number == 1 else mock.second_room
        card = cards.get(room.pk) if room is not None else None
        is_author = interviewer is not None and interviewer.pk == user.pk
        visible = card if card is not None and (is_author or card.submitted_at) else None
        ended = room is not None and room.state == "ended"
        rows = []
        if visible is not None and room.session_id is not None:
            rows = [(step.number, step.title, visible.levels.get(str(step.number)),
                     visible.comments.get(str(step.number), ""))
                    for step in rubric_steps_of(room=room)]
        turns.append(PeerTurn(
            number=number, candidate=candidate, interviewer=interviewer, case_study=case_study,
            room=room, you_are="interviewer" if is_author else "candidate", scorecard=visible,
            can_write=(is_author and ended and room.session_id is not None
                       and (card is None or card.submitted_at is None)),
            can_rate=(not is_author and visible is not None and visible.submitted_at is not None
                      and visible.usefulness is None),
            rows=rows))
    first_room, second_room = mock.first_room, mock.second_room
    if mock.second_id is None:
        action = "wait"
    elif first_room is None:
        action = "open_1"
    elif first_room.state != "ended":
        action = "go_1"
    elif second_room is None:
        action = "open_2"
    elif second_room.state != "ended":
        action = "go_2"
    else:
        action = "done"
    partner = mock.second if mock.first_id == user.pk else mock.first
    return PeerMockView(mock=mock, partner=partner, turns=turns, next_action=action)
